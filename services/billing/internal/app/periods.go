package app

import (
	"context"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// SetPeriod opens or closes a period of a legal entity ("YYYY-MM") and publishes the change.
// Doing it again changes nothing. Postings dated in a closed period are rejected or rolled
// forward by the legal entity's policy.
func (s *Service) SetPeriod(ctx context.Context, legalEntityID, period string, closed bool) (p ledger.Period, err error) {
	if err := auth.CheckLegalEntity(ctx, legalEntityID); err != nil {
		return p, err
	}
	status, evType := ledger.PeriodOpen, billingv1.EventTypePeriodOpened
	if closed {
		status, evType = ledger.PeriodClosed, billingv1.EventTypePeriodClosed
	}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.store.LegalEntity(ctx, legalEntityID); err != nil {
			return err
		}
		var changed bool
		p, changed, err = s.store.SetPeriod(ctx, legalEntityID, period, status, auth.Actor(ctx))
		if err != nil || !changed {
			return err
		}
		if err := s.store.Publish(ctx, outbox.Event{Stream: billingv1.EventStream, Type: evType, Subject: legalEntityID,
			Payload: wire.PeriodChanged(p, legalEntityID)}); err != nil {
			return err
		}
		return s.store.Audit(ctx, audit.Record{Action: evType, EntityType: "period", EntityID: legalEntityID + "/" + period})
	})
	return p, err
}

// ListPeriods returns a legal entity's explicit periods.
func (s *Service) ListPeriods(ctx context.Context, legalEntityID string) ([]ledger.Period, error) {
	if err := auth.CheckLegalEntity(ctx, legalEntityID); err != nil {
		return nil, err
	}
	return s.store.ListPeriods(ctx, legalEntityID)
}
