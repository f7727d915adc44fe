package store

import (
	"context"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/paging"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/billing/internal/ledger"
)

// rateCardLock orders posting (shared) against an amendment of a contract's bill rates
// (exclusive), by stripe of contract ids: an advisory lock costs posting no write (a row lock on
// every contract of a batch would write each row), and striping bounds the locks a batch takes
// whatever its number of contracts. An amendment waits only for the batches in flight of its
// stripe.
var rateCardLock = pg.NewLock("billing.rate_card")

// rateCardStripeCount is the number of stripes of rateCardLock.
const rateCardStripeCount = 32

// rateCardStripes returns the stripes of rateCardLock the contracts fall in.
func rateCardStripes(contractIDs ...string) []string {
	out := make([]string, 0, min(len(contractIDs), rateCardStripeCount))
	seen := map[uint32]bool{}
	for _, id := range contractIDs {
		h := fnv.New32a()
		_, _ = h.Write([]byte(id))
		s := h.Sum32() % rateCardStripeCount
		if !seen[s] {
			seen[s] = true
			out = append(out, "stripe-"+strconv.FormatUint(uint64(s), 10))
		}
	}
	return out
}

// LockRateCard takes contractID's stripe of rateCardLock exclusively until the transaction ends.
func (s *Store) LockRateCard(ctx context.Context, contractID string) error {
	return rateCardLock.Acquire(ctx, s.Q(ctx), rateCardStripes(contractID)...)
}

