package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/services/billing/internal/ledger"
)

// PostedCosts returns the posted, unreversed time entries of a resource, with
// the labor cost each carries now (its original entry plus its cost adjustments), locked against
// a concurrent re-cost of the same entries.
func (s *Store) PostedCosts(ctx context.Context, resourceID string) ([]ledger.PostedCost, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT r.source_id, r.source_version, e.id::text, r.project_id::text, COALESCE(l.task_id::text, ''),
			r.source_date, r.hours, l.txn_currency,
			(SELECT COALESCE(sum(jl.debit - jl.credit), 0) FROM journal_entries je JOIN journal_lines jl ON jl.entry_id = je.id
				WHERE jl.account_code = $2 AND (je.id = e.id OR (je.source_type = $3 AND je.source_id = r.source_id))),
			(SELECT COALESCE(sum(jl.txn_amount), 0) FROM journal_entries je JOIN journal_lines jl ON jl.entry_id = je.id
				WHERE jl.account_code = $2 AND jl.txn_currency = l.txn_currency AND (je.id = e.id OR (je.source_type = $3 AND je.source_id = r.source_id)))
		FROM posting_results r
		JOIN journal_entries e ON e.id = r.journal_entry_id
		JOIN journal_lines l ON l.entry_id = e.id AND l.account_code = $2
		WHERE r.source_type = 'time_entry' AND r.outcome = 'POSTED' AND r.resource_id = $1::uuid
		  AND r.hours IS NOT NULL
		ORDER BY r.source_date, r.source_id
		FOR UPDATE OF r`, resourceID, ledger.LaborCost, ledger.SourceCostAdjustment)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (ledger.PostedCost, error) {
		p := ledger.PostedCost{ResourceID: resourceID}
		var d time.Time
		err := row.Scan(&p.SourceID, &p.Version, &p.EntryID, &p.ProjectID, &p.TaskID, &d, &p.Hours, &p.TxnCost.Currency, &p.Cost, &p.TxnCost.Value)
		p.Date = civil.Of(d)
		return p, err
	})
}
