package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/billing/internal/receivable"
)

// Receivables: payment terms and policies, invoices' instalments, payments, and the dated
// movements (credits, payments, write-offs) that reduce instalments.

type instalmentRow struct {
	Percent decimal.Decimal `json:"percent"`
	DueDays int             `json:"due_days"`
}

// SetPaymentTerms records t (the same legal entity and code replaces it).
func (s *Store) SetPaymentTerms(ctx context.Context, t receivable.Terms) error {
	rows := make([]instalmentRow, len(t.Instalments))
	for i, in := range t.Instalments {
		rows[i] = instalmentRow{in.Percent, in.DueDays}
	}
	b, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	_, err = s.Q(ctx).Exec(ctx, `INSERT INTO payment_terms (legal_entity_id, code, description, instalments) VALUES ($1, $2, $3, $4)
		ON CONFLICT (legal_entity_id, code) DO UPDATE SET description = EXCLUDED.description, instalments = EXCLUDED.instalments, updated_at = now()`,
		t.LegalEntityID, t.Code, t.Description, b)
	return err
}

// ListPaymentTerms returns a legal entity's payment terms by code.
func (s *Store) ListPaymentTerms(ctx context.Context, legalEntityID string) ([]receivable.Terms, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT code, description, instalments FROM payment_terms WHERE legal_entity_id = $1 ORDER BY code`, legalEntityID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (receivable.Terms, error) {
		t := receivable.Terms{LegalEntityID: legalEntityID}
		var b []byte
		if err := r.Scan(&t.Code, &t.Description, &b); err != nil {
			return t, err
		}
		var ins []instalmentRow
		if err := json.Unmarshal(b, &ins); err != nil {
			return t, err
		}
		for _, in := range ins {
			t.Instalments = append(t.Instalments, receivable.Instalment{Percent: in.Percent, DueDays: in.DueDays})
		}
		return t, nil
	})
}

// PaymentTerms returns the terms of code, nil when the legal entity has none.
func (s *Store) PaymentTerms(ctx context.Context, legalEntityID, code string) (*receivable.Terms, error) {
	all, err := s.ListPaymentTerms(ctx, legalEntityID)
	if err != nil {
		return nil, err
	}
	for _, t := range all {
		if t.Code == code {
			return &t, nil
		}
	}
	return nil, nil
}

// SetReceivablesPolicy records a legal entity's policy.
func (s *Store) SetReceivablesPolicy(ctx context.Context, p receivable.Policy) error {
	_, err := s.Q(ctx).Exec(ctx, `INSERT INTO receivables_policies (legal_entity_id, default_terms, write_off_tolerance) VALUES ($1, $2, $3)
		ON CONFLICT (legal_entity_id) DO UPDATE SET default_terms = EXCLUDED.default_terms, write_off_tolerance = EXCLUDED.write_off_tolerance`,
		p.LegalEntityID, p.DefaultTerms, pg.Numeric(p.Tolerance))
	return err
}

// ReceivablesPolicy returns a legal entity's policy (no default terms and no tolerance when
// none was set).
func (s *Store) ReceivablesPolicy(ctx context.Context, legalEntityID string) (receivable.Policy, error) {
	p := receivable.Policy{LegalEntityID: legalEntityID, Tolerance: decimal.Zero}
	err := s.Q(ctx).QueryRow(ctx, `SELECT default_terms, write_off_tolerance FROM receivables_policies WHERE legal_entity_id = $1`,
		legalEntityID).Scan(&p.DefaultTerms, &p.Tolerance)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, nil
	}
	return p, err
}

// InsertSchedule writes a posted invoice's instalments.
func (s *Store) InsertSchedule(ctx context.Context, dues []receivable.Due) error {
	b := &pgx.Batch{}
	for _, d := range dues {
		b.Queue(`INSERT INTO invoice_instalments (invoice_id, no, legal_entity_id, customer_id, currency_code, issue_date, due_date, amount, functional, fx_rate)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, d.InvoiceID, d.No, d.LegalEntityID, d.CustomerID, d.Amount.Currency,
			d.IssueDate.Time(), d.DueDate.Time(), pg.Numeric(d.Amount.Value), pg.Numeric(d.Functional), pg.Numeric(d.FXRate))
	}
	return s.Q(ctx).SendBatch(ctx, b).Close()
}

// dueColumns reads an instalment; the movement sums are those dated up to $asOf (NULL: all).
const dueColumns = `i.invoice_id::text, COALESCE(v.number, ''), i.no, i.legal_entity_id::text, i.customer_id::text, i.currency_code,
	i.issue_date, i.due_date, i.amount, i.functional, i.fx_rate`

