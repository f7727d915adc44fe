package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/ledger"
)

// NextInvoiceSeq takes the next number of kind for the legal entity and fiscal year. The
// counter row stays locked until the transaction ends, so concurrent postings queue on it and a
// rolled-back (or killed) posting gives its number back: the sequence has no gaps.
func (s *Store) NextInvoiceSeq(ctx context.Context, legalEntityID string, kind invoice.Kind, year int) (int64, error) {
	var seq int64
	err := s.Q(ctx).QueryRow(ctx, `INSERT INTO invoice_counters AS c (legal_entity_id, kind, fiscal_year, last_seq) VALUES ($1, $2, $3, 1)
		ON CONFLICT (legal_entity_id, kind, fiscal_year) DO UPDATE SET last_seq = c.last_seq + 1 RETURNING last_seq`,
		legalEntityID, kind, year).Scan(&seq)
	return seq, err
}

// MarkInvoicePosted records inv as posted (number, issue date, journal entry) and moves the
// candidates it bills on to INVOICED when nothing of them is open any more; for a credit note,
// the candidates it returns to unbilled back to OPEN.
func (s *Store) MarkInvoicePosted(ctx context.Context, inv invoice.Invoice, seq int64) error {
	q := s.Q(ctx)
	if _, err := q.Exec(ctx, `UPDATE invoices SET status = 'POSTED', number = $2, issue_date = $3, fiscal_year = $4, seq = $5,
			journal_entry_id = $6, tax_total = $7, tax_note = $8, exemption_ref = $9, tax_missing = '{}' WHERE id = $1 AND status = 'DRAFT'`,
		inv.ID, inv.Number, inv.IssueDate.Time(), inv.FiscalYear, seq, nullUUID(inv.JournalEntryID), pg.Numeric(inv.Tax.Value),
		inv.TaxNote, inv.ExemptionRef); err != nil {
		return err
	}
	if err := s.saveLineTax(ctx, inv); err != nil {
		return err
	}
	if err := s.saveLineWIP(ctx, inv); err != nil {
		return err
	}
	// Unbilled while some of its quantity and amount is neither billed nor written off (a grouped
	// line's rounding may leave a cent of the amount: not unbilled once the quantity is billed).
	_, err := q.Exec(ctx, `UPDATE invoice_candidates c SET status = CASE
			WHEN c.amount - b.a - COALESCE((SELECT sum(w.amount) FROM candidate_write_offs w WHERE w.candidate_id = c.id), 0) > 0
			 AND c.quantity - b.q - COALESCE((SELECT sum(w.quantity) FROM candidate_write_offs w WHERE w.candidate_id = c.id), 0) > 0
			THEN 'OPEN' ELSE 'INVOICED' END
		FROM (SELECT l.candidate_id, sum(l.amount) AS a, sum(l.quantity) AS q FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
			WHERE i.status = 'POSTED' AND l.candidate_id IN (SELECT candidate_id FROM invoice_lines WHERE invoice_id = $1)
			GROUP BY l.candidate_id) b
		WHERE c.id = b.candidate_id AND c.status IN ('OPEN', 'INVOICED')`, inv.ID)
	if err != nil || inv.Kind != invoice.KindCreditNote {
		return err
	}
	// A credit note on reversed work settles its credit-note decision (SaveReversedRebills): what
	// posted invoices still bill of it is left to credit; nothing left removes the decision.
	if _, err := q.Exec(ctx, `UPDATE rebill_decisions d SET quantity = b.q, invoiced_amount = b.a, delta = -b.a
		FROM invoice_candidates c, LATERAL (`+billedNet+`) b
		WHERE c.id = d.candidate_id AND c.status = 'REVERSED' AND d.rerated_amount = 0
		  AND c.id IN (SELECT candidate_id FROM invoice_lines WHERE invoice_id = $1)`, inv.ID); err != nil {
		return err
	}
	_, err = q.Exec(ctx, `DELETE FROM rebill_decisions d USING invoice_candidates c
		WHERE c.id = d.candidate_id AND c.status = 'REVERSED' AND d.invoiced_amount <= 0
		  AND c.id IN (SELECT candidate_id FROM invoice_lines WHERE invoice_id = $1)`, inv.ID)
	return err
}

// VoidInvoice voids draft id: its lines stop being live, which frees its candidates.
func (s *Store) VoidInvoice(ctx context.Context, id string) error {
	q := s.Q(ctx)
	if _, err := q.Exec(ctx, `UPDATE invoices SET status = 'VOID' WHERE id = $1 AND status IN ('DRAFT', 'BLOCKED_TAX')`, id); err != nil {
		return err
	}
	_, err := q.Exec(ctx, `UPDATE invoice_lines SET live = false WHERE invoice_id = $1`, id)
	return err
}

