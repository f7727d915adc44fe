package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/reconcile"
)

// OpenPeriods returns every open accounting period of every legal entity: what the scheduled
// reconciliation covers.
func (s *Store) OpenPeriods(ctx context.Context) ([]reconcile.Scope, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT legal_entity_id::text, period FROM periods WHERE status = 'OPEN' ORDER BY 1, 2`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (reconcile.Scope, error) {
		var sc reconcile.Scope
		return sc, r.Scan(&sc.LegalEntityID, &sc.Period)
	})
}

// LedgerFacts returns what billing holds for the time entries and expenses of the legal entity
// dated from..to (their journal entries net of reversals, the latest posting result, hours and
// cost posted, whether they were posted as billable, and their invoice candidates), plus the
// posting results of the ids also named (approved entries billing may never have posted).
func (s *Store) LedgerFacts(ctx context.Context, legalEntityID string, from, to civil.Date, also []string) (map[string]reconcile.Posted, error) {
	q := s.Q(ctx)
	out := map[string]reconcile.Posted{}
	get := func(id string) reconcile.Posted {
		p, ok := out[id]
		if !ok {
			p.ID = id
		}
		return p
	}
	rows, err := q.Query(ctx, `SELECT id::text, source_type, source_id FROM journal_entries
		WHERE legal_entity_id = $1 AND source_type = ANY($2) AND reverses_id IS NULL AND source_date BETWEEN $3::date AND $4::date`,
		legalEntityID, []string{ledger.SourceTime, ledger.SourceExpense}, from.String(), to.String())
	if err != nil {
		return nil, err
	}
	entryOf := map[string]string{} // journal entry id -> source id
	var entryIDs []string
	for rows.Next() {
		var eid, typ, sid string
		if err := rows.Scan(&eid, &typ, &sid); err != nil {
			rows.Close()
			return nil, err
		}
		p := get(sid)
		p.Expense = typ == ledger.SourceExpense
		p.Postings++
		out[sid] = p
		entryOf[eid] = sid
		entryIDs = append(entryIDs, eid)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(entryIDs) > 0 {
		if err := scanEach(ctx, q, `SELECT reverses_id::text FROM journal_entries WHERE reverses_id = ANY($1::uuid[])`,
			[]any{entryIDs}, func(r pgx.Rows) error {
				var eid string
				if err := r.Scan(&eid); err != nil {
					return err
				}
				p := out[entryOf[eid]]
				p.Reversals++
				out[entryOf[eid]] = p
				return nil
			}); err != nil {
			return nil, err
		}
		if err := scanEach(ctx, q, `SELECT entry_id::text, account_code, txn_currency, sum(txn_amount) FROM journal_lines
			WHERE entry_id = ANY($1::uuid[]) AND account_code = ANY($2) GROUP BY 1, 2, 3`,
			[]any{entryIDs, []string{ledger.UnbilledReceivables, ledger.ExpenseCost}}, func(r pgx.Rows) error {
				var eid, account, cur string
				var amount decimal.Decimal
				if err := r.Scan(&eid, &account, &cur, &amount); err != nil {
					return err
				}
				p := out[entryOf[eid]]
				if account == ledger.UnbilledReceivables && !p.Expense {
					p.WIP = true
				}
				if account == ledger.ExpenseCost && p.Expense {
					p.Amount, p.Currency = p.Amount.Add(amount), cur
				}
				out[entryOf[eid]] = p
				return nil
			}); err != nil {
			return nil, err
		}
	}
	ids := make([]string, 0, len(out)+len(also))
	for id := range out {
		ids = append(ids, id)
	}
	for _, id := range also {
		if _, ok := out[id]; !ok {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	// Results by version: the latest outcome, the hours of the latest posted version.
	if err := scanEach(ctx, q, `SELECT source_type, source_id, outcome, hours FROM posting_results
		WHERE source_type = ANY($1) AND source_id = ANY($2) ORDER BY source_id, source_version`,
		[]any{[]string{ledger.SourceTime, ledger.SourceExpense}, ids}, func(r pgx.Rows) error {
			var typ, sid, outcome string
			var hours *decimal.Decimal
			if err := r.Scan(&typ, &sid, &outcome, &hours); err != nil {
				return err
			}
			p := get(sid)
			p.Expense = typ == ledger.SourceExpense
			p.Outcome = outcome
			if outcome == string(ledger.Posted) && hours != nil {
				p.Hours = *hours
			}
			out[sid] = p
			return nil
		}); err != nil {
		return nil, err
	}
	if err := scanEach(ctx, q, `SELECT source_id, status, quantity FROM invoice_candidates
		WHERE source_type = $1 AND source_id = ANY($2) AND status IN ('OPEN', 'INVOICED')`,
		[]any{ledger.SourceTime, ids}, func(r pgx.Rows) error {
			var sid, status string
			var qty decimal.Decimal
			if err := r.Scan(&sid, &status, &qty); err != nil {
				return err
			}
			p := get(sid)
			p.Candidates++
			if status == "INVOICED" {
				p.Billed = p.Billed.Add(qty)
			} else {
				p.Unbilled = p.Unbilled.Add(qty)
			}
			out[sid] = p
			return nil
		}); err != nil {
		return nil, err
	}
	return out, nil
}

// Imbalances returns the journal entries of the legal entity posted from..to whose debits and
// credits differ in the functional currency, or, for an entry in one transaction currency, in
// that currency (transaction amounts are signed: debits positive, credits negative).
func (s *Store) Imbalances(ctx context.Context, legalEntityID string, from, to civil.Date) ([]reconcile.Imbalance, error) {
	var out []reconcile.Imbalance
	err := scanEach(ctx, s.Q(ctx), `
		SELECT l.entry_id::text, '' AS cur, sum(l.debit), sum(l.credit)
		FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id
		WHERE e.legal_entity_id = $1 AND e.posting_date BETWEEN $2::date AND $3::date
		GROUP BY l.entry_id HAVING sum(l.debit) <> sum(l.credit)
		UNION ALL
		SELECT l.entry_id::text, min(l.txn_currency),
			sum(l.txn_amount) FILTER (WHERE l.txn_amount > 0), -sum(l.txn_amount) FILTER (WHERE l.txn_amount < 0)
		FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id
		WHERE e.legal_entity_id = $1 AND e.posting_date BETWEEN $2::date AND $3::date
		GROUP BY l.entry_id
		HAVING count(DISTINCT l.txn_currency) = 1 AND sum(l.txn_amount) <> 0
		ORDER BY 1, 2`, []any{legalEntityID, from.String(), to.String()}, func(r pgx.Rows) error {
		var im reconcile.Imbalance
		var d, c *decimal.Decimal
		if err := r.Scan(&im.EntryID, &im.Currency, &d, &c); err != nil {
			return err
		}
		if d != nil {
			im.Debit = *d
		}
		if c != nil {
			im.Credit = *c
		}
		out = append(out, im)
		return nil
	})
	return out, err
}

// Allocations returns the allocated supplier bill lines of the legal entity billed from..to with
// the subcontractor cost their live allocation entry posted.
func (s *Store) Allocations(ctx context.Context, legalEntityID string, from, to civil.Date) ([]reconcile.Allocation, error) {
	var out []reconcile.Allocation
	err := scanEach(ctx, s.Q(ctx), `
		SELECT b.id::text, b.amount, b.currency_code,
			COALESCE((SELECT sum(l.txn_amount) FROM journal_lines l WHERE l.entry_id = b.allocated_entry_id AND l.account_code = $4), 0)
		FROM supplier_bill_lines b
		WHERE b.legal_entity_id = $1 AND b.status = 'ALLOCATED' AND b.bill_date BETWEEN $2::date AND $3::date
		ORDER BY b.id`, []any{legalEntityID, from.String(), to.String(), ledger.SubcontractorCost}, func(r pgx.Rows) error {
		var a reconcile.Allocation
		if err := r.Scan(&a.LineID, &a.Amount, &a.Currency, &a.Allocated); err != nil {
			return err
		}
		out = append(out, a)
		return nil
	})
	return out, err
}

type totalRow struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	Currency string `json:"currency,omitempty"`
}

// SaveReconciliation stores a finished run with its findings.
func (s *Store) SaveReconciliation(ctx context.Context, r reconcile.Run) error {
	totals := make([]totalRow, len(r.Totals))
	for i, t := range r.Totals {
		totals[i] = totalRow{Name: t.Name, Value: t.Value.String(), Currency: t.Currency}
	}
	raw, err := json.Marshal(totals)
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO reconciliation_runs (id, legal_entity_id, period, status, triggered_by, started_at, finished_at, totals, finding_count)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, r.ID, r.LegalEntityID, r.Period, string(r.Status), r.TriggeredBy,
		r.StartedAt, r.FinishedAt, raw, len(r.Findings))
	for i, f := range r.Findings {
		b.Queue(`INSERT INTO reconciliation_findings (run_id, seq, check_name, code, entity_type, entity_ids, detail, producer, consumer, exception_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULLIF($10, '')::uuid)`, r.ID, i+1, f.Check, f.Code, f.EntityType, f.EntityIDs,
			f.Detail, f.Producer, f.Consumer, f.ExceptionID)
	}
	return s.Q(ctx).SendBatch(ctx, b).Close()
}

const runColumns = `id::text, legal_entity_id::text, period, status, triggered_by, started_at, finished_at, totals, finding_count`

func scanRun(r pgx.Row) (reconcile.Run, error) {
	var run reconcile.Run
	var status string
	var raw []byte
	if err := r.Scan(&run.ID, &run.LegalEntityID, &run.Period, &status, &run.TriggeredBy, &run.StartedAt, &run.FinishedAt, &raw, &run.FindingCount); err != nil {
		return run, err
	}
	run.Status = reconcile.Status(status)
	var totals []totalRow
	if err := json.Unmarshal(raw, &totals); err != nil {
		return run, err
	}
	for _, t := range totals {
		v, err := decimal.NewFromString(t.Value)
		if err != nil {
			return run, err
		}
		run.Totals = append(run.Totals, reconcile.Total{Name: t.Name, Value: v, Currency: t.Currency})
	}
	return run, nil
}

// ReconciliationRun returns one run with its findings (reconcile.ErrRunNotFound).
func (s *Store) ReconciliationRun(ctx context.Context, id string) (reconcile.Run, error) {
	q := s.Q(ctx)
	run, err := scanRun(q.QueryRow(ctx, `SELECT `+runColumns+` FROM reconciliation_runs WHERE id = $1`, id))
	if err != nil {
		return run, pg.NotFound(err, reconcile.ErrRunNotFound)
	}
	err = scanEach(ctx, q, `SELECT check_name, code, entity_type, entity_ids, detail, producer, consumer, COALESCE(exception_id::text, '')
		FROM reconciliation_findings WHERE run_id = $1 ORDER BY seq`, []any{id}, func(r pgx.Rows) error {
		var f reconcile.Finding
		if err := r.Scan(&f.Check, &f.Code, &f.EntityType, &f.EntityIDs, &f.Detail, &f.Producer, &f.Consumer, &f.ExceptionID); err != nil {
			return err
		}
		run.Findings = append(run.Findings, f)
		return nil
	})
	return run, err
}

// ReconciliationRuns lists runs newest first (without their findings), f.Limit of them.
func (s *Store) ReconciliationRuns(ctx context.Context, f reconcile.Filter) ([]reconcile.Run, error) {
	var before *time.Time
	if !f.BeforeTime.IsZero() {
		before = &f.BeforeTime
	}
	var out []reconcile.Run
	err := scanEach(ctx, s.Q(ctx), `SELECT `+runColumns+` FROM reconciliation_runs
		WHERE ($1 = '' OR legal_entity_id = $1::uuid) AND ($2 = '' OR period = $2)
			AND ($3::text[] IS NULL OR legal_entity_id::text = ANY($3))
			AND ($4::timestamptz IS NULL OR (finished_at, id) < ($4, $5::uuid))
		ORDER BY finished_at DESC, id DESC LIMIT $6`,
		[]any{f.LegalEntityID, f.Period, f.LegalEntities, before, nullable(f.BeforeID), f.Limit}, func(r pgx.Rows) error {
			run, err := scanRun(r)
			out = append(out, run)
			return err
		})
	return out, err
}

// LatestReconciliation returns the current (latest) run of a legal entity and period, without
// findings; ok is false when the period was never reconciled. The period-close checklist reads
// it ("reconciliation clean": Status == reconcile.Clean).
func (s *Store) LatestReconciliation(ctx context.Context, legalEntityID, period string) (reconcile.Run, bool, error) {
	run, err := scanRun(s.Q(ctx).QueryRow(ctx, `SELECT `+runColumns+` FROM reconciliation_runs
		WHERE legal_entity_id = $1 AND period = $2 ORDER BY finished_at DESC, id DESC LIMIT 1`, legalEntityID, period))
	if err == pgx.ErrNoRows {
		return reconcile.Run{}, false, nil
	}
	return run, err == nil, err
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// scanEach runs sql and calls fn for each row.
func scanEach(ctx context.Context, q pg.Querier, sql string, args []any, fn func(pgx.Rows) error) error {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