func scanDue(r pgx.CollectableRow) (receivable.Due, error) {
	var d receivable.Due
	var issue, due time.Time
	dest := []any{&d.InvoiceID, &d.InvoiceNumber, &d.No, &d.LegalEntityID, &d.CustomerID, &d.Amount.Currency, &issue, &due,
		&d.Amount.Value, &d.Functional, &d.FXRate, &d.Credited, &d.Paid, &d.WrittenOff, &d.Relieved}
	err := r.Scan(dest...)
	d.IssueDate, d.DueDate = civil.Of(issue), civil.Of(due)
	return d, err
}

// Dues returns the instalments of invoiceIDs by invoice and number, locked for the
// transaction when lock (always in that order, so concurrent appliers never deadlock).
func (s *Store) Dues(ctx context.Context, invoiceIDs []string, lock bool) ([]receivable.Due, error) {
	sql := `SELECT ` + dueColumns + `, i.credited, i.paid, i.written_off, i.relieved
		FROM invoice_instalments i JOIN invoices v ON v.id = i.invoice_id
		WHERE i.invoice_id = ANY($1::uuid[]) ORDER BY i.invoice_id, i.no`
	if lock {
		sql += ` FOR UPDATE OF i`
	}
	rows, err := s.Q(ctx).Query(ctx, sql, invoiceIDs)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (receivable.Due, error) { return scanDue(r) })
}

// OpenInvoices returns the ids of a customer's invoices in currency with something open.
func (s *Store) OpenInvoices(ctx context.Context, legalEntityID, customerID, currency string) ([]string, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT DISTINCT invoice_id::text FROM invoice_instalments
		WHERE legal_entity_id = $1 AND customer_id = $2 AND currency_code = $3 AND amount - credited - paid - written_off > 0`,
		legalEntityID, customerID, currency)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// DuesAsOf returns the instalments of a legal entity's invoices issued up to asOf with the
// movements dated up to asOf only (customerID "" all customers).
func (s *Store) DuesAsOf(ctx context.Context, legalEntityID, customerID string, asOf civil.Date) ([]receivable.Due, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT `+dueColumns+`,
			COALESCE(m.credited, 0), COALESCE(m.paid, 0), COALESCE(m.written_off, 0), COALESCE(m.relieved, 0)
		FROM invoice_instalments i JOIN invoices v ON v.id = i.invoice_id
		LEFT JOIN LATERAL (SELECT sum(amount) FILTER (WHERE kind = 'CREDIT') AS credited, sum(amount) FILTER (WHERE kind = 'PAYMENT') AS paid,
				sum(amount) FILTER (WHERE kind = 'WRITE_OFF') AS written_off, sum(functional) AS relieved
			FROM receivable_movements WHERE invoice_id = i.invoice_id AND no = i.no AND movement_date <= $3) m ON true
		WHERE i.legal_entity_id = $1 AND ($2 = '' OR i.customer_id::text = $2) AND i.issue_date <= $3
		ORDER BY i.customer_id, i.due_date, v.number, i.no`, legalEntityID, customerID, asOf.Time())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (receivable.Due, error) { return scanDue(r) })
}

