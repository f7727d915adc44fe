package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/paging"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/billing/internal/ledger"
)

// Journal entries and their lines are written by WriteResults (postings.go) and never updated.

// lineColumns are the columns of a journal line (alias l) that scanLine reads.
const lineColumns = `l.account_code, COALESCE(l.project_id::text, ''), COALESCE(l.task_id::text, ''), l.debit, l.credit,
	l.txn_currency, l.txn_amount, l.fx_rate, l.rate_date`

// lineScan holds one journal line while rows scan into it.
type lineScan struct {
	line     ledger.Line
	rateDate time.Time
}

// dest returns the scan destinations of lineColumns, after the given leading ones.
func (s *lineScan) dest(leading ...any) []any {
	l := &s.line
	return append(leading, &l.Account, &l.ProjectID, &l.TaskID, &l.Debit, &l.Credit, &l.TxnAmount.Currency, &l.TxnAmount.Value,
		&l.FXRate, &s.rateDate)
}

func (s *lineScan) result() ledger.Line {
	l := s.line
	l.RateDate = civil.Of(s.rateDate)
	return l
}

// ListJournalEntries returns the page of entries matching f, with their lines, by id.
func (s *Store) ListJournalEntries(ctx context.Context, f ledger.EntryFilter, page paging.Request) ([]ledger.Entry, error) {
	q := s.Q(ctx)
	rows, err := q.Query(ctx, `SELECT e.id::text, e.legal_entity_id::text, e.currency_code, e.source_type, e.source_id,
			COALESCE(e.reverses_id::text, ''), e.description, e.source_version, e.posting_date, e.source_date, e.created_at
		FROM journal_entries e
		WHERE ($1 = '' OR e.legal_entity_id = $1::uuid) AND ($2 = '' OR e.source_id = $2)
		  AND ($3 = '' OR EXISTS (SELECT 1 FROM journal_lines l WHERE l.entry_id = e.id AND l.project_id = $3::uuid))
		  AND ($4 = '' OR e.id > $4::uuid)
		  AND ($6::text[] IS NULL OR e.legal_entity_id::text = ANY($6::text[]))
		ORDER BY e.id LIMIT $5`, f.LegalEntityID, f.SourceID, f.ProjectID, page.AfterID, page.Fetch(), f.LegalEntities)
	if err != nil {
		return nil, err
	}
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ledger.Entry, error) {
		var e ledger.Entry
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
	lrows, err := q.Query(ctx, `SELECT l.entry_id::text, `+lineColumns+` FROM journal_lines l
		WHERE l.entry_id = ANY($1::uuid[]) ORDER BY l.entry_id, l.line_no`, ids)
	if err != nil {
		return nil, err
	}
	defer lrows.Close()
	for lrows.Next() {
		var id string
		var ls lineScan
		if err := lrows.Scan(ls.dest(&id)...); err != nil {
			return nil, err
		}
		entries[idx[id]].Lines = append(entries[idx[id]].Lines, ls.result())
	}
	return entries, lrows.Err()
}

// entriesByID reads whole journal entries (what a reversal needs of its original), by id.
func entriesByID(ctx context.Context, q pg.Querier, ids []string) (map[string]*ledger.Entry, error) {
	rows, err := q.Query(ctx, `SELECT e.id::text, e.legal_entity_id::text, e.currency_code, e.source_id, `+lineColumns+`
		FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id WHERE e.id = ANY($1::uuid[]) ORDER BY e.id, l.line_no`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	entries := map[string]*ledger.Entry{}
	for rows.Next() {
		var id, le, cur, src string
		var ls lineScan
		if err := rows.Scan(ls.dest(&id, &le, &cur, &src)...); err != nil {
			return nil, err
		}
		e, ok := entries[id]
		if !ok {
			e = &ledger.Entry{ID: id, LegalEntityID: le, Currency: cur, SourceID: src}
			entries[id] = e
		}
		e.Lines = append(e.Lines, ls.result())
	}
	return entries, rows.Err()
}
