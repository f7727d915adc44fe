package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/billing/internal/ledger"
)

// Postings: what the ledger did with each source (posting_results), the journal entries and
// invoice candidates it wrote, and the per-account balances. A batch is written with bulk
// statements (COPY and unnest) in its one transaction: the posting pipeline's throughput rests on
// it.

// FinalResults returns the keys (ledger.SourceKey) of sources already posted, rejected or reversed (parked ones may
// be posted again).
func (s *Store) FinalResults(ctx context.Context, sources []ledger.Source) (map[string]bool, error) {
	types, ids, vers := make([]string, len(sources)), make([]string, len(sources)), make([]int64, len(sources))
	for i, src := range sources {
		types[i], ids[i], vers[i] = src.Type, src.ID, src.Version
	}
	// Final: this version was posted or rejected, or any version of the source was reversed (a
	// reversal may overtake its original, or the original may carry a later version).
	rows, err := s.Q(ctx).Query(ctx, `SELECT k.t, k.i, k.v FROM unnest($1::text[], $2::text[], $3::bigint[]) AS k(t, i, v)
		WHERE EXISTS (SELECT 1 FROM posting_results r WHERE r.source_type = k.t AND r.source_id = k.i
			AND ((r.source_version = k.v AND r.outcome <> 'PARKED_RATE_MISSING') OR r.outcome = 'REVERSED'))`, types, ids, vers)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var t, i string
		var v int64
		if err := rows.Scan(&t, &i, &v); err != nil {
			return nil, err
		}
		out[ledger.SourceKey(t, i, v)] = true
	}
	return out, rows.Err()
}

// WriteResults stores a batch of posting results with bulk writes: journal entries and lines,
// invoice candidates and results by COPY, parked sources, cancelled candidates, and one
// aggregated upsert of account balances (per account and period) for the whole batch.
func (s *Store) WriteResults(ctx context.Context, results []ledger.Result, correlationID string) error {
	return writeResults(ctx, s.Q(ctx), results, correlationID)
}