// AddMovements records movements dated d and adds them to their instalments' totals; the
// CHECK on invoice_instalments refuses any that would leave an instalment below zero.
func (s *Store) AddMovements(ctx context.Context, d civil.Date, ref receivable.MovementRef, moves []receivable.Movement) error {
	b := &pgx.Batch{}
	for _, m := range moves {
		b.Queue(`INSERT INTO receivable_movements (invoice_id, no, kind, movement_date, amount, functional, payment_id, application_id, credit_note_id, journal_entry_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, m.InvoiceID, m.No, m.Kind, d.Time(), pg.Numeric(m.Amount), pg.Numeric(m.Functional),
			pg.UUID(ref.PaymentID), pg.UUID(ref.ApplicationID), pg.UUID(ref.CreditNoteID), pg.UUID(ref.JournalEntryID))
		col := map[string]string{receivable.MoveCredit: "credited", receivable.MovePayment: "paid", receivable.MoveWriteOff: "written_off"}[m.Kind]
		b.Queue(`UPDATE invoice_instalments SET `+col+` = `+col+` + $3, relieved = relieved + $4 WHERE invoice_id = $1 AND no = $2`,
			m.InvoiceID, m.No, pg.Numeric(m.Amount), pg.Numeric(m.Functional))
	}
	return pg.Constraint(s.Q(ctx).SendBatch(ctx, b).Close())
}

// ApplicationMoves returns the movements of application id (none: it never happened).
func (s *Store) ApplicationMoves(ctx context.Context, id string) ([]receivable.Movement, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT invoice_id::text, no, kind, amount, functional FROM receivable_movements
		WHERE application_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (receivable.Movement, error) {
		var m receivable.Movement
		return m, r.Scan(&m.InvoiceID, &m.No, &m.Kind, &m.Amount, &m.Functional)
	})
}

const paymentColumns = `id::text, legal_entity_id::text, customer_id::text, reference, currency_code, amount, payment_date, fx_rate, functional,
	applied, applied_functional, refunded, refunded_functional, journal_entry_id::text`

func scanPayment(r pgx.Row) (receivable.Payment, error) {
	var p receivable.Payment
	var d time.Time
	err := r.Scan(&p.ID, &p.LegalEntityID, &p.CustomerID, &p.Reference, &p.Amount.Currency, &p.Amount.Value, &d, &p.FXRate, &p.Functional,
		&p.Applied, &p.AppliedFunctional, &p.Refunded, &p.RefundedFunctional, &p.JournalEntryID)
	p.Date = civil.Of(d)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, receivable.ErrPaymentNotFound
	}
	return p, err
}

// InsertPayment writes a new payment; a reference the legal entity already used fails with
// receivable.ErrReferenceTaken (the transaction is then lost).
func (s *Store) InsertPayment(ctx context.Context, p receivable.Payment) error {
	_, err := s.Q(ctx).Exec(ctx, `INSERT INTO payments (id, legal_entity_id, customer_id, reference, currency_code, amount, payment_date, fx_rate, functional, journal_entry_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, p.ID, p.LegalEntityID, p.CustomerID, p.Reference, p.Amount.Currency,
		pg.Numeric(p.Amount.Value), p.Date.Time(), pg.Numeric(p.FXRate), pg.Numeric(p.Functional), p.JournalEntryID)
	if pg.IsUniqueViolation(err, "payments_reference") {
		return receivable.ErrReferenceTaken
	}
	return err
}

// Payment returns a payment (locked when lock), receivable.ErrPaymentNotFound.
func (s *Store) Payment(ctx context.Context, id string, lock bool) (receivable.Payment, error) {
	sql := `SELECT ` + paymentColumns + ` FROM payments WHERE id = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	return scanPayment(s.Q(ctx).QueryRow(ctx, sql, id))
}

// PaymentByReference returns the payment of a legal entity's reference, nil when none.
func (s *Store) PaymentByReference(ctx context.Context, legalEntityID, reference string) (*receivable.Payment, error) {
	p, err := scanPayment(s.Q(ctx).QueryRow(ctx, `SELECT `+paymentColumns+` FROM payments WHERE legal_entity_id = $1 AND reference = $2`,
		legalEntityID, reference))
	if errors.Is(err, receivable.ErrPaymentNotFound) {
		return nil, nil
	}
	return &p, err
}

// AddApplied adds an application to a payment's applied totals.
func (s *Store) AddApplied(ctx context.Context, id string, amount, functional decimal.Decimal) error {
	_, err := s.Q(ctx).Exec(ctx, `UPDATE payments SET applied = applied + $2, applied_functional = applied_functional + $3 WHERE id = $1`,
		id, pg.Numeric(amount), pg.Numeric(functional))
	return pg.Constraint(err)
}

// CustomerPayments returns a customer's payments dated from..to with what was applied and
// refunded of each by to.
func (s *Store) CustomerPayments(ctx context.Context, legalEntityID, customerID string, from, to civil.Date) ([]receivable.Payment, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT id::text, legal_entity_id::text, customer_id::text, reference, currency_code, amount, payment_date, fx_rate, functional,
			COALESCE((SELECT sum(amount) FROM receivable_movements m WHERE m.payment_id = p.id AND m.kind = 'PAYMENT' AND m.movement_date <= $4), 0),
			0::numeric, COALESCE((SELECT sum(amount) FROM payment_refunds r WHERE r.payment_id = p.id AND r.refund_date <= $4), 0),
			0::numeric, journal_entry_id::text
		FROM payments p WHERE legal_entity_id = $1 AND customer_id = $2 AND payment_date BETWEEN $3 AND $4 ORDER BY payment_date, reference`,
		legalEntityID, customerID, from.Time(), to.Time())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (receivable.Payment, error) { return scanPayment(r) })
}

// AccountBalance is debits minus credits of a legal entity's account over entries posted up
// to asOf.
func (s *Store) AccountBalance(ctx context.Context, legalEntityID, account string, asOf civil.Date) (decimal.Decimal, error) {
	var b decimal.Decimal
	err := s.Q(ctx).QueryRow(ctx, `SELECT COALESCE(sum(l.debit - l.credit), 0) FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id
		WHERE l.legal_entity_id = $1 AND l.account_code = $2 AND e.posting_date <= $3`, legalEntityID, account, asOf.Time()).Scan(&b)
	return b, err
}

