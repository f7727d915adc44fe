package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/ledger"
)

// ReadKPIs computes the KPIs. Rejected timesheets are counted as distinct resource-weeks.
func (s *Store) ReadKPIs(ctx context.Context, only []string) (ledger.KPIs, error) {
	q := s.Q(ctx)
	var k ledger.KPIs
	rows, err := q.Query(ctx, `SELECT c.currency_code, sum(c.amount) FROM invoice_candidates c
		WHERE c.status = 'OPEN' AND c.source_type = 'time_entry'
		  AND ($1::text[] IS NULL OR EXISTS (SELECT 1 FROM project_replicas p
		       WHERE p.project_id = c.project_id AND p.legal_entity_id::text = ANY($1::text[])))
		GROUP BY c.currency_code ORDER BY c.currency_code`, only)
	if err != nil {
		return k, err
	}
	k.UnbilledTime, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (money.Amount, error) {
		var a money.Amount
		return a, r.Scan(&a.Currency, &a.Value)
	})
	if err != nil {
		return k, err
	}
	err = q.QueryRow(ctx, `SELECT count(*) FILTER (WHERE outcome = 'REJECTED_CLOSED_PERIOD'),
			count(DISTINCT (resource_id, date_trunc('week', source_date))) FILTER (WHERE outcome = 'REJECTED_CLOSED_PERIOD'),
			(SELECT count(*) FROM parked_postings WHERE $1::text[] IS NULL),
			(SELECT count(*) FROM journal_entries WHERE $1::text[] IS NULL OR legal_entity_id::text = ANY($1::text[]))
		FROM posting_results r WHERE outcome = 'REJECTED_CLOSED_PERIOD'
		  AND ($1::text[] IS NULL OR EXISTS (SELECT 1 FROM project_replicas p
		       WHERE p.project_id = r.project_id AND p.legal_entity_id::text = ANY($1::text[])))`, only).Scan(&k.EntriesRejectedClosedPeriod, &k.TimesheetsRejectedClosedPeriod, &k.ParkedRateMissing, &k.JournalEntries)
	if err != nil {
		return k, err
	}
	err = q.QueryRow(ctx, `SELECT count(*) FROM invoices WHERE status = 'BLOCKED_TAX'
		AND ($1::text[] IS NULL OR legal_entity_id::text = ANY($1::text[]))`, only).Scan(&k.InvoicesBlockedTax)
	if err != nil {
		return k, err
	}
	err = q.QueryRow(ctx, `SELECT count(DISTINCT contract_id) FROM (SELECT DISTINCT ON (contract_id, line_key) contract_id, legal_entity_id, loss_contract
		FROM revenue_recognitions ORDER BY contract_id, line_key, period DESC) r
		WHERE loss_contract AND ($1::text[] IS NULL OR legal_entity_id::text = ANY($1::text[]))`, only).Scan(&k.LossContracts)
	return k, err
}

// CountRejectedClosedPeriod counts the entries whose posting was rejected for a closed period
// (cheap: a partial index), for the periodic KPI gauge.
func (s *Store) CountRejectedClosedPeriod(ctx context.Context) (int64, error) {
	var n int64
	err := s.Q(ctx).QueryRow(ctx, `SELECT count(*) FROM posting_results WHERE outcome = 'REJECTED_CLOSED_PERIOD'`).Scan(&n)
	return n, err
}
