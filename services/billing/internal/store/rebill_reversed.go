package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/services/billing/internal/ledger"
)

// billedNet is what posted invoices and credit notes bill of candidate c net: quantity, amount.
const billedNet = `SELECT sum(l.quantity) AS q, sum(l.amount) AS a FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
	WHERE l.candidate_id = c.id AND i.status = 'POSTED'`

// SaveReversedRebills lists for a credit note the reversed candidates of sourceIDs that posted
// invoices still bill (net of credit notes): a rebill decision with the billed quantity and
// amount, a re-rated amount of 0 and the negative delta the credit note needs (replacing a rate
// change's decision for the candidate). It returns them, with the numbers of the invoices.
func (s *Store) SaveReversedRebills(ctx context.Context, sourceIDs []string) ([]ledger.ReversedBilled, error) {
	q := s.Q(ctx)
	// A rate change's decision on work that is reversed and no longer billed has nothing to decide.
	if _, err := q.Exec(ctx, `DELETE FROM rebill_decisions d USING invoice_candidates c
		WHERE c.id = d.candidate_id AND c.source_id = ANY($1::text[]) AND c.status = 'REVERSED'
		  AND COALESCE((SELECT b.a FROM (`+billedNet+`) b), 0) <= 0`, sourceIDs); err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `INSERT INTO rebill_decisions AS d (candidate_id, contract_id, contract_version, project_id, source_id,
			source_date, quantity, currency_code, invoiced_rate, invoiced_amount, rerated_rate, rerated_amount, delta)
		SELECT c.id, c.contract_id, k.version, c.project_id, c.source_id, c.source_date, b.q, c.currency_code, c.unit_price, b.a, 0, 0, -b.a
		FROM invoice_candidates c JOIN contracts k ON k.id = c.contract_id
		JOIN LATERAL (`+billedNet+`) b ON true
		WHERE c.source_id = ANY($1::text[]) AND c.status = 'REVERSED' AND b.a > 0
		ON CONFLICT (candidate_id) DO UPDATE SET contract_version = EXCLUDED.contract_version, quantity = EXCLUDED.quantity,
			invoiced_rate = EXCLUDED.invoiced_rate, invoiced_amount = EXCLUDED.invoiced_amount, rerated_rate = 0, rerated_amount = 0,
			delta = EXCLUDED.delta
		RETURNING d.candidate_id::text, d.contract_id::text, d.contract_version, d.project_id::text, d.source_id, d.source_date, d.quantity,
			d.currency_code, d.invoiced_rate, d.invoiced_amount, d.delta,
			(SELECT string_agg(DISTINCT i.number, ', ') FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
				WHERE l.candidate_id = d.candidate_id AND i.status = 'POSTED' AND i.kind = 'INVOICE')`, sourceIDs)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (ledger.ReversedBilled, error) {
		var r ledger.ReversedBilled
		var d time.Time
		var cur string
		err := row.Scan(&r.CandidateID, &r.ContractID, &r.ContractVersion, &r.ProjectID, &r.SourceID, &d, &r.Quantity, &cur,
			&r.InvoicedRate.Value, &r.Invoiced.Value, &r.Delta.Value, &r.Invoices)
		r.SourceDate = civil.Of(d)
		r.InvoicedRate.Currency, r.Invoiced.Currency, r.ReratedRate.Currency, r.Rerated.Currency, r.Delta.Currency = cur, cur, cur, cur, cur
		return r, err
	})
}

// ReversedCredited returns the reversed candidates credit note id credits that no posted invoice
// bills any more (their credit-note decision is settled).
func (s *Store) ReversedCredited(ctx context.Context, id string) ([]string, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT DISTINCT c.id::text FROM invoice_lines l JOIN invoice_candidates c ON c.id = l.candidate_id
		WHERE l.invoice_id = $1 AND c.status = 'REVERSED' AND NOT EXISTS (SELECT 1 FROM rebill_decisions d WHERE d.candidate_id = c.id)
		ORDER BY 1`, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
