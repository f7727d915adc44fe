package app

import (
	"context"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/services/billing/internal/ledger"
)

// equip gives a loaded book what posting, re-costing and re-rating all need besides its rows:
// exchange rates read on demand (each pair and date once per book) and fresh entry ids. The
// returned function reports the first exchange-rate read error, to check once the book's work
// is done (a failed read looks like a missing rate to the ledger, which must not be written).
func (s *Service) equip(ctx context.Context, book *ledger.Book) (fxErr func() error) {
	rates := map[string]decimal.Decimal{}
	var readErr error
	book.FX = func(from, to string, d civil.Date) (decimal.Decimal, bool) {
		k := from + to + d.String()
		if r, ok := rates[k]; ok {
			return r, !r.IsZero()
		}
		r, ok, err := s.store.ExchangeRate(ctx, from, to, d)
		if err != nil && readErr == nil {
			readErr = err
		}
		rates[k] = r
		return r, ok
	}
	book.NewID = func() string { return uuid.Must(uuid.NewV7()).String() }
	return func() error { return readErr }
}