// Credited returns what posted credit notes credited of invoice id so far, per candidate: the
// quantity and the amount, both positive (a fee item keyed as invoice.Part.Key).
func (s *Store) Credited(ctx context.Context, id string) (map[string][2]decimal.Decimal, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT COALESCE(l.candidate_id::text, 'item:' || l.billing_item), -sum(l.quantity), -sum(l.amount)
		FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
		WHERE i.credits_invoice_id = $1 AND i.status = 'POSTED' GROUP BY 1`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][2]decimal.Decimal{}
	for rows.Next() {
		var c string
		var q, a decimal.Decimal
		if err := rows.Scan(&c, &q, &a); err != nil {
			return nil, err
		}
		out[c] = [2]decimal.Decimal{q, a}
	}
	return out, rows.Err()
}

// ReversedOnInvoice counts the candidates of invoice id that posting reversed (a corrected time
// entry or expense) since they were proposed.
func (s *Store) ReversedOnInvoice(ctx context.Context, id string) (int64, error) {
	var n int64
	err := s.Q(ctx).QueryRow(ctx, `SELECT count(*) FROM invoice_lines l JOIN invoice_candidates c ON c.id = l.candidate_id
		WHERE l.invoice_id = $1 AND c.status = 'REVERSED'`, id).Scan(&n)
	return n, err
}

// RepricedOnInvoice counts the candidates of invoice id whose rate changed (a contract amendment
// re-rated them) since the lines were proposed at the rate they held then.
func (s *Store) RepricedOnInvoice(ctx context.Context, id string) (int64, error) {
	var n int64
	err := s.Q(ctx).QueryRow(ctx, `SELECT count(*) FROM invoice_lines l JOIN invoice_candidates c ON c.id = l.candidate_id
		WHERE l.invoice_id = $1 AND c.status <> 'REVERSED' AND c.unit_price <> l.unit_price`, id).Scan(&n)
	return n, err
}

// Carrying returns, per candidate of ids, its WIP carrying amount and what posted documents
// other than invoice id (invoice and credit-note lines, net) and write-offs took of it so far:
// quantity, amount and functional WIP relieved (rows from before migration 00110 relieved their
// amount: all in the functional currency). The candidates are locked first (by id) until the
// transaction ends, so a concurrent document relieving the same candidates commits before this
// one reads what they took, and the part that takes the rest relieves exactly the rest.
func (s *Store) Carrying(ctx context.Context, id string, ids []string) (map[string]invoice.Carrying, error) {
	if _, err := s.Q(ctx).Exec(ctx, `SELECT 1 FROM invoice_candidates WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, ids); err != nil {
		return nil, err
	}
	rows, err := s.Q(ctx).Query(ctx, `SELECT c.id::text, c.quantity, c.amount, c.wip_amount,
			COALESCE(b.q, 0) + COALESCE(w.q, 0), COALESCE(b.a, 0) + COALESCE(w.a, 0), COALESCE(b.r, 0) + COALESCE(w.r, 0)
		FROM invoice_candidates c
		LEFT JOIN LATERAL (SELECT sum(l.quantity) AS q, sum(l.amount) AS a, sum(COALESCE(l.wip_amount, l.amount)) AS r
			FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
			WHERE l.candidate_id = c.id AND i.status = 'POSTED' AND i.id <> $1::uuid) b ON true
		LEFT JOIN LATERAL (SELECT sum(w.quantity) AS q, sum(w.amount) AS a, sum(COALESCE(w.wip_amount, w.amount)) AS r
			FROM candidate_write_offs w WHERE w.candidate_id = c.id) w ON true
		WHERE c.id = ANY($2::uuid[])`, id, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]invoice.Carrying{}
	for rows.Next() {
		var cid string
		var c invoice.Carrying
		if err := rows.Scan(&cid, &c.Quantity, &c.Amount, &c.WIP, &c.TakenQty, &c.TakenAmt, &c.TakenWIP); err != nil {
			return nil, err
		}
		out[cid] = c
	}
	return out, rows.Err()
}

