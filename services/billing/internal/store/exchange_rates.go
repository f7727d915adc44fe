package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/services/billing/internal/ledger"
)

// ExchangeRate returns the rate from → to on date d (the latest one on or before d).
func (s *Store) ExchangeRate(ctx context.Context, from, to string, d civil.Date) (decimal.Decimal, bool, error) {
	var r decimal.Decimal
	err := s.Q(ctx).QueryRow(ctx, `SELECT rate FROM exchange_rates WHERE from_currency = $1 AND to_currency = $2 AND rate_date <= $3
		ORDER BY rate_date DESC LIMIT 1`, from, to, d.Time()).Scan(&r)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, false, nil
	}
	return r, err == nil, err
}

// SetExchangeRate records a rate (replacing the pair's rate of that date).
func (s *Store) SetExchangeRate(ctx context.Context, r ledger.ExchangeRate) error {
	_, err := s.Q(ctx).Exec(ctx, `INSERT INTO exchange_rates (from_currency, to_currency, rate_date, rate) VALUES ($1, $2, $3, $4)
		ON CONFLICT (from_currency, to_currency, rate_date) DO UPDATE SET rate = EXCLUDED.rate`, r.From, r.To, r.Date.Time(), r.Rate)
	return err
}
