package store

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/revenue"
)

// Revenue recognition: estimates, milestone completions, the runs and what they recorded per
// line and contract, and the ledger figures they read.

// LockRevenuePeriod serializes recognition runs of one legal entity and period until the
// transaction ends.
func (s *Store) LockRevenuePeriod(ctx context.Context, legalEntityID, period string) error {
	_, err := s.Q(ctx).Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('revenue/' || $1 || '/' || $2, 0))`, legalEntityID, period)
	return err
}

// ContractIDs returns the ids of the contracts currently belonging to a legal entity, by id.
func (s *Store) ContractIDs(ctx context.Context, legalEntityID string) ([]string, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT id::text FROM contracts WHERE legal_entity_id = $1 ORDER BY id`, legalEntityID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// ContractProjects returns the projects of a contract (the project replicas naming it), by id.
func (s *Store) ContractProjects(ctx context.Context, contractID string) ([]string, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT project_id::text FROM project_replicas WHERE contract_id = $1 ORDER BY project_id`, contractID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// RecognitionState returns, per line of a contract, what it recognized before period (its latest
// earlier row) and whether it already has a row for period.
func (s *Store) RecognitionState(ctx context.Context, contractID, period string) (map[string]revenue.Prior, map[string]bool, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT DISTINCT ON (line_key) line_key, period, to_date, loss_provision FROM revenue_recognitions
		WHERE contract_id = $1 AND period <= $2 ORDER BY line_key, period DESC`, contractID, period)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	prior, done := map[string]revenue.Prior{}, map[string]bool{}
	for rows.Next() {
		var key, p string
		var pr revenue.Prior
		if err := rows.Scan(&key, &p, &pr.ToDate, &pr.Provision); err != nil {
			return nil, nil, err
		}
		if p == period {
			done[key] = true
			continue
		}
		prior[key] = pr
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	// A line done for period: its prior is the row before it.
	for key := range done {
		var pr revenue.Prior
		err := s.Q(ctx).QueryRow(ctx, `SELECT to_date, loss_provision FROM revenue_recognitions WHERE contract_id = $1 AND line_key = $2
			AND period < $3 ORDER BY period DESC LIMIT 1`, contractID, key, period).Scan(&pr.ToDate, &pr.Provision)
		if err == nil {
			prior[key] = pr
		} else if err != pgx.ErrNoRows {
			return nil, nil, err
		}
	}
	return prior, done, nil
}

// DeliveredToDate sums, per line of a contract, the billable value of the time candidates not
// reversed, dated up to end; expenses sums its billable expenses (all lines).
func (s *Store) DeliveredToDate(ctx context.Context, contractID string, end civil.Date) (map[string]decimal.Decimal, decimal.Decimal, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT line_key, source_type, sum(amount) FROM invoice_candidates
		WHERE contract_id = $1 AND status <> 'REVERSED' AND source_date <= $2 GROUP BY 1, 2`, contractID, end.Time())
	if err != nil {
		return nil, decimal.Zero, err
	}
	defer rows.Close()
	out, expenses := map[string]decimal.Decimal{}, decimal.Zero
	for rows.Next() {
		var key, typ string
		var v decimal.Decimal
		if err := rows.Scan(&key, &typ, &v); err != nil {
			return nil, decimal.Zero, err
		}
		if typ == ledger.SourceTime {
			out[key] = out[key].Add(v)
		} else {
			expenses = expenses.Add(v)
		}
	}
	return out, expenses, rows.Err()
}

// LineCostsToDate sums, per line of a contract, the cost (labor, expense and subcontractor cost,
// debit less credit) posted up to end on the tasks of its projects mapped to the line.
func (s *Store) LineCostsToDate(ctx context.Context, contractID string, end civil.Date) (map[string]decimal.Decimal, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT t.line_key, sum(l.debit - l.credit)
		FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id
		JOIN task_replicas t ON t.task_id = l.task_id
		JOIN project_replicas p ON p.project_id = t.project_id AND p.contract_id = $1
		WHERE l.account_code = ANY($3::text[]) AND e.posting_date <= $2 GROUP BY 1`,
		contractID, end.Time(), []string{ledger.LaborCost, ledger.ExpenseCost, ledger.SubcontractorCost})
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]decimal.Decimal{}
	for rows.Next() {
		var key string
		var v decimal.Decimal
		if err := rows.Scan(&key, &v); err != nil {
			return nil, err
		}
		out[key] = v
	}
	return out, rows.Err()
}

