package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/billing/internal/invoice"
)

// Invoices and credit notes (invoices, invoice_lines) link invoice candidates to what bills
// them; the candidates' own table is posting's (postings.go, candidates.go), read here and only
// moved between OPEN and INVOICED when an invoice or credit note posts.

// openCandidates is the unbilled part of each candidate of the contracts $1: its quantity and
// amount less those of the lines of invoices and credit notes that are not void (credit lines
// are negative), and the count of live invoice lines it is on; what was written off over a cap is
// not unbilled. A candidate whose whole quantity is billed is not open even when a grouped line's
// rounding left a cent of its amount (see invoice.Propose).
const openCandidates = `SELECT c.id::text, c.project_id::text, c.line_key, c.source_type, c.source_id, c.source_date,
		c.quantity - COALESCE(b.q, 0), c.unit_price, c.amount - COALESCE(b.a, 0), c.currency_code, COALESCE(b.live, 0),
		c.resource_id, c.role, c.task_id, c.contract_id::text
	FROM invoice_candidates c
	LEFT JOIN LATERAL (SELECT sum(l.quantity) AS q, sum(l.amount) AS a, count(*) FILTER (WHERE l.live) AS live
		FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id WHERE l.candidate_id = c.id AND i.status <> 'VOID') b0 ON true
	LEFT JOIN LATERAL (SELECT sum(w.quantity) AS q, sum(w.amount) AS a FROM candidate_write_offs w WHERE w.candidate_id = c.id) w ON true
	CROSS JOIN LATERAL (SELECT COALESCE(b0.q, 0) + COALESCE(w.q, 0) AS q, COALESCE(b0.a, 0) + COALESCE(w.a, 0) AS a, b0.live) b
	WHERE c.contract_id = ANY($1::uuid[]) AND c.status NOT IN ('REVERSED', 'WRITTEN_OFF') AND ($2::date IS NULL OR c.source_date <= $2::date)
	  AND c.amount - COALESCE(b.a, 0) > 0 AND c.quantity - COALESCE(b.q, 0) > 0
	ORDER BY c.contract_id, c.source_date, c.id`

// scanOpen reads a row of openCandidates: the open part and its contract.
func scanOpen(r pgx.Row) (o invoice.Open, contractID string, err error) {
	var d time.Time
	var currency string
	err = r.Scan(&o.CandidateID, &o.ProjectID, &o.LineKey, &o.SourceType, &o.SourceID, &d, &o.Quantity, &o.UnitPrice.Value,
		&o.Amount.Value, &currency, &o.Round, &o.ResourceID, &o.Role, &o.TaskID, &contractID)
	o.SourceDate, o.UnitPrice.Currency, o.Amount.Currency = civil.Of(d), currency, currency
	return o, contractID, err
}

// OpenCandidates returns the unbilled part of the contract's candidates dated up to cutOff
// (zero: all), by date then id.
func (s *Store) OpenCandidates(ctx context.Context, contractID string, cutOff civil.Date) ([]invoice.Open, error) {
	rows, err := s.Q(ctx).Query(ctx, openCandidates, []string{contractID}, nullDate(cutOff))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (invoice.Open, error) {
		o, _, err := scanOpen(r)
		return o, err
	})
}

// invoiceCaps is the not-to-exceed caps of the lines of the contracts $1 with what invoices and
// credit notes that are not void bill toward each.
const invoiceCaps = `SELECT cl.contract_id::text, cl.line_key, cl.not_to_exceed, cl.currency_code,
		COALESCE((SELECT sum(l.amount) FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
			WHERE i.contract_id = cl.contract_id AND l.line_key = cl.line_key AND i.status <> 'VOID'), 0)
	FROM contract_lines cl WHERE cl.contract_id = ANY($1::uuid[]) AND cl.not_to_exceed IS NOT NULL`

// scanCap reads a row of invoiceCaps.
func scanCap(r pgx.Row) (contractID, lineKey string, c invoice.Cap, err error) {
	var currency string
	err = r.Scan(&contractID, &lineKey, &c.Limit.Value, &currency, &c.Billed.Value)
	c.Limit.Currency, c.Billed.Currency = currency, currency
	return contractID, lineKey, c, err
}