// InvoiceCarrying returns, per candidate posted invoice id bills, what it bills of it net of its
// posted credit notes: quantity, amount and the functional WIP relieved (what a credit note
// puts back in proportion). It also returns, keyed "item:" and the item, what each "retainer
// applied" line of the invoice draws net of its credit notes, the amount and WIP as positives
// (the drawdown and the 1200 debit it made), when the invoice recorded that WIP (foreign
// currency, see invoice.SetRetainerWIP).
func (s *Store) InvoiceCarrying(ctx context.Context, id string) (map[string]invoice.Carrying, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT l.candidate_id::text, sum(l.quantity), sum(l.amount), sum(COALESCE(l.wip_amount, l.amount))
		FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
		WHERE l.candidate_id IS NOT NULL AND (i.id = $1::uuid OR (i.credits_invoice_id = $1::uuid AND i.status = 'POSTED'))
		GROUP BY 1
		UNION ALL
		SELECT 'item:' || l.billing_item, sum(l.quantity), -sum(l.amount), -sum(l.wip_amount)
		FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
		WHERE l.billing_item LIKE $2 AND (i.id = $1::uuid OR (i.credits_invoice_id = $1::uuid AND i.status = 'POSTED'))
		GROUP BY 1 HAVING bool_and(l.wip_amount IS NOT NULL OR l.invoice_id <> $1::uuid)`, id, invoice.RetainerAppliedItem("")+"%")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]invoice.Carrying{}
	for rows.Next() {
		var cid string
		var c invoice.Carrying
		if err := rows.Scan(&cid, &c.Quantity, &c.Amount, &c.WIP); err != nil {
			return nil, err
		}
		out[cid] = c
	}
	return out, rows.Err()
}

// saveLineWIP records the functional WIP each candidate part of posted inv relieved (an invoice
// bills a candidate on one row). A part relieving its own amount (every part of a same-currency
// invoice) is left NULL, which readers take as the amount: posting writes nothing more for it.
// A "retainer applied" part of a foreign-currency document records the 1200 it debited (an
// invoice, negative) or put back (a credit note, positive) at the advance's carrying rate; its
// row is NULL in the same currency (SetRetainerWIP sets nothing there).
func (s *Store) saveLineWIP(ctx context.Context, inv invoice.Invoice) error {
	var cands, items []string
	var wips, itemWIPs []decimal.Decimal
	for _, l := range inv.Lines {
		for _, p := range l.Parts {
			switch {
			case p.CandidateID != "" && !p.WIP.Equal(p.Amount.Value):
				cands, wips = append(cands, p.CandidateID), append(wips, p.WIP)
			case p.CandidateID == "" && invoice.IsRetainerApplied(p.Item) && !p.WIP.IsZero():
				items, itemWIPs = append(items, p.Item), append(itemWIPs, p.WIP)
			}
		}
	}
	if len(cands) > 0 {
		if _, err := s.Q(ctx).Exec(ctx, `UPDATE invoice_lines l SET wip_amount = x.w
			FROM unnest($2::uuid[], $3::numeric[]) AS x(c, w) WHERE l.invoice_id = $1 AND l.candidate_id = x.c`, inv.ID, cands, wips); err != nil {
			return err
		}
	}
	if len(items) > 0 {
		if _, err := s.Q(ctx).Exec(ctx, `UPDATE invoice_lines l SET wip_amount = x.w
			FROM unnest($2::text[], $3::numeric[]) AS x(i, w) WHERE l.invoice_id = $1 AND l.billing_item = x.i`, inv.ID, items, itemWIPs); err != nil {
			return err
		}
	}
	return nil
}

var retainerLock = pg.NewLock("billing.retainer")

// RetainerCarrying returns, per RETAINER line key of contract contractID, the advance billed on
// posted documents other than invoice id net of credit notes (Amount, contract currency; WIP,
// functional: each line's amount at its document's receivable rate, rounded) and what posted
// "retainer applied" lines drew of it net (TakenAmt and TakenWIP, positive; TakenWIP what each
// line recorded, or for a line without it, its amount at its document's rate); Quantity and
// TakenQty mirror Amount and TakenAmt (invoice.SetRetainerWIP). It locks the contract's
// retainers until the transaction ends, so two drawdown invoices of one contract post one after
// the other and the second reads what the first drew.
func (s *Store) RetainerCarrying(ctx context.Context, contractID, id string) (map[string]invoice.Carrying, error) {
	if err := retainerLock.Acquire(ctx, s.Q(ctx), contractID); err != nil {
		return nil, err
	}
	rows, err := s.Q(ctx).Query(ctx, `WITH x AS (
			SELECT l.line_key, l.billing_item = $3 AS advance, l.amount,
				COALESCE(l.wip_amount, round(l.amount * COALESCE((SELECT jl.fx_rate FROM journal_lines jl
					WHERE jl.entry_id = i.journal_entry_id AND jl.account_code = $5 ORDER BY jl.line_no LIMIT 1), 1), 2)) AS wip
			FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
			WHERE i.contract_id = $1::uuid AND i.status = 'POSTED' AND i.id <> $2::uuid AND (l.billing_item = $3 OR l.billing_item LIKE $4))
		SELECT line_key, COALESCE(sum(amount) FILTER (WHERE advance), 0), COALESCE(sum(wip) FILTER (WHERE advance), 0),
			-COALESCE(sum(amount) FILTER (WHERE NOT advance), 0), -COALESCE(sum(wip) FILTER (WHERE NOT advance), 0)
		FROM x GROUP BY line_key`, contractID, id, invoice.RetainerAdvanceItem, invoice.RetainerAppliedItem("")+"%", ledger.AccountsReceivable)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]invoice.Carrying{}
	for rows.Next() {
		var key string
		var c invoice.Carrying
		if err := rows.Scan(&key, &c.Amount, &c.WIP, &c.TakenAmt, &c.TakenWIP); err != nil {
			return nil, err
		}
		c.Quantity, c.TakenQty = c.Amount, c.TakenAmt
		out[key] = c
	}
	return out, rows.Err()
}

// EntryRate returns the exchange rate of the first line of account in journal entry id (ok
// false when it has none).
func (s *Store) EntryRate(ctx context.Context, id, account string) (decimal.Decimal, bool, error) {
	var r decimal.Decimal
	err := s.Q(ctx).QueryRow(ctx, `SELECT fx_rate FROM journal_lines WHERE entry_id = $1 AND account_code = $2 ORDER BY line_no LIMIT 1`,
		id, account).Scan(&r)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, false, nil
	}
	return r, err == nil, err
}
