package store

import (
	"context"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/periodclose"
)

// CloseFacts reads the figures the close checklist of a legal entity's period checks.
func (s *Store) CloseFacts(ctx context.Context, legalEntityID, period string) (periodclose.Facts, error) {
	q := s.Q(ctx)
	var f periodclose.Facts
	start, _ := civil.Parse(period + "-01")
	end := civil.Of(start.Time().AddDate(0, 1, -1))
	// Parked postings: approved entries received and not posted, on the entity's projects.
	if err := q.QueryRow(ctx, `SELECT count(*) FROM posting_results r JOIN project_replicas p ON p.project_id = r.project_id
		WHERE p.legal_entity_id = $1 AND r.outcome = $2 AND r.source_date BETWEEN $3 AND $4`,
		legalEntityID, string(ledger.Parked), start.Time(), end.Time()).Scan(&f.ParkedPostings); err != nil {
		return f, err
	}
	if err := q.QueryRow(ctx, `SELECT count(*) FROM invoices WHERE legal_entity_id = $1 AND status IN ($2, $3) AND cut_off BETWEEN $4 AND $5`,
		legalEntityID, string(invoice.Draft), string(invoice.BlockedTax), start.Time(), end.Time()).Scan(&f.DraftInvoices); err != nil {
		return f, err
	}
	if err := q.QueryRow(ctx, `SELECT count(*) FROM revenue_runs WHERE legal_entity_id = $1 AND period = $2`, legalEntityID, period).Scan(&f.Runs); err != nil {
		return f, err
	}
	if err := q.QueryRow(ctx, `SELECT count(*) FROM (SELECT l.entry_id FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id
		WHERE e.legal_entity_id = $1 AND e.posting_date BETWEEN $2 AND $3 GROUP BY l.entry_id HAVING sum(l.debit) <> sum(l.credit)) u`,
		legalEntityID, start.Time(), end.Time()).Scan(&f.UnbalancedEntries); err != nil {
		return f, err
	}
	// Billable hours posted in the period (time whose posting made an invoice candidate) against
	// the candidates' hours, billed and unbilled.
	if err := q.QueryRow(ctx, `SELECT COALESCE(sum(r.hours), 0) FROM posting_results r JOIN project_replicas p ON p.project_id = r.project_id
		WHERE p.legal_entity_id = $1 AND r.source_type = $2 AND r.outcome = $3 AND r.source_date BETWEEN $4 AND $5
		  AND EXISTS (SELECT 1 FROM invoice_candidates c WHERE c.source_type = r.source_type AND c.source_id = r.source_id
		      AND c.source_version = r.source_version)`,
		legalEntityID, ledger.SourceTime, string(ledger.Posted), start.Time(), end.Time()).Scan(&f.PostedHours); err != nil {
		return f, err
	}
	if err := q.QueryRow(ctx, `SELECT COALESCE(sum(c.quantity) FILTER (WHERE c.status = 'INVOICED'), 0), COALESCE(sum(c.quantity) FILTER (WHERE c.status = 'OPEN'), 0)
		FROM invoice_candidates c JOIN project_replicas p ON p.project_id = c.project_id
		JOIN posting_results r ON r.source_type = c.source_type AND r.source_id = c.source_id AND r.source_version = c.source_version AND r.outcome = $5
		WHERE p.legal_entity_id = $1 AND c.source_type = $2 AND c.source_date BETWEEN $3 AND $4`,
		legalEntityID, ledger.SourceTime, start.Time(), end.Time(), string(ledger.Posted)).Scan(&f.BilledHours, &f.UnbilledHours); err != nil {
		return f, err
	}
	// The latest reconciliation run of the period (HOURS_RECONCILED fails on its drift).
	run, ok, err := s.LatestReconciliation(ctx, legalEntityID, period)
	if err != nil {
		return f, err
	}
	if ok {
		f.ReconciliationRunID, f.ReconciliationStatus, f.ReconciliationFindings = run.ID, string(run.Status), run.FindingCount
	}
	rows, err := q.Query(ctx, `SELECT item, reason FROM close_waivers WHERE legal_entity_id = $1 AND period = $2`, legalEntityID, period)
	if err != nil {
		return f, err
	}
	defer rows.Close()
	f.Waivers = map[periodclose.Item]string{}
	for rows.Next() {
		var item, reason string
		if err := rows.Scan(&item, &reason); err != nil {
			return f, err
		}
		f.Waivers[periodclose.Item(item)] = reason
	}
	return f, rows.Err()
}

// WaiveCloseItem records a waiver of a checklist item for a period (again: the new reason).
func (s *Store) WaiveCloseItem(ctx context.Context, legalEntityID, period string, item periodclose.Item, reason, by string) error {
	_, err := s.Q(ctx).Exec(ctx, `INSERT INTO close_waivers (legal_entity_id, period, item, reason, waived_by) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (legal_entity_id, period, item) DO UPDATE SET reason = EXCLUDED.reason, waived_by = EXCLUDED.waived_by, waived_at = now()`,
		legalEntityID, period, string(item), reason, by)
	return err
}
