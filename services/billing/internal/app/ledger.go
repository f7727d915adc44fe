package app

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/billing/internal/store"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// SetPeriod opens or closes a period of a legal entity ("YYYY-MM") and publishes the change.
// Doing it again changes nothing.
func (s *Service) SetPeriod(ctx context.Context, legalEntityID, period string, closed bool) (p store.Period, err error) {
	status, evType, action := "OPEN", wire.EventPeriodOpened, "period.opened"
	if closed {
		status, evType, action = "CLOSED", wire.EventPeriodClosed, "period.closed"
	}
	err = pg.InTx(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := store.GetLegalEntity(ctx, tx, legalEntityID); err != nil {
			return err
		}
		var changed bool
		p, changed, err = store.SetPeriod(ctx, tx, legalEntityID, period, status, auth.Actor(ctx))
		if err != nil || !changed {
			return err
		}
		if _, err := s.outbox.Enqueue(ctx, tx, outbox.Event{Stream: wire.Stream, Type: evType, Subject: legalEntityID,
			Payload: &billingv1.PeriodChanged{Period: wire.Period(p.LegalEntityID, p.Period, p.Status, p.ChangedBy, p.ChangedAt)}}); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Record{Action: action, EntityType: "period", EntityID: legalEntityID + "/" + period})
	})
	return p, err
}

// ListPeriods returns a legal entity's explicit periods.
func (s *Service) ListPeriods(ctx context.Context, legalEntityID string) ([]store.Period, error) {
	return store.ListPeriods(ctx, s.pool, legalEntityID)
}

// ListAccounts returns a legal entity's chart of accounts.
func (s *Service) ListAccounts(ctx context.Context, legalEntityID string) ([]store.Account, error) {
	if _, err := store.GetLegalEntity(ctx, s.pool, legalEntityID); err != nil {
		return nil, err
	}
	return store.ListAccounts(ctx, s.pool, legalEntityID)
}

// SetExchangeRate records a rate and posts what was parked waiting for it.
func (s *Service) SetExchangeRate(ctx context.Context, from, to string, d civil.Date, rate decimal.Decimal) error {
	return pg.InTx(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		if err := store.SetExchangeRate(ctx, tx, from, to, d, rate); err != nil {
			return err
		}
		if err := audit.Write(ctx, tx, audit.Record{Action: "exchange_rate.set", EntityType: "exchange_rate", EntityID: from + "/" + to,
			Details: map[string]any{"date": d.String(), "rate": rate.String()}}); err != nil {
			return err
		}
		_, err := s.Repost(ctx, tx, "exchange_rate", from+"/"+to)
		return err
	})
}

// TrialBalance returns debit and credit totals per account.
func (s *Service) TrialBalance(ctx context.Context, legalEntityID, period string) ([]store.BalanceLine, string, error) {
	le, err := store.GetLegalEntity(ctx, s.pool, legalEntityID)
	if err != nil {
		return nil, "", err
	}
	lines, err := store.TrialBalance(ctx, s.pool, legalEntityID, period)
	return lines, le.FunctionalCurrency, err
}

// JournalEntries lists journal entries.
func (s *Service) JournalEntries(ctx context.Context, f store.JournalFilter) ([]store.JournalEntry, error) {
	return store.ListJournalEntries(ctx, s.pool, f)
}

// Candidates lists invoice candidates.
func (s *Service) Candidates(ctx context.Context, projectID, sourceID, afterID string, limit int) ([]store.CandidateRow, error) {
	return store.ListCandidates(ctx, s.pool, projectID, sourceID, afterID, limit)
}

// GaugeKPIs returns the KPIs cheap enough to sample every few seconds: entries rejected for
// closed periods and parked postings.
func (s *Service) GaugeKPIs(ctx context.Context) (rejected, parked int64, err error) {
	if rejected, err = store.CountRejectedClosedPeriod(ctx, s.pool); err != nil {
		return 0, 0, err
	}
	parked, err = store.ParkedCount(ctx, s.pool, "", "")
	return rejected, parked, err
}

// KPIs returns billing's business KPIs.
func (s *Service) KPIs(ctx context.Context) (store.KPIs, error) { return store.ReadKPIs(ctx, s.pool) }

// Sweep re-drives every parked posting (a safety net behind the event-driven re-drives).
func (s *Service) Sweep(ctx context.Context) {
	err := pg.InTx(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		_, err := s.Repost(ctx, tx, "", "")
		return err
	})
	if err != nil && ctx.Err() == nil {
		s.log.WarnContext(ctx, "parked postings sweep failed", "err", err)
	}
}
