package app

import (
	"context"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/services/billing/internal/ledger"
)

// SetExchangeRate records a rate and posts what was parked waiting for it (postings, and
// supplier bill lines through new allocation requests).
func (s *Service) SetExchangeRate(ctx context.Context, r ledger.ExchangeRate) error {
	if err := r.Validate(); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.SetExchangeRate(ctx, r); err != nil {
			return err
		}
		if err := s.store.Audit(ctx, audit.Record{Action: "exchange_rate.set", EntityType: "exchange_rate", EntityID: r.From + "/" + r.To,
			Details: map[string]any{"date": r.Date.String(), "rate": r.Rate.String()}}); err != nil {
			return err
		}
		if _, err := s.Repost(ctx, "exchange_rate", r.From+"/"+r.To); err != nil {
			return err
		}
		return s.redriveParkedSupplierLines(ctx, r.From, r.To)
	})
}
