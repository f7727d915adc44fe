package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/internal/platform/pg"
)

// BalanceLine is one account's totals.
type BalanceLine struct {
	Code, Name    string
	Debit, Credit decimal.Decimal
}

// TrialBalance sums the balances of a legal entity's accounts (one period, or all).
func TrialBalance(ctx context.Context, q pg.Querier, legalEntityID, period string) ([]BalanceLine, error) {
	// Every account of the chart, and any account with postings even if the chart lacks it.
	rows, err := q.Query(ctx, `SELECT COALESCE(a.code, b.account_code), COALESCE(a.name, ''), COALESCE(sum(b.debit), 0), COALESCE(sum(b.credit), 0)
		FROM (SELECT * FROM accounts WHERE legal_entity_id = $1) a
		FULL JOIN (SELECT * FROM account_balances WHERE legal_entity_id = $1 AND ($2 = '' OR period = $2)) b ON b.account_code = a.code
		GROUP BY 1, 2 ORDER BY 1`, legalEntityID, period)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (BalanceLine, error) {
		var l BalanceLine
		return l, r.Scan(&l.Code, &l.Name, &l.Debit, &l.Credit)
	})
}

// JournalFilter selects journal entries.
type JournalFilter struct {
	LegalEntityID, ProjectID, SourceID, AfterID string
	Limit                                       int
}

// JournalLine is a stored line.
type JournalLine struct {
	Account, ProjectID, TaskID string
	Debit, Credit              decimal.Decimal
	Txn                        money.Amount
	FXRate                     decimal.Decimal
	RateDate                   civil.Date
}

// JournalEntry is a stored entry with its lines.
type JournalEntry struct {
	ID, LegalEntityID, Currency, SourceType, SourceID, ReversesID, Description string
	SourceVersion                                                              int64
	PostingDate, SourceDate                                                    civil.Date
	CreatedAt                                                                  time.Time
	Lines                                                                      []JournalLine
}

// ListJournalEntries returns entries with their lines, by id.
func ListJournalEntries(ctx context.Context, q pg.Querier, f JournalFilter) ([]JournalEntry, error) {
	rows, err := q.Query(ctx, `SELECT e.id::text, e.legal_entity_id::text, e.currency_code, e.source_type, e.source_id,
			COALESCE(e.reverses_id::text, ''), e.description, e.source_version, e.posting_date, e.source_date, e.created_at
		FROM journal_entries e
		WHERE ($1 = '' OR e.legal_entity_id = $1::uuid) AND ($2 = '' OR e.source_id = $2)
		  AND ($3 = '' OR EXISTS (SELECT 1 FROM journal_lines l WHERE l.entry_id = e.id AND l.project_id = $3::uuid))
		  AND ($4 = '' OR e.id > $4::uuid)
		ORDER BY e.id LIMIT $5`, f.LegalEntityID, f.SourceID, f.ProjectID, f.AfterID, f.Limit)
	if err != nil {
		return nil, err
	}
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (JournalEntry, error) {
		var e JournalEntry
		var pd, sd time.Time
		err := r.Scan(&e.ID, &e.LegalEntityID, &e.Currency, &e.SourceType, &e.SourceID, &e.ReversesID, &e.Description,
			&e.SourceVersion, &pd, &sd, &e.CreatedAt)
		e.PostingDate, e.SourceDate = civil.Of(pd), civil.Of(sd)
		return e, err
	})
	if err != nil || len(entries) == 0 {
		return entries, err
	}
	ids := make([]string, len(entries))
	idx := map[string]int{}
	for i, e := range entries {
		ids[i], idx[e.ID] = e.ID, i
	}
	lrows, err := q.Query(ctx, `SELECT entry_id::text, account_code, COALESCE(project_id::text, ''), COALESCE(task_id::text, ''),
		debit, credit, txn_currency, txn_amount, fx_rate, rate_date FROM journal_lines WHERE entry_id = ANY($1::uuid[]) ORDER BY entry_id, line_no`, ids)
	if err != nil {
		return nil, err
	}
	defer lrows.Close()
	for lrows.Next() {
		var id string
		var l JournalLine
		var rd time.Time
		if err := lrows.Scan(&id, &l.Account, &l.ProjectID, &l.TaskID, &l.Debit, &l.Credit, &l.Txn.Currency, &l.Txn.Value, &l.FXRate, &rd); err != nil {
			return nil, err
		}
		l.RateDate = civil.Of(rd)
		entries[idx[id]].Lines = append(entries[idx[id]].Lines, l)
	}
	return entries, lrows.Err()
}

