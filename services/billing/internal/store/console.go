package store

import (
	"context"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/insight"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/ledger"
)

// ConsoleKPIs computes the billing KPIs of the operations console within the legal entities only
// (nil: every entity): unbilled time and unbilled amount (open invoice candidates of time, and of
// every source), WIP and AR outstanding (the balances of the unbilled and accounts receivable
// accounts, functional currency), invoices blocked by missing tax data, and supplier cost
// awaiting allocation. Amounts are one value per currency.
func (s *Store) ConsoleKPIs(ctx context.Context, only []string) ([]insight.KpiValue, error) {
	q := s.Q(ctx)
	var out []insight.KpiValue
	collect := func(kpi, sql string, args ...any) error {
		rows, err := q.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		vs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (insight.KpiValue, error) {
			var a money.Amount
			err := r.Scan(&a.Currency, &a.Value)
			return insight.KpiValue{KPI: kpi, Value: a.Format(), Currency: a.Currency}, err
		})
		out = append(out, vs...)
		return err
	}
	const candidates = `SELECT c.currency_code, sum(c.amount) FROM invoice_candidates c
		WHERE c.status = 'OPEN' AND ($2 = '' OR c.source_type = $2)
		  AND ($1::text[] IS NULL OR EXISTS (SELECT 1 FROM project_replicas p
		       WHERE p.project_id = c.project_id AND p.legal_entity_id::text = ANY($1::text[])))
		GROUP BY c.currency_code ORDER BY c.currency_code`
	const balance = `SELECT le.functional_currency, sum(l.debit - l.credit) FROM journal_lines l
		JOIN legal_entities le ON le.id = l.legal_entity_id
		WHERE l.account_code = $2 AND ($1::text[] IS NULL OR l.legal_entity_id::text = ANY($1::text[]))
		GROUP BY 1 ORDER BY 1`
	for _, c := range []struct{ kpi, sql, arg string }{
		{"unbilled_time", candidates, "time_entry"},
		{"unbilled_amount", candidates, ""},
		{"wip", balance, ledger.UnbilledReceivables},
		{"ar_outstanding", balance, ledger.AccountsReceivable},
	} {
		if err := collect(c.kpi, c.sql, only, c.arg); err != nil {
			return nil, err
		}
	}
	if err := collect("supplier_cost_awaiting_allocation", `SELECT currency_code, sum(amount) FROM supplier_bill_lines
		WHERE status <> 'ALLOCATED' AND ($1::text[] IS NULL OR legal_entity_id::text = ANY($1::text[]))
		GROUP BY 1 ORDER BY 1`, only); err != nil {
		return nil, err
	}
	var blocked string
	if err := q.QueryRow(ctx, `SELECT count(*)::text FROM invoices WHERE status = 'BLOCKED_TAX'
		AND ($1::text[] IS NULL OR legal_entity_id::text = ANY($1::text[]))`, only).Scan(&blocked); err != nil {
		return nil, err
	}
	return append(out, insight.KpiValue{KPI: "invoices_blocked_tax", Value: blocked}), nil
}