// EstimatesAt returns, per line of a contract, the estimate to complete effective at period (the
// latest set for it or an earlier period).
func (s *Store) EstimatesAt(ctx context.Context, contractID, period string) (map[string]decimal.Decimal, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT DISTINCT ON (line_key) line_key, estimate_to_complete FROM revenue_estimates
		WHERE contract_id = $1 AND effective_period <= $2 ORDER BY line_key, effective_period DESC`, contractID, period)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]decimal.Decimal{}
	for rows.Next() {
		var key string
		var v decimal.Decimal
		if err := rows.Scan(&key, &v); err != nil {
			return nil, err
		}
		out[key] = v
	}
	return out, rows.Err()
}

// SetEstimate records (or replaces) the estimate of a line for its effective period.
func (s *Store) SetEstimate(ctx context.Context, e revenue.Estimate) (revenue.Estimate, error) {
	err := s.Q(ctx).QueryRow(ctx, `INSERT INTO revenue_estimates (contract_id, line_key, effective_period, estimate_to_complete, currency_code, note, set_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (contract_id, line_key, effective_period) DO UPDATE SET estimate_to_complete = EXCLUDED.estimate_to_complete,
			currency_code = EXCLUDED.currency_code, note = EXCLUDED.note, set_by = EXCLUDED.set_by, set_at = now()
		RETURNING set_at`, e.ContractID, e.LineKey, e.EffectivePeriod, pg.Numeric(e.EstimateToComplete.Value), e.EstimateToComplete.Currency,
		e.Note, e.SetBy).Scan(&e.SetAt)
	return e, err
}

// CompletedMilestones returns, per line of a contract, the keys of the milestones completed on
// or before end.
func (s *Store) CompletedMilestones(ctx context.Context, contractID string, end civil.Date) (map[string]map[string]bool, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT line_key, milestone_key FROM milestone_completions WHERE contract_id = $1 AND completed_on <= $2`,
		contractID, end.Time())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]map[string]bool{}
	for rows.Next() {
		var line, ms string
		if err := rows.Scan(&line, &ms); err != nil {
			return nil, err
		}
		if out[line] == nil {
			out[line] = map[string]bool{}
		}
		out[line][ms] = true
	}
	return out, rows.Err()
}

// BilledToDate sums the net totals of a contract's posted invoices and credit notes issued up to
// end.
func (s *Store) BilledToDate(ctx context.Context, contractID string, end civil.Date) (decimal.Decimal, error) {
	var v decimal.Decimal
	err := s.Q(ctx).QueryRow(ctx, `SELECT COALESCE(sum(total), 0) FROM invoices WHERE contract_id = $1 AND status = 'POSTED' AND issue_date <= $2`,
		contractID, end.Time()).Scan(&v)
	return v, err
}

// contractLines is the condition that a journal line (l, of entry e) belongs to contract $1: it
// is tagged with one of the contract's projects, or it is on an entry the recognition run posted
// for the contract.
const contractLines = `(l.project_id IN (SELECT project_id FROM project_replicas WHERE contract_id = $1)
	OR (e.source_type IN ('` + revenue.SourceRecognition + `', '` + revenue.SourcePosition + `') AND e.source_id LIKE $1::text || '/%'))`

// ContractBalances returns a contract's balances (debit positive) of unbilled receivables and
// deferred revenue posted up to end.
func (s *Store) ContractBalances(ctx context.Context, contractID string, end civil.Date) (unbilled, deferred decimal.Decimal, err error) {
	err = s.Q(ctx).QueryRow(ctx, `SELECT COALESCE(sum(l.debit - l.credit) FILTER (WHERE l.account_code = $3), 0),
			COALESCE(sum(l.debit - l.credit) FILTER (WHERE l.account_code = $4), 0)
		FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id
		WHERE l.account_code IN ($3, $4) AND e.posting_date <= $2 AND `+contractLines,
		contractID, end.Time(), ledger.UnbilledReceivables, ledger.DeferredRevenue).Scan(&unbilled, &deferred)
	return unbilled, deferred, err
}

// RecognizedToDate sums, over a contract's lines, the revenue recognized to date at period (each
// line's latest row at or before it).
func (s *Store) RecognizedToDate(ctx context.Context, contractID, period string) (decimal.Decimal, error) {
	var v decimal.Decimal
	err := s.Q(ctx).QueryRow(ctx, `SELECT COALESCE(sum(to_date), 0) FROM (SELECT DISTINCT ON (line_key) to_date FROM revenue_recognitions
		WHERE contract_id = $1 AND period <= $2 ORDER BY line_key, period DESC) r`, contractID, period).Scan(&v)
	return v, err
}