// CandidateRow is a stored invoice candidate.
type CandidateRow struct {
	ID, ProjectID, ContractID, LineKey, SourceType, SourceID, Status, Currency string
	SourceDate                                                                 civil.Date
	Quantity, UnitPrice, Amount                                                decimal.Decimal
	Markup                                                                     *decimal.Decimal
}

// ListCandidates returns invoice candidates by id.
func ListCandidates(ctx context.Context, q pg.Querier, projectID, sourceID, afterID string, limit int) ([]CandidateRow, error) {
	rows, err := q.Query(ctx, `SELECT id::text, project_id::text, contract_id::text, line_key, source_type, source_id, status,
			currency_code, source_date, quantity, unit_price, amount, markup_percent
		FROM invoice_candidates WHERE ($1 = '' OR project_id = $1::uuid) AND ($2 = '' OR source_id = $2) AND ($3 = '' OR id > $3::uuid)
		ORDER BY id LIMIT $4`, projectID, sourceID, afterID, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (CandidateRow, error) {
		var c CandidateRow
		var d time.Time
		err := r.Scan(&c.ID, &c.ProjectID, &c.ContractID, &c.LineKey, &c.SourceType, &c.SourceID, &c.Status, &c.Currency, &d,
			&c.Quantity, &c.UnitPrice, &c.Amount, &c.Markup)
		c.SourceDate = civil.Of(d)
		return c, err
	})
}

// KPIs are billing's business KPIs.
type KPIs struct {
	UnbilledTime                   []money.Amount
	EntriesRejectedClosedPeriod    int64
	TimesheetsRejectedClosedPeriod int64
	ParkedRateMissing              int64
	JournalEntries                 int64
}

// ReadKPIs computes the KPIs. Rejected timesheets are counted as distinct resource-weeks.
func ReadKPIs(ctx context.Context, q pg.Querier) (KPIs, error) {
	var k KPIs
	rows, err := q.Query(ctx, `SELECT currency_code, sum(amount) FROM invoice_candidates WHERE status = 'OPEN' AND source_type = 'time_entry'
		GROUP BY currency_code ORDER BY currency_code`)
	if err != nil {
		return k, err
	}
	for rows.Next() {
		var a money.Amount
		if err := rows.Scan(&a.Currency, &a.Value); err != nil {
			rows.Close()
			return k, err
		}
		k.UnbilledTime = append(k.UnbilledTime, a)
	}
	rows.Close()
	err = q.QueryRow(ctx, `SELECT count(*) FILTER (WHERE outcome = 'REJECTED_CLOSED_PERIOD'),
			count(DISTINCT (resource_id, date_trunc('week', source_date))) FILTER (WHERE outcome = 'REJECTED_CLOSED_PERIOD'),
			(SELECT count(*) FROM parked_postings), (SELECT count(*) FROM journal_entries)
		FROM posting_results WHERE outcome = 'REJECTED_CLOSED_PERIOD'`).Scan(&k.EntriesRejectedClosedPeriod, &k.TimesheetsRejectedClosedPeriod, &k.ParkedRateMissing, &k.JournalEntries)
	return k, err
}

// CountRejectedClosedPeriod counts the entries whose posting was rejected for a closed period
// (cheap: a partial index), for the periodic KPI gauge.
func CountRejectedClosedPeriod(ctx context.Context, q pg.Querier) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, `SELECT count(*) FROM posting_results WHERE outcome = 'REJECTED_CLOSED_PERIOD'`).Scan(&n)
	return n, err
}