// TraceRecords is the billing service's trace hook: postings (journal entries) whose source,
// id, project or correlation id is among the keys, invoices by id, contract or project, and
// payments and their applications by payment, invoice or customer id (see tracePayments).
func (s *Store) TraceRecords(ctx context.Context, keys, corr []string, limit int) (insight.Found, error) {
	var f insight.Found
	q := s.Q(ctx)
	rows, err := q.Query(ctx, `SELECT e.id::text, e.created_at, e.source_type, e.source_id, e.description, e.correlation_id,
			e.currency_code, COALESCE((SELECT sum(l.debit) FROM journal_lines l WHERE l.entry_id = e.id), 0)::text, e.reverses_id IS NOT NULL
		FROM journal_entries e
		WHERE e.source_id = ANY($1) OR e.id::text = ANY($1)
		   OR EXISTS (SELECT 1 FROM journal_lines l WHERE l.entry_id = e.id AND l.project_id::text = ANY($1))
		ORDER BY e.created_at LIMIT $2`, keys, limit+1)
	if err != nil {
		return f, err
	}
	for rows.Next() {
		var it insight.Item
		var srcType, srcID, desc, cur, total string
		var reversal bool
		if err := rows.Scan(&it.EntityID, &it.Time, &srcType, &srcID, &desc, &it.CorrelationID, &cur, &total, &reversal); err != nil {
			rows.Close()
			return f, err
		}
		if len(f.Items) == limit {
			f.Truncated = true
			break
		}
		it.Kind, it.EntityType, it.Status = insight.KindPosting, "journal_entry", "POSTED"
		if reversal {
			it.Status = "REVERSAL"
		}
		it.Title = "journal entry " + total + " " + cur
		it.Detail = desc + " (" + srcType + " " + srcID + ")"
		f.Items = append(f.Items, it)
		f.CorrelationIDs = append(f.CorrelationIDs, it.CorrelationID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return f, err
	}
	rows, err = q.Query(ctx, `SELECT i.id::text, i.created_at, i.kind, i.status, COALESCE(i.number, ''), i.total::text, i.currency_code
		FROM invoices i
		WHERE i.id::text = ANY($1) OR i.contract_id::text = ANY($1)
		   OR EXISTS (SELECT 1 FROM invoice_lines il JOIN invoice_candidates c ON c.id = il.candidate_id
		              WHERE il.invoice_id = i.id AND (c.project_id::text = ANY($1) OR c.source_id = ANY($1)))
		ORDER BY i.created_at LIMIT $2`, keys, limit+1)
	if err != nil {
		return f, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var it insight.Item
		var kind, number, total, cur string
		if err := rows.Scan(&it.EntityID, &it.Time, &kind, &it.Status, &number, &total, &cur); err != nil {
			return f, err
		}
		if n++; n > limit {
			f.Truncated = true
			break
		}
		it.Kind, it.EntityType = insight.KindInvoice, "invoice"
		it.Title = kind + " " + total + " " + cur
		if number != "" {
			it.Title += " no. " + number
		}
		f.Items = append(f.Items, it)
	}
	if err := rows.Err(); err != nil {
		return f, err
	}
	rows.Close()
	return s.tracePayments(ctx, f, keys, limit)
}

// tracePayments adds to f the payments whose id or customer is among the keys or that were
// applied to an invoice among them (status APPLIED, PARTIALLY_APPLIED or UNAPPLIED), and their
// applications to invoices (one item per instalment applied, dated by its journal entry).
func (s *Store) tracePayments(ctx context.Context, f insight.Found, keys []string, limit int) (insight.Found, error) {
	q := s.Q(ctx)
	rows, err := q.Query(ctx, `SELECT p.id::text, p.created_at, p.reference, p.amount::text, p.applied::text, p.currency_code,
			p.customer_id::text, p.payment_date::text, p.amount = p.applied, p.applied > 0
		FROM payments p
		WHERE p.id::text = ANY($1) OR p.customer_id::text = ANY($1)
		   OR EXISTS (SELECT 1 FROM receivable_movements m WHERE m.payment_id = p.id AND m.kind = 'PAYMENT' AND m.invoice_id::text = ANY($1))
		ORDER BY p.created_at LIMIT $2`, keys, limit+1)
	if err != nil {
		return f, err
	}
	n := 0
	for rows.Next() {
		var it insight.Item
		var ref, amount, applied, cur, customer, date string
		var full, some bool
		if err := rows.Scan(&it.EntityID, &it.Time, &ref, &amount, &applied, &cur, &customer, &date, &full, &some); err != nil {
			rows.Close()
			return f, err
		}
		if n++; n > limit {
			f.Truncated = true
			break
		}
		it.Kind, it.EntityType, it.Status = insight.KindPayment, "payment", "UNAPPLIED"
		switch {
		case full:
			it.Status = "APPLIED"
		case some:
			it.Status = "PARTIALLY_APPLIED"
		}
		it.Title = "payment " + amount + " " + cur + " ref. " + ref
		it.Detail = "customer " + customer + ", paid " + date + ", applied " + applied + " " + cur
		f.Items = append(f.Items, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return f, err
	}
	rows, err = q.Query(ctx, `SELECT COALESCE(m.application_id::text, m.id::text), COALESCE(e.created_at, m.movement_date::timestamptz),
			m.invoice_id::text, m.no, m.amount::text, p.currency_code, p.id::text, p.reference, COALESCE(e.correlation_id, '')
		FROM receivable_movements m JOIN payments p ON p.id = m.payment_id
		LEFT JOIN journal_entries e ON e.id = m.journal_entry_id
		WHERE m.kind = 'PAYMENT' AND (m.invoice_id::text = ANY($1) OR p.id::text = ANY($1) OR p.customer_id::text = ANY($1))
		ORDER BY 2, m.id LIMIT $2`, keys, limit+1)
	if err != nil {
		return f, err
	}
	defer rows.Close()
	n = 0
	for rows.Next() {
		var it insight.Item
		var invoiceID, amount, cur, paymentID, ref string
		var no int
		if err := rows.Scan(&it.EntityID, &it.Time, &invoiceID, &no, &amount, &cur, &paymentID, &ref, &it.CorrelationID); err != nil {
			return f, err
		}
		if n++; n > limit {
			f.Truncated = true
			break
		}
		it.Kind, it.EntityType, it.Status = insight.KindPayment, "payment_application", "APPLIED"
		it.Title = "applied " + amount + " " + cur + " to invoice " + invoiceID + " instalment " + strconv.Itoa(no)
		it.Detail = "payment " + paymentID + " ref. " + ref
		f.Items = append(f.Items, it)
		if it.CorrelationID != "" {
			f.CorrelationIDs = append(f.CorrelationIDs, it.CorrelationID)
		}
	}
	return f, rows.Err()
}
