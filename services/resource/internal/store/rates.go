package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/services/resource/internal/resource"
)

// Cost rates are never updated in place: a change supersedes the rows it overlaps and inserts
// the new timeline's pieces (see the migration).

const rateColumns = `id, rate, currency_code, effective_from, effective_to, reason, recorded_at`

// scanRate scans rateColumns, then extra.
func scanRate(row pgx.CollectableRow, extra ...any) (resource.Rate, error) {
	var r resource.Rate
	var from time.Time
	var to *time.Time
	err := row.Scan(append([]any{&r.ID, &r.Rate.Value, &r.Rate.Currency, &from, &to, &r.Reason, &r.RecordedAt}, extra...)...)
	r.From = civil.Of(from)
	if to != nil {
		r.To = civil.Of(*to)
	}
	return r, err
}

// CurrentRates returns the resource's current cost-rate timeline, ordered by start.
func (s *Store) CurrentRates(ctx context.Context, resourceID string) (resource.Timeline, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT `+rateColumns+` FROM cost_rates
		WHERE resource_id = $1 AND superseded_at IS NULL ORDER BY effective_from`, resourceID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (resource.Rate, error) { return scanRate(row) })
}

// RateHistory returns the superseded periods, newest first.
func (s *Store) RateHistory(ctx context.Context, resourceID string) ([]resource.HistoricRate, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT `+rateColumns+`, superseded_at
		FROM cost_rates WHERE resource_id = $1 AND superseded_at IS NOT NULL ORDER BY superseded_at DESC, effective_from`, resourceID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (resource.HistoricRate, error) {
		var h resource.HistoricRate
		var err error
		h.Rate, err = scanRate(row, &h.SupersededAt)
		return h, err
	})
}

// ApplyRates supersedes the stored periods in superseded and inserts the periods of next that are
// not stored yet (ID 0). It bumps and returns the resource's rates version.
func (s *Store) ApplyRates(ctx context.Context, resourceID string, superseded []int64, next resource.Timeline, now time.Time) (int64, error) {
	q := s.Q(ctx)
	if len(superseded) > 0 {
		if _, err := q.Exec(ctx, `UPDATE cost_rates SET superseded_at = $2 WHERE id = ANY($1) AND superseded_at IS NULL`, superseded, now); err != nil {
			return 0, err
		}
	}
	for _, r := range next {
		if r.ID != 0 {
			continue
		}
		var to *time.Time
		if !r.To.IsZero() {
			t := r.To.Time()
			to = &t
		}
		if _, err := q.Exec(ctx, `INSERT INTO cost_rates (resource_id, rate, currency_code, effective_from, effective_to, reason, recorded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, resourceID, r.Rate.Value, r.Rate.Currency, r.From.Time(), to, r.Reason, now); err != nil {
			return 0, err
		}
	}
	var v int64
	err := q.QueryRow(ctx, `UPDATE resources SET rates_version = rates_version + 1 WHERE id = $1 RETURNING rates_version`, resourceID).Scan(&v)
	return v, err
}