// OpenReceivables sums, per functional currency and aging bucket, what every legal entity's
// instalments hold of the receivable today (asOf), for the AR gauges.
func (s *Store) OpenReceivables(ctx context.Context, asOf civil.Date) (map[string]receivable.Buckets, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT le.functional_currency, i.due_date, sum(i.functional - i.relieved)
		FROM invoice_instalments i JOIN legal_entities le ON le.id = i.legal_entity_id
		WHERE i.functional - i.relieved <> 0 GROUP BY 1, 2`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]receivable.Buckets{}
	for rows.Next() {
		var cur string
		var due time.Time
		var v decimal.Decimal
		if err := rows.Scan(&cur, &due, &v); err != nil {
			return nil, err
		}
		if out[cur] == nil {
			out[cur] = receivable.Buckets{}
		}
		b := receivable.BucketOf(civil.Of(due), asOf)
		out[cur][b] = out[cur][b].Add(v)
	}
	return out, rows.Err()
}

// UnbilledAmount sums, per currency, the open invoice candidates (time and expenses) less what
// live invoices already bill of them.
func (s *Store) UnbilledAmount(ctx context.Context) (map[string]decimal.Decimal, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT c.currency_code, sum(c.amount - COALESCE(b.a, 0)) FROM invoice_candidates c
		LEFT JOIN (SELECT l.candidate_id, sum(l.amount) AS a FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
			WHERE i.status <> 'VOID' GROUP BY l.candidate_id) b ON b.candidate_id = c.id
		WHERE c.status = 'OPEN' GROUP BY c.currency_code`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]decimal.Decimal{}
	for rows.Next() {
		var cur string
		var v decimal.Decimal
		if err := rows.Scan(&cur, &v); err != nil {
			return nil, err
		}
		out[cur] = v
	}
	return out, rows.Err()
}

const refundColumns = `id::text, payment_id::text, legal_entity_id::text, customer_id::text, reference, currency_code, amount, refund_date,
	fx_rate, cash, carrying, journal_entry_id::text`

func scanRefund(r pgx.Row) (receivable.Refund, error) {
	var f receivable.Refund
	var d time.Time
	err := r.Scan(&f.ID, &f.PaymentID, &f.LegalEntityID, &f.CustomerID, &f.Reference, &f.Amount.Currency, &f.Amount.Value, &d,
		&f.FXRate, &f.Cash, &f.Carrying, &f.JournalEntryID)
	f.Date = civil.Of(d)
	return f, err
}

// InsertRefund writes refund r and adds it to its payment's refunded totals; a reference the
// legal entity already used fails with receivable.ErrRefundReferenceTaken and a refund past the
// payment's unapplied amount with the CHECK's fault (the transaction is then lost).
func (s *Store) InsertRefund(ctx context.Context, r receivable.Refund) error {
	_, err := s.Q(ctx).Exec(ctx, `INSERT INTO payment_refunds (id, payment_id, legal_entity_id, customer_id, reference, currency_code, amount,
			refund_date, fx_rate, cash, carrying, journal_entry_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		r.ID, r.PaymentID, r.LegalEntityID, r.CustomerID, r.Reference, r.Amount.Currency, pg.Numeric(r.Amount.Value), r.Date.Time(),
		pg.Numeric(r.FXRate), pg.Numeric(r.Cash), pg.Numeric(r.Carrying), r.JournalEntryID)
	if pg.IsUniqueViolation(err, "payment_refunds_reference") {
		return receivable.ErrRefundReferenceTaken
	}
	if err != nil {
		return err
	}
	_, err = s.Q(ctx).Exec(ctx, `UPDATE payments SET refunded = refunded + $2, refunded_functional = refunded_functional + $3 WHERE id = $1`,
		r.PaymentID, pg.Numeric(r.Amount.Value), pg.Numeric(r.Carrying))
	return pg.Constraint(err)
}

// RefundByReference returns the refund of a legal entity's reference, nil when none.
func (s *Store) RefundByReference(ctx context.Context, legalEntityID, reference string) (*receivable.Refund, error) {
	r, err := scanRefund(s.Q(ctx).QueryRow(ctx, `SELECT `+refundColumns+` FROM payment_refunds WHERE legal_entity_id = $1 AND reference = $2`,
		legalEntityID, reference))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return &r, err
}

// CustomerRefunds returns a customer's refunds dated from..to, by date and reference.
func (s *Store) CustomerRefunds(ctx context.Context, legalEntityID, customerID string, from, to civil.Date) ([]receivable.Refund, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT `+refundColumns+` FROM payment_refunds
		WHERE legal_entity_id = $1 AND customer_id = $2 AND refund_date BETWEEN $3 AND $4 ORDER BY refund_date, reference`,
		legalEntityID, customerID, from.Time(), to.Time())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (receivable.Refund, error) { return scanRefund(r) })
}