// BilledTime returns the open and invoiced candidates of the posted, unreversed time of a
// contract, each with the WIP it carries now (its original entry plus its bill adjustments),
// locked against a concurrent re-rate or invoicing of the same candidates.
func (s *Store) BilledTime(ctx context.Context, contractID string) ([]ledger.BilledTime, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT c.id::text, c.project_id::text, c.contract_id::text, c.line_key, c.source_type, c.source_id,
			c.source_version, c.status, c.currency_code, c.source_date, c.quantity, c.unit_price, c.amount,
			COALESCE(r.resource_id::text, ''), COALESCE(l.task_id::text, ''), e.id::text,
			(SELECT COALESCE(sum(jl.debit - jl.credit), 0) FROM journal_entries je JOIN journal_lines jl ON jl.entry_id = je.id
				WHERE jl.account_code = $2 AND (je.id = e.id OR (je.source_type = $3 AND je.source_id = c.source_id)))
		FROM invoice_candidates c
		JOIN posting_results r ON r.source_type = c.source_type AND r.source_id = c.source_id AND r.source_version = c.source_version
			AND r.outcome = 'POSTED'
		JOIN journal_entries e ON e.id = r.journal_entry_id
		JOIN journal_lines l ON l.entry_id = e.id AND l.account_code = $2
		WHERE c.contract_id = $1::uuid AND c.source_type = 'time_entry' AND c.status IN ('OPEN', 'INVOICED')
		ORDER BY c.source_date, c.source_id
		FOR UPDATE OF c`, contractID, ledger.UnbilledReceivables, ledger.SourceBillAdjustment)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (ledger.BilledTime, error) {
		var b ledger.BilledTime
		c := &b.Candidate
		var d time.Time
		var currency string
		err := row.Scan(&c.ID, &c.ProjectID, &c.ContractID, &c.LineKey, &c.SourceType, &c.SourceID, &c.Version, &c.Status, &currency, &d,
			&c.Quantity, &c.UnitPrice.Value, &c.Amount.Value, &b.ResourceID, &b.TaskID, &b.EntryID, &b.WIP)
		c.SourceDate, c.UnitPrice.Currency, c.Amount.Currency = civil.Of(d), currency, currency
		return b, err
	})
}

// RerateCandidates sets the bill rate, amount and WIP carrying amount of open candidates to
// those of contract version (the ledger holds the delta; the candidate is a work list, not a
// book of record).
func (s *Store) RerateCandidates(ctx context.Context, contractVersion int64, after []ledger.Candidate) error {
	if len(after) == 0 {
		return nil
	}
	ids := make([]string, len(after))
	rates, amounts, wips := make([]pgtype.Numeric, len(after)), make([]pgtype.Numeric, len(after)), make([]pgtype.Numeric, len(after))
	for i, c := range after {
		ids[i], rates[i], amounts[i], wips[i] = c.ID, pg.Numeric(c.UnitPrice.Value), pg.Numeric(c.Amount.Value), pg.Numeric(c.WIP)
	}
	_, err := s.Q(ctx).Exec(ctx, `UPDATE invoice_candidates c SET unit_price = x.rate, amount = x.amount, wip_amount = x.wip, rated_contract_version = $4
		FROM unnest($1::uuid[], $2::numeric[], $3::numeric[], $5::numeric[]) AS x(id, rate, amount, wip) WHERE c.id = x.id AND c.status = 'OPEN'`,
		ids, rates, amounts, contractVersion, wips)
	return err
}

// SaveRebills keeps the rebill decisions of the invoiced candidates checked against contract
// version: rebills replace what was listed for their candidates; the other checked candidates
// (their rate is back to what was invoiced) leave the list.
func (s *Store) SaveRebills(ctx context.Context, contractVersion int64, checked []string, rebills []ledger.Rebill) error {
	if len(checked) == 0 {
		return nil
	}
	q := s.Q(ctx)
	if _, err := q.Exec(ctx, `DELETE FROM rebill_decisions WHERE candidate_id = ANY($1::uuid[]) AND contract_version < $2`, checked, contractVersion); err != nil {
		return err
	}
	for _, r := range rebills {
		if _, err := q.Exec(ctx, `INSERT INTO rebill_decisions (candidate_id, contract_id, contract_version, project_id, source_id, source_date,
				quantity, currency_code, invoiced_rate, invoiced_amount, rerated_rate, rerated_amount, delta)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
			ON CONFLICT (candidate_id) DO NOTHING`, r.CandidateID, r.ContractID, r.ContractVersion, r.ProjectID, r.SourceID, r.SourceDate.Time(),
			pg.Numeric(r.Quantity), r.Invoiced.Currency, pg.Numeric(r.InvoicedRate.Value), pg.Numeric(r.Invoiced.Value), pg.Numeric(r.ReratedRate.Value),
			pg.Numeric(r.Rerated.Value), pg.Numeric(r.Delta.Value)); err != nil {
			return err
		}
	}
	return nil
}

// ListRebills returns the page of rebill decisions matching f, by candidate id.
func (s *Store) ListRebills(ctx context.Context, f ledger.RebillFilter, page paging.Request) ([]ledger.Rebill, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT candidate_id::text, contract_id::text, contract_version, project_id::text, source_id, source_date,
			quantity, currency_code, invoiced_rate, invoiced_amount, rerated_rate, rerated_amount, delta
		FROM rebill_decisions WHERE ($1 = '' OR contract_id = $1::uuid) AND ($2 = '' OR project_id = $2::uuid) AND ($3 = '' OR candidate_id > $3::uuid)
		  AND ($5::text[] IS NULL OR EXISTS (SELECT 1 FROM project_replicas p
		       WHERE p.project_id = rebill_decisions.project_id AND p.legal_entity_id::text = ANY($5::text[])))
		ORDER BY candidate_id LIMIT $4`, f.ContractID, f.ProjectID, page.AfterID, page.Fetch(), f.LegalEntities)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (ledger.Rebill, error) {
		var r ledger.Rebill
		var d time.Time
		var cur string
		err := row.Scan(&r.CandidateID, &r.ContractID, &r.ContractVersion, &r.ProjectID, &r.SourceID, &d, &r.Quantity, &cur,
			&r.InvoicedRate.Value, &r.Invoiced.Value, &r.ReratedRate.Value, &r.Rerated.Value, &r.Delta.Value)
		r.SourceDate = civil.Of(d)
		r.InvoicedRate.Currency, r.Invoiced.Currency, r.ReratedRate.Currency, r.Rerated.Currency, r.Delta.Currency = cur, cur, cur, cur, cur
		return r, err
	})
}