func writeResults(ctx context.Context, q pg.Querier, results []ledger.Result, correlationID string) error {
	var entries, lines, candidates [][]any
	type balKey struct{ le, acct, period string }
	bal := map[balKey][2]decimal.Decimal{}
	var rType, rID, rOutcome, rReason, rEntry, rResource, rProject []string
	var rVersion []int64
	var rDate []time.Time
	var rHours []pgtype.Numeric
	var parkType, parkID, parkKind, parkKey []string
	var parkVersion []int64
	var parkDate []time.Time
	var parkSrc [][]byte
	var unparkType, unparkID []string
	var unparkVersion []int64
	var reversedOriginals []string

	addResult := func(s ledger.Source, outcome ledger.Outcome, reason, entryID string) {
		rType, rID, rVersion = append(rType, s.Type), append(rID, s.ID), append(rVersion, s.Version)
		rOutcome, rReason, rEntry = append(rOutcome, string(outcome)), append(rReason, reason), append(rEntry, entryID)
		rResource, rProject, rDate = append(rResource, s.ResourceID), append(rProject, s.ProjectID), append(rDate, s.Date.Time())
		var h *decimal.Decimal
		if s.Type == ledger.SourceTime && outcome == ledger.Posted {
			h = &s.Hours
		}
		rHours = append(rHours, pg.NullNumeric(h))
	}
	for _, r := range results {
		s := r.Source
		entryID := ""
		if r.Entry != nil {
			e := r.Entry
			entryID = e.ID
			entries = append(entries, []any{pg.UUID(e.ID), pg.UUID(e.LegalEntityID), e.Currency, e.PostingDate.Time(), e.SourceDate.Time(), e.SourceType,
				e.SourceID, e.SourceVersion, pg.UUID(e.ReversesID), e.Description, correlationID})
			period := ledger.PeriodOf(e.PostingDate)
			for i, l := range e.Lines {
				lines = append(lines, []any{pg.UUID(e.ID), int16(i + 1), pg.UUID(e.LegalEntityID), l.Account, pg.UUID(l.ProjectID), pg.UUID(l.TaskID),
					pg.Numeric(l.Debit), pg.Numeric(l.Credit), l.TxnAmount.Currency, pg.Numeric(l.TxnAmount.Value), pg.Numeric(l.FXRate), l.RateDate.Time()})
				k := balKey{e.LegalEntityID, l.Account, period}
				v := bal[k]
				bal[k] = [2]decimal.Decimal{v[0].Add(l.Debit), v[1].Add(l.Credit)}
			}
		}
		if c := r.Candidate; c != nil {
			candidates = append(candidates, []any{pg.UUID(c.ID), pg.UUID(c.ProjectID), pg.UUID(c.ContractID), c.LineKey, c.SourceType, c.SourceID, c.Version,
				c.SourceDate.Time(), pg.Numeric(c.Quantity), pg.Numeric(c.UnitPrice.Value), pg.NullNumeric(c.Markup), pg.Numeric(c.Amount.Value), c.Amount.Currency,
				c.ResourceID, c.Role, c.TaskID, pg.Numeric(c.WIP)})
		}
		addResult(s, r.Outcome, r.Reason, entryID)
		if r.Outcome == ledger.Parked {
			src, err := encodeSource(s)
			if err != nil {
				return err
			}
			parkType, parkID, parkVersion = append(parkType, s.Type), append(parkID, s.ID), append(parkVersion, s.Version)
			parkKind, parkKey, parkDate = append(parkKind, r.Missing.Kind), append(parkKey, r.Missing.Key), append(parkDate, r.Missing.Date.Time())
			parkSrc = append(parkSrc, src)
		} else {
			unparkType, unparkID, unparkVersion = append(unparkType, s.Type), append(unparkID, s.ID), append(unparkVersion, s.Version)
		}
		if r.Outcome == ledger.Reversed && r.ReversedCandidateOf != "" {
			reversedOriginals = append(reversedOriginals, r.ReversedCandidateOf)
			// The original is reversed whatever it was: a late original is then skipped.
			addResult(ledger.Source{Type: s.Type, ID: r.ReversedCandidateOf, Version: r.ReversedVersion, ResourceID: s.ResourceID,
				ProjectID: s.ProjectID, Date: s.Date}, ledger.Reversed, "", "")
			unparkType, unparkID, unparkVersion = append(unparkType, s.Type), append(unparkID, r.ReversedCandidateOf), append(unparkVersion, r.ReversedVersion)
		}
	}
	if len(entries) > 0 {
		if _, err := q.CopyFrom(ctx, pgx.Identifier{"journal_entries"}, []string{"id", "legal_entity_id", "currency_code", "posting_date",
			"source_date", "source_type", "source_id", "source_version", "reverses_id", "description", "correlation_id"}, pgx.CopyFromRows(entries)); err != nil {
			return err
		}
		if _, err := q.CopyFrom(ctx, pgx.Identifier{"journal_lines"}, []string{"entry_id", "line_no", "legal_entity_id", "account_code",
			"project_id", "task_id", "debit", "credit", "txn_currency", "txn_amount", "fx_rate", "rate_date"}, pgx.CopyFromRows(lines)); err != nil {
			return err
		}
	}
	if len(candidates) > 0 {
		if _, err := q.CopyFrom(ctx, pgx.Identifier{"invoice_candidates"}, []string{"id", "project_id", "contract_id", "line_key",
			"source_type", "source_id", "source_version", "source_date", "quantity", "unit_price", "markup_percent", "amount", "currency_code",
			"resource_id", "role", "task_id", "wip_amount"},
			pgx.CopyFromRows(candidates)); err != nil {
			return err
		}
	}
	if len(reversedOriginals) > 0 {
		if _, err := q.Exec(ctx, `UPDATE invoice_candidates SET status = 'REVERSED' WHERE source_id = ANY($1::text[]) AND status IN ('OPEN', 'INVOICED')`,
			reversedOriginals); err != nil {
			return err
		}
	}
	// One row per source in the statement (a reversal may also name an original posted in the
	// same batch): the reversed outcome wins.
	seen := map[string]int{}
	keep := make([]bool, len(rType))
	for i := range rType {
		k := ledger.SourceKey(rType[i], rID[i], rVersion[i])
		if j, ok := seen[k]; ok {
			if rOutcome[i] == string(ledger.Reversed) {
				keep[j], keep[i], seen[k] = false, true, i
			}
			continue
		}
		seen[k], keep[i] = i, true
	}
	n := 0
	for i := range rType {
		if keep[i] {
			rType[n], rID[n], rVersion[n], rOutcome[n], rReason[n], rEntry[n], rResource[n], rProject[n], rDate[n], rHours[n] =
				rType[i], rID[i], rVersion[i], rOutcome[i], rReason[i], rEntry[i], rResource[i], rProject[i], rDate[i], rHours[i]
			n++
		}
	}
	rType, rID, rVersion, rOutcome, rReason, rEntry, rResource, rProject, rDate, rHours = rType[:n], rID[:n], rVersion[:n], rOutcome[:n], rReason[:n], rEntry[:n], rResource[:n], rProject[:n], rDate[:n], rHours[:n]
	if len(rType) > 0 {
		// updated_at is when the result was written (clock time, not the transaction's start).
		if _, err := q.Exec(ctx, `INSERT INTO posting_results (source_type, source_id, source_version, outcome, reason, journal_entry_id,
				resource_id, project_id, source_date, hours, updated_at)
			SELECT t, i, v, o, r, NULLIF(e, '')::uuid, NULLIF(res, '')::uuid, NULLIF(p, '')::uuid, d, h, clock_timestamp()
			FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::date[], $10::numeric[])
				AS x(t, i, v, o, r, e, res, p, d, h)
			ON CONFLICT (source_type, source_id, source_version) DO UPDATE SET outcome = EXCLUDED.outcome, reason = EXCLUDED.reason,
				hours = COALESCE(EXCLUDED.hours, posting_results.hours),
				journal_entry_id = COALESCE(EXCLUDED.journal_entry_id, posting_results.journal_entry_id), updated_at = clock_timestamp()
			WHERE posting_results.outcome IN ('PARKED_RATE_MISSING') OR EXCLUDED.outcome = 'REVERSED'`,
			rType, rID, rVersion, rOutcome, rReason, rEntry, rResource, rProject, rDate, rHours); err != nil {
			return err
		}
	}
	if len(parkType) > 0 {
		if _, err := q.Exec(ctx, `INSERT INTO parked_postings (source_type, source_id, source_version, missing_kind, missing_key, missing_date, source)
			SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::date[], $7::bytea[])
			ON CONFLICT (source_type, source_id, source_version) DO UPDATE SET missing_kind = EXCLUDED.missing_kind,
				missing_key = EXCLUDED.missing_key, missing_date = EXCLUDED.missing_date`,
			parkType, parkID, parkVersion, parkKind, parkKey, parkDate, parkSrc); err != nil {
			return err
		}
	}
	if len(unparkType) > 0 && len(parkType) == 0 {
		// Nothing to release when nothing is parked (the usual case): skip the delete.
		var any bool
		if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM parked_postings)`).Scan(&any); err != nil {
			return err
		}
		if !any {
			unparkType = nil
		}
	}
	if len(unparkType) > 0 {
		if _, err := q.Exec(ctx, `DELETE FROM parked_postings p USING unnest($1::text[], $2::text[], $3::bigint[]) AS k(t, i, v)
			WHERE p.source_type = k.t AND p.source_id = k.i AND p.source_version = k.v`, unparkType, unparkID, unparkVersion); err != nil {
			return err
		}
	}
	if len(bal) > 0 {
		var les, accts, periods []string
		var debits, credits []decimal.Decimal
		for k, v := range bal {
			les, accts, periods = append(les, k.le), append(accts, k.acct), append(periods, k.period)
			debits, credits = append(debits, v[0]), append(credits, v[1])
		}
		if _, err := q.Exec(ctx, `INSERT INTO account_balances AS b (legal_entity_id, account_code, period, debit, credit)
			SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::numeric[], $5::numeric[])
			ON CONFLICT (legal_entity_id, account_code, period) DO UPDATE SET debit = b.debit + EXCLUDED.debit, credit = b.credit + EXCLUDED.credit`,
			les, accts, periods, debits, credits); err != nil {
			return err
		}
	}
	return nil
}