// InvoiceCaps returns the not-to-exceed caps of the contract's lines with what invoices and
// credit notes that are not void bill toward each.
func (s *Store) InvoiceCaps(ctx context.Context, contractID string) (map[string]invoice.Cap, error) {
	rows, err := s.Q(ctx).Query(ctx, invoiceCaps, []string{contractID})
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]invoice.Cap{}
	for rows.Next() {
		_, key, c, err := scanCap(rows)
		if err != nil {
			return nil, err
		}
		out[key] = c
	}
	return out, rows.Err()
}

// InsertInvoice writes inv and its lines. An invoice's lines are live and bill the round of the
// candidate they were proposed from (Open.Round: the live lines it was on when its open part was
// read); a second live line for the same candidate and round — a proposal from a stale read —
// fails on invoice_lines_one_live: invoice.ErrBusy (the transaction is then lost).
func (s *Store) InsertInvoice(ctx context.Context, inv invoice.Invoice) error {
	var b pg.Batch
	queueInvoice(&b, inv)
	return busy(b.Run(ctx, s.Q(ctx)))
}

// busy translates a violation of the one-live-invoice constraints into invoice.ErrBusy.
func busy(err error) error {
	if pg.IsUniqueViolation(err, "invoice_lines_one_live") || pg.IsUniqueViolation(err, "invoice_lines_one_live_item") {
		return invoice.ErrBusy.Wrap(err)
	}
	return err
}

