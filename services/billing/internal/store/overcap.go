package store

import (
	"context"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/services/billing/internal/invoice"
)

// SaveWriteOff records write-off id of the over-cap parts of lines (journal entry entryID, wip: the
// functional WIP relieved per candidate): their
// quantities and amounts stop counting as unbilled; a candidate no invoice bills becomes
// WRITTEN_OFF, one posted invoices bill the rest of INVOICED.
func (s *Store) SaveWriteOff(ctx context.Context, id, contractID, entryID, actor string, lines []invoice.OverCapLine, wip map[string]decimal.Decimal) error {
	var cands, keys []string
	var qtys, amts, wips []decimal.Decimal
	for _, l := range lines {
		for _, c := range l.Candidates {
			cands, keys = append(cands, c.CandidateID), append(keys, l.LineKey)
			qtys, amts, wips = append(qtys, c.Quantity), append(amts, c.Amount.Value), append(wips, wip[c.CandidateID])
		}
	}
	q := s.Q(ctx)
	if _, err := q.Exec(ctx, `INSERT INTO candidate_write_offs (id, candidate_id, contract_id, line_key, quantity, amount, journal_entry_id, actor, wip_amount)
		SELECT $1, c::uuid, $2, k, qt, am, $3, $4, wp FROM unnest($5::text[], $6::text[], $7::numeric[], $8::numeric[], $9::numeric[]) AS x(c, k, qt, am, wp)`,
		id, contractID, entryID, actor, cands, keys, qtys, amts, wips); err != nil {
		return err
	}
	// Written off whole: WRITTEN_OFF; else INVOICED once posted invoices and write-offs cover its
	// quantity (a draft's part waits for its posting, which decides then).
	_, err := q.Exec(ctx, `UPDATE invoice_candidates c SET status = CASE
			WHEN NOT EXISTS (SELECT 1 FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id WHERE l.candidate_id = c.id AND i.status <> 'VOID')
			THEN 'WRITTEN_OFF'
			WHEN c.quantity <= COALESCE((SELECT sum(l.quantity) FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
					WHERE l.candidate_id = c.id AND i.status = 'POSTED'), 0)
				+ (SELECT sum(w.quantity) FROM candidate_write_offs w WHERE w.candidate_id = c.id)
			THEN 'INVOICED' ELSE 'OPEN' END
		WHERE c.id = ANY($1::uuid[]) AND c.status = 'OPEN'`, cands)
	return err
}
