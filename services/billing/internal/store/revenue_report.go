package store

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/revenue"
)

// lineContract is the contract a journal line (l, of entry e) belongs to: its project's, or the
// one the recognition run named in the entry's source id; NULL when neither.
const lineContract = `COALESCE(p.contract_id::text, CASE WHEN e.source_type IN ('` + revenue.SourceRecognition + `', '` +
	revenue.SourcePosition + `') THEN split_part(e.source_id, '/', 1) END)`

// LedgerSlices sums a legal entity's revenue and cost posted from..to per project and contract.
func (s *Store) LedgerSlices(ctx context.Context, legalEntityID string, from, to civil.Date) ([]revenue.LedgerSlice, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT COALESCE(l.project_id::text, ''), COALESCE(`+lineContract+`, ''),
			COALESCE(sum(l.credit - l.debit) FILTER (WHERE l.account_code IN ($4, $5)), 0),
			COALESCE(sum(l.debit - l.credit) FILTER (WHERE l.account_code = $6), 0),
			COALESCE(sum(l.debit - l.credit) FILTER (WHERE l.account_code = $7), 0),
			COALESCE(sum(l.debit - l.credit) FILTER (WHERE l.account_code = $8), 0)
		FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id
		LEFT JOIN project_replicas p ON p.project_id = l.project_id
		WHERE e.legal_entity_id = $1 AND e.posting_date BETWEEN $2 AND $3 AND l.account_code IN ($4, $5, $6, $7, $8)
		GROUP BY 1, 2 ORDER BY 1, 2`, legalEntityID, from.Time(), to.Time(),
		ledger.ServiceRevenue, ledger.ReimbursableExpenseSales, ledger.LaborCost, ledger.SubcontractorCost, ledger.ExpenseCost)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (revenue.LedgerSlice, error) {
		var x revenue.LedgerSlice
		return x, r.Scan(&x.ProjectID, &x.ContractID, &x.Revenue, &x.Labor, &x.Subcontractor, &x.Cost)
	})
}

// WIPRollForward moves each contract's unbilled receivables from before from to to: opening,
// added (every entry but invoices, credit notes and reclassifications), billed (invoices net of
// credit notes) and reclassified.
func (s *Store) WIPRollForward(ctx context.Context, legalEntityID string, from, to civil.Date) ([]revenue.WIP, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT c, COALESCE(sum(v) FILTER (WHERE d < $2), 0),
			COALESCE(sum(v) FILTER (WHERE d >= $2 AND t NOT IN ($5, $6, $7)), 0),
			COALESCE(-sum(v) FILTER (WHERE d >= $2 AND t IN ($5, $6)), 0),
			COALESCE(sum(v) FILTER (WHERE d >= $2 AND t = $7), 0)
		FROM (SELECT `+lineContract+` AS c, l.debit - l.credit AS v, e.posting_date AS d, e.source_type AS t
			FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id
			LEFT JOIN project_replicas p ON p.project_id = l.project_id
			WHERE e.legal_entity_id = $1 AND e.posting_date <= $3 AND l.account_code = $4) x
		WHERE c IS NOT NULL GROUP BY c ORDER BY c`, legalEntityID, from.Time(), to.Time(), ledger.UnbilledReceivables,
		invoice.SourceInvoice, invoice.SourceCreditNote, revenue.SourcePosition)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (revenue.WIP, error) {
		var x revenue.WIP
		return x, r.Scan(&x.ContractID, &x.Opening, &x.Added, &x.Billed, &x.Reclassified)
	})
}

// RevenueByMethod sums what a legal entity's lines recognized for periods from..to by method.
func (s *Store) RevenueByMethod(ctx context.Context, legalEntityID, from, to string) ([]revenue.ByMethod, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT method, sum(amount) FROM revenue_recognitions WHERE legal_entity_id = $1 AND period BETWEEN $2 AND $3
		GROUP BY method ORDER BY method`, legalEntityID, from, to)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (revenue.ByMethod, error) {
		var m string
		var v decimal.Decimal
		err := r.Scan(&m, &v)
		return revenue.ByMethod{Method: contract.RevenueMethod(m), Recognized: v}, err
	})
}