// queueInvoice adds the statements writing inv and its lines to b.
func queueInvoice(b *pg.Batch, inv invoice.Invoice) {
	b.Queue(`INSERT INTO invoices (id, kind, credits_invoice_id, contract_id, legal_entity_id, customer_id, currency_code,
			status, cut_off, total, over_cap, tax_missing) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		inv.ID, inv.Kind, nullUUID(inv.CreditsID), inv.ContractID, inv.LegalEntityID, inv.CustomerID, inv.Currency, inv.Status,
		nullDate(inv.CutOff), pg.Numeric(inv.Total.Value), pg.Numeric(inv.OverCap.Value), nonNil(inv.TaxMissing))
	live := inv.Kind == invoice.KindInvoice
	var nos, prints, rounds []int32
	var keys, descs, cands, items, projects []string
	var dates []time.Time
	var qtys, prices, amts, rates, taxes []decimal.Decimal
	for _, l := range inv.Lines {
		for j, p := range l.Parts {
			round, tax := int32(p.Round), decimal.Zero
			if !live {
				round = -1
			}
			if j == 0 { // a printed line's tax sits on its first part
				tax = l.Tax.Value
			}
			project := ""
			if p.Item != "" {
				project = l.ProjectID
			}
			nos, prints, rounds = append(nos, int32(len(nos)+1)), append(prints, int32(l.No)), append(rounds, round)
			keys, descs, cands = append(keys, l.LineKey), append(descs, l.Description), append(cands, p.CandidateID)
			items, projects = append(items, p.Item), append(projects, project)
			dates, qtys, prices, amts = append(dates, p.SourceDate.Time()), append(qtys, p.Quantity), append(prices, l.UnitPrice.Value),
				append(amts, p.Amount.Value)
			rates, taxes = append(rates, l.TaxRate), append(taxes, tax)
		}
	}
	// A fee part (milestone, fixed-fee instalment) bills an item of the contract line instead of a candidate.
	b.Queue(`INSERT INTO invoice_lines (invoice_id, line_no, print_no, line_key, description, candidate_id, source_date, round,
			live, quantity, unit_price, amount, tax_rate, tax_amount, billing_item, contract_id, project_id)
		SELECT $1, n, pn, k, d, NULLIF(c, '')::uuid, sd, r, $2, qt, up, am, tr, ta, NULLIF(it, ''),
			CASE WHEN it <> '' THEN $17::uuid END, NULLIF(pj, '')::uuid
		FROM unnest($3::int[], $4::text[], $5::text[], $6::text[], $7::date[], $8::numeric[], $9::numeric[], $10::numeric[], $11::int[],
			$12::numeric[], $13::numeric[], $14::int[], $15::text[], $16::text[]) AS x(n, k, d, c, sd, qt, up, am, r, tr, ta, pn, it, pj)`,
		inv.ID, live, nos, keys, descs, cands, dates, qtys, prices, amts, rounds, rates, taxes, prints, items, projects, inv.ContractID)
}

const invoiceColumns = `i.id::text, i.kind, COALESCE(i.credits_invoice_id::text, ''), i.contract_id::text, i.legal_entity_id::text,
	i.customer_id::text, i.currency_code, i.status, i.cut_off, i.issue_date, COALESCE(i.number, ''), COALESCE(i.fiscal_year, 0),
	i.total, i.over_cap, COALESCE(i.journal_entry_id::text, ''), i.tax_total, i.tax_note, i.exemption_ref, i.tax_missing`

// Invoice returns invoice id with its lines, locked for the transaction when lock is set;
// invoice.ErrNotFound when there is none.
func (s *Store) Invoice(ctx context.Context, id string, lock bool) (invoice.Invoice, error) {
	q := s.Q(ctx)
	sql := `SELECT ` + invoiceColumns + ` FROM invoices i WHERE i.id = $1::uuid`
	if lock {
		sql += ` FOR UPDATE`
	}
	var inv invoice.Invoice
	var cut, issue *time.Time
	err := q.QueryRow(ctx, sql, id).Scan(&inv.ID, &inv.Kind, &inv.CreditsID, &inv.ContractID, &inv.LegalEntityID, &inv.CustomerID,
		&inv.Currency, &inv.Status, &cut, &issue, &inv.Number, &inv.FiscalYear, &inv.Total.Value, &inv.OverCap.Value, &inv.JournalEntryID,
		&inv.Tax.Value, &inv.TaxNote, &inv.ExemptionRef, &inv.TaxMissing)
	if err != nil {
		return inv, pg.NotFound(err, invoice.ErrNotFound)
	}
	inv.CutOff, inv.IssueDate = dateOrZero(cut), dateOrZero(issue)
	inv.Total.Currency, inv.OverCap.Currency, inv.Tax.Currency = inv.Currency, inv.Currency, inv.Currency
	rows, err := q.Query(ctx, `SELECT COALESCE(l.print_no, l.line_no), COALESCE(c.project_id::text, l.project_id::text, ''), l.line_key,
			l.description, COALESCE(l.candidate_id::text, ''), l.source_date, l.quantity, l.unit_price, l.amount,
			COALESCE(c.source_type, CASE WHEN l.billing_item LIKE 'schedule:%' THEN $3 WHEN l.billing_item LIKE 'retainer:%' THEN $4 ELSE $2 END), l.tax_rate, l.tax_amount, l.round, COALESCE(l.billing_item, '')
		FROM invoice_lines l LEFT JOIN invoice_candidates c ON c.id = l.candidate_id WHERE l.invoice_id = $1
		ORDER BY COALESCE(l.print_no, l.line_no), l.line_no`, id, invoice.ItemTypeMilestone, invoice.ItemTypeFixedFee,
		invoice.ItemTypeRetainer)
	if err != nil {
		return inv, err
	}
	parts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (invoice.Line, error) {
		var l invoice.Line
		var d time.Time
		err := r.Scan(&l.No, &l.ProjectID, &l.LineKey, &l.Description, &l.CandidateID, &d, &l.Quantity, &l.UnitPrice.Value, &l.Amount.Value,
			&l.ItemType, &l.TaxRate, &l.Tax.Value, &l.Round, &l.Item)
		l.SourceDate, l.UnitPrice.Currency, l.Amount.Currency, l.Tax.Currency = civil.Of(d), inv.Currency, inv.Currency, inv.Currency
		return l, err
	})
	inv.Lines = foldParts(parts)
	return inv, err
}

// foldParts folds the per-candidate rows of an invoice (by printed line, then row) into its
// printed lines: quantities, amounts and tax summed, the latest date kept.
func foldParts(rows []invoice.Line) []invoice.Line {
	var out []invoice.Line
	for _, r := range rows {
		p := invoice.Part{CandidateID: r.CandidateID, Item: r.Item, SourceDate: r.SourceDate, Quantity: r.Quantity, Amount: r.Amount, Round: r.Round}
		if n := len(out); n > 0 && out[n-1].No == r.No {
			l := &out[n-1]
			l.Parts = append(l.Parts, p)
			l.CandidateID, l.Item, l.Round = "", "", 0
			l.Quantity, l.Amount.Value, l.Tax.Value = l.Quantity.Add(r.Quantity), l.Amount.Value.Add(r.Amount.Value), l.Tax.Value.Add(r.Tax.Value)
			if r.SourceDate.After(l.SourceDate) {
				l.SourceDate = r.SourceDate
			}
			continue
		}
		r.Parts = []invoice.Part{p}
		out = append(out, r)
	}
	return out
}