// PositionDone reports whether the run recorded contract's position for period.
func (s *Store) PositionDone(ctx context.Context, contractID, period string) (bool, error) {
	var ok bool
	err := s.Q(ctx).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM contract_positions WHERE contract_id = $1 AND period = $2)`, contractID, period).Scan(&ok)
	return ok, err
}

// SaveRun records a run with what it recorded per line and contract; a line or contract already
// recorded for the period fails with a unique violation (the run's second guard).
func (s *Store) SaveRun(ctx context.Context, r revenue.Run) error {
	q := s.Q(ctx)
	if _, err := q.Exec(ctx, `INSERT INTO revenue_runs (id, legal_entity_id, period, run_at, run_by, lines, recognized, loss, reclassified, currency_code)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, r.ID, r.LegalEntityID, r.Period, r.RunAt, r.RunBy, len(r.Lines),
		pg.Numeric(r.Recognized), pg.Numeric(r.Loss), pg.Numeric(r.Reclassified), r.Currency); err != nil {
		return err
	}
	for _, l := range r.Lines {
		if l.Skipped != "" {
			continue
		}
		if _, err := q.Exec(ctx, `INSERT INTO revenue_recognitions (contract_id, line_key, period, legal_entity_id, run_id, method, currency_code,
				to_date, amount, cost_to_date, estimate_total, progress, loss_contract, loss_provision, loss_amount, journal_entry_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
			l.ContractID, l.LineKey, l.Period, l.LegalEntityID, r.ID, string(l.Method), l.Currency, pg.Numeric(l.ToDate), pg.Numeric(l.Amount),
			pg.Numeric(l.CostToDate), pg.NullNumeric(l.EstimateTotal), pg.NullNumeric(l.Progress), l.LossContract, pg.Numeric(l.LossProvision),
			pg.Numeric(l.LossAmount), nullUUID(l.JournalEntryID)); err != nil {
			return err
		}
	}
	for _, p := range r.Positions {
		if _, err := q.Exec(ctx, `INSERT INTO contract_positions (contract_id, period, legal_entity_id, recognized, billed, asset, liability,
				reclassified, journal_entry_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			p.ContractID, p.Period, p.LegalEntityID, pg.Numeric(p.Recognized), pg.Numeric(p.Billed), pg.Numeric(p.Asset),
			pg.Numeric(p.Liability), pg.Numeric(p.Reclassified), nullUUID(p.JournalEntryID)); err != nil {
			return err
		}
	}
	return nil
}

// CountRuns counts the (real) recognition runs of a legal entity and period.
func (s *Store) CountRuns(ctx context.Context, legalEntityID, period string) (int64, error) {
	var n int64
	err := s.Q(ctx).QueryRow(ctx, `SELECT count(*) FROM revenue_runs WHERE legal_entity_id = $1 AND period = $2`, legalEntityID, period).Scan(&n)
	return n, err
}

// CountLossContracts counts the contracts whose latest recognized line is flagged as a loss
// contract ("" every legal entity).
func (s *Store) CountLossContracts(ctx context.Context, legalEntityID string) (int64, error) {
	var n int64
	err := s.Q(ctx).QueryRow(ctx, `SELECT count(DISTINCT contract_id) FROM (SELECT DISTINCT ON (contract_id, line_key) contract_id, legal_entity_id, loss_contract
		FROM revenue_recognitions ORDER BY contract_id, line_key, period DESC) r WHERE loss_contract AND ($1 = '' OR legal_entity_id::text = $1)`,
		legalEntityID).Scan(&n)
	return n, err
}

// RecognitionsOf returns what a legal entity's lines recognized for periods from..to (YYYY-MM,
// inclusive), by contract, line and period.
func (s *Store) RecognitionsOf(ctx context.Context, legalEntityID, from, to string) ([]revenue.Recorded, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT contract_id::text, line_key, period, legal_entity_id::text, run_id::text, method, currency_code,
			to_date, amount, cost_to_date, estimate_total, progress, loss_contract, loss_provision, loss_amount, COALESCE(journal_entry_id::text, '')
		FROM revenue_recognitions WHERE legal_entity_id = $1 AND period BETWEEN $2 AND $3 ORDER BY contract_id, line_key, period`,
		legalEntityID, from, to)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (revenue.Recorded, error) {
		var x revenue.Recorded
		var m string
		err := r.Scan(&x.ContractID, &x.LineKey, &x.Period, &x.LegalEntityID, &x.RunID, &m, &x.Currency, &x.ToDate, &x.Amount, &x.CostToDate,
			&x.EstimateTotal, &x.Progress, &x.LossContract, &x.LossProvision, &x.LossAmount, &x.JournalEntryID)
		x.Method = contract.RevenueMethod(m)
		return x, err
	})
}
