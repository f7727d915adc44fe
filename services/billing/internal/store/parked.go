package store

import (
	"context"
	"encoding/json"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/ledger"
)

// Parked postings wait in parked_postings for what they miss (a rate, an exchange rate, a
// project's contract); the platform's exceptions table holds one open exception per missing
// thing (app.KindParked), which ReleasedParked matches against what still waits.

// Parked returns parked sources, optionally those waiting for one kind and key (a key ending in
// "/" matches as a prefix), at most limit.
func (s *Store) Parked(ctx context.Context, kind, key string, limit int) ([]ledger.Source, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT source FROM parked_postings
		WHERE ($1 = '' OR missing_kind = $1) AND ($2 = '' OR missing_key = $2 OR (right($2, 1) = '/' AND starts_with(missing_key, $2)))
		ORDER BY parked_at LIMIT $3`, kind, key, limit)
	if err != nil {
		return nil, err
	}
	return decodeRows(rows, decodeSource)
}

// ParkedCount counts parked sources of a kind and key ("" = any).
func (s *Store) ParkedCount(ctx context.Context, kind, key string) (int64, error) {
	var n int64
	err := s.Q(ctx).QueryRow(ctx, `SELECT count(*) FROM parked_postings WHERE ($1 = '' OR missing_kind = $1) AND ($2 = '' OR missing_key = $2)`, kind, key).Scan(&n)
	return n, err
}

// ReleasedParked returns what the open exceptions of exceptionKind (one per missing thing, its
// entity the missing kind and key; only those of missing kind when kind is not "") wait for and
// no parked posting waits for any more: the exceptions to resolve.
func (s *Store) ReleasedParked(ctx context.Context, exceptionKind, kind string) ([]ledger.Missing, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT DISTINCT e.entity_type, e.entity_id FROM exceptions e
		WHERE e.kind = $1 AND e.status = 'OPEN' AND ($2 = '' OR e.entity_type = $2)
		  AND NOT EXISTS (SELECT 1 FROM parked_postings p WHERE p.missing_kind = e.entity_type AND p.missing_key = e.entity_id)`,
		exceptionKind, kind)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ledger.Missing, error) {
		var m ledger.Missing
		return m, r.Scan(&m.Kind, &m.Key)
	})
}

// encodeSource and decodeSource keep parked sources (parked_postings.source).
func encodeSource(s ledger.Source) ([]byte, error) { return json.Marshal(sourceJSON(s)) }

// decodeSource reverses encodeSource.
func decodeSource(b []byte) (ledger.Source, error) {
	var j jsonSource
	if err := json.Unmarshal(b, &j); err != nil {
		return ledger.Source{}, err
	}
	d, err := civil.Parse(j.Date)
	if err != nil {
		return ledger.Source{}, err
	}
	return ledger.Source{Type: j.Type, ID: j.ID, Version: j.Version, ResourceID: j.ResourceID, ProjectID: j.ProjectID, TaskID: j.TaskID,
		Date: d, Hours: j.Hours, Amount: money.Amount{Value: j.Amount, Currency: j.Currency}, Billable: j.Billable,
		ReversesID: j.ReversesID, Timesheet: j.Timesheet, Desc: j.Desc}, nil
}

type jsonSource struct {
	Type, ID   string
	Version    int64
	ResourceID string
	ProjectID  string
	TaskID     string
	Date       string
	Hours      decimal.Decimal
	Amount     decimal.Decimal
	Currency   string
	Billable   bool
	ReversesID string
	Timesheet  string
	Desc       string
}

func sourceJSON(s ledger.Source) jsonSource {
	return jsonSource{Type: s.Type, ID: s.ID, Version: s.Version, ResourceID: s.ResourceID, ProjectID: s.ProjectID, TaskID: s.TaskID,
		Date: s.Date.String(), Hours: s.Hours, Amount: s.Amount.Value, Currency: s.Amount.Currency, Billable: s.Billable,
		ReversesID: s.ReversesID, Timesheet: s.Timesheet, Desc: s.Desc}
}
