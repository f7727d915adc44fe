package app

import (
	"context"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/periodclose"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// ScopeFinance is the scope of the principals who may post (invoices) in a soft-closed period.
const ScopeFinance = "billing:finance"

// CloseChecklist evaluates the close checklist of a legal entity's period (see periodclose).
func (s *Service) CloseChecklist(ctx context.Context, legalEntityID, period string) (periodclose.Checklist, error) {
	if err := auth.CheckLegalEntity(ctx, legalEntityID); err != nil {
		return periodclose.Checklist{}, err
	}
	if _, err := s.store.LegalEntity(ctx, legalEntityID); err != nil {
		return periodclose.Checklist{}, err
	}
	f, err := s.store.CloseFacts(ctx, legalEntityID, period)
	if err != nil {
		return periodclose.Checklist{}, err
	}
	return periodclose.Evaluate(legalEntityID, period, f), nil
}

// WaiveCloseItem waives a checklist item of a period with a reason (audited) and returns the
// checklist.
func (s *Service) WaiveCloseItem(ctx context.Context, legalEntityID, period, item, reason string) (c periodclose.Checklist, err error) {
	it, ok := periodclose.ParseItem(item)
	if !ok || !periodclose.Waivable(it) {
		return c, periodclose.ErrNotWaivable.With("item "+item+" cannot be waived", "item", item)
	}
	if reason == "" {
		return c, periodclose.ErrWaiverReason
	}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if err := auth.CheckLegalEntity(ctx, legalEntityID); err != nil {
			return err
		}
		if _, err := s.store.LegalEntity(ctx, legalEntityID); err != nil {
			return err
		}
		if err := s.store.WaiveCloseItem(ctx, legalEntityID, period, it, reason, auth.Actor(ctx)); err != nil {
			return err
		}
		if err := s.store.Audit(ctx, audit.Record{Action: "period.close_item_waived", EntityType: "period", EntityID: legalEntityID + "/" + period,
			Details: map[string]any{"item": item}, Reason: reason}); err != nil {
			return err
		}
		c, err = s.CloseChecklist(ctx, legalEntityID, period)
		return err
	})
	return c, err
}

// ClosePeriod hard-closes a period once its close checklist passes (CLOSE_CHECKLIST_FAILED,
// naming the failing items, otherwise), and publishes period.closed. Closing a closed period
// again changes nothing.
func (s *Service) ClosePeriod(ctx context.Context, legalEntityID, period string) (p ledger.Period, err error) {
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if err := auth.CheckLegalEntity(ctx, legalEntityID); err != nil {
			return err
		}
		periods, err := s.store.ListPeriods(ctx, legalEntityID)
		if err != nil {
			return err
		}
		for _, x := range periods {
			if x.Period == period && x.Status == ledger.PeriodClosed {
				p = x
				return nil
			}
		}
		c, err := s.CloseChecklist(ctx, legalEntityID, period)
		if err != nil {
			return err
		}
		if err := c.Err(); err != nil {
			return err
		}
		p, err = s.setPeriod(ctx, legalEntityID, period, ledger.PeriodClosed, "")
		return err
	})
	return p, err
}

// OpenPeriod opens a period explicitly; an open one stays as it is. A closed or soft-closed
// period is refused (PERIOD_REOPEN_REQUIRED): reopening is ReopenPeriod's, with its own scope.
func (s *Service) OpenPeriod(ctx context.Context, legalEntityID, period string) (p ledger.Period, err error) {
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if err := auth.CheckLegalEntity(ctx, legalEntityID); err != nil {
			return err
		}
		st, err := s.periodStatus(ctx, legalEntityID, period)
		if err != nil {
			return err
		}
		if st != ledger.PeriodOpen {
			return periodclose.ErrReopenScope.With("period "+period+" is "+string(st)+"; reopen it with ReopenPeriod (scope periods:reopen)", "period", period)
		}
		p, err = s.setPeriod(ctx, legalEntityID, period, ledger.PeriodOpen, "")
		return err
	})
	return p, err
}

// SoftClosePeriod soft-closes an open period: automated postings treat it as closed (the legal
// entity's late-entry policy applies) and only finance posts invoices in it. A closed period is
// refused (PERIOD_CLOSED): reopen it first.
func (s *Service) SoftClosePeriod(ctx context.Context, legalEntityID, period string) (p ledger.Period, err error) {
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if err := auth.CheckLegalEntity(ctx, legalEntityID); err != nil {
			return err
		}
		st, err := s.periodStatus(ctx, legalEntityID, period)
		if err != nil {
			return err
		}
		if st == ledger.PeriodClosed {
			return periodclose.ErrPeriodClosed.With("period "+period+" is closed; reopen it first", "period", period)
		}
		p, err = s.setPeriod(ctx, legalEntityID, period, ledger.PeriodSoftClosed, "")
		return err
	})
	return p, err
}

// ReopenPeriod reopens a closed or soft-closed period (its own scope, periods:reopen, checked by
// the transport) with an audit record carrying the reason, and publishes period.opened.
func (s *Service) ReopenPeriod(ctx context.Context, legalEntityID, period, reason string) (p ledger.Period, err error) {
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if err := auth.CheckLegalEntity(ctx, legalEntityID); err != nil {
			return err
		}
		st, err := s.periodStatus(ctx, legalEntityID, period)
		if err != nil {
			return err
		}
		if st != ledger.PeriodClosed && st != ledger.PeriodSoftClosed {
			return periodclose.ErrNotClosed.With("period "+period+" is open", "period", period)
		}
		p, err = s.setPeriod(ctx, legalEntityID, period, ledger.PeriodOpen, reason)
		return err
	})
	return p, err
}

// periodStatus is the status of a period of an existing legal entity (open when never set).
func (s *Service) periodStatus(ctx context.Context, legalEntityID, period string) (ledger.PeriodStatus, error) {
	if _, err := s.store.LegalEntity(ctx, legalEntityID); err != nil {
		return "", err
	}
	periods, err := s.store.ListPeriods(ctx, legalEntityID)
	if err != nil {
		return "", err
	}
	for _, x := range periods {
		if x.Period == period {
			return x.Status, nil
		}
	}
	return ledger.PeriodOpen, nil
}

// setPeriod records status in the ambient transaction and, when it changed, publishes
// period.closed (closed), period.opened (open) or nothing more than the audit record (soft
// closed: the time & expense replica keeps it open, billing treats it as closed).
func (s *Service) setPeriod(ctx context.Context, legalEntityID, period string, status ledger.PeriodStatus, reason string) (ledger.Period, error) {
	p, changed, err := s.store.SetPeriod(ctx, legalEntityID, period, status, auth.Actor(ctx))
	if err != nil || !changed {
		return p, err
	}
	action := "period.soft_closed"
	switch status {
	case ledger.PeriodClosed:
		action = billingv1.EventTypePeriodClosed
	case ledger.PeriodOpen:
		action = billingv1.EventTypePeriodOpened
	}
	if status != ledger.PeriodSoftClosed {
		if err := s.store.Publish(ctx, outbox.Event{Stream: billingv1.EventStream, Type: action, Subject: legalEntityID,
			Payload: &billingv1.PeriodChanged{Period: wire.Period(p)}}); err != nil {
			return p, err
		}
	}
	if reason != "" {
		action = "period.reopened"
	}
	return p, s.store.Audit(ctx, audit.Record{Action: action, EntityType: "period", EntityID: legalEntityID + "/" + period, Reason: reason})
}
