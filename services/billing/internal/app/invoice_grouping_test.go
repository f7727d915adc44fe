package app_test

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
)

// The must-show sequence on a contract grouping per resource: the architect's 8 h and 2.5 h are
// one line of 10.5 h × 90.00 = 945.00 (the consultant's 1 h × 50.00 a line of its own); 2 more
// hours next time are 180.00; a credit note of 4 h on the grouped line returns the latest entry
// (2.5 h) and 1.5 h of the 8 h, and the next invoice bills those 4 h once, as one line (360.00).
func TestGroupedPerResourceInvoiceCreditAndReinvoiceBillEveryHourOnce(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	terms := e.Terms(billingtest.StandardCard()...)
	terms.LineGrouping = contract.PerResource
	c := e.WithProject(terms)
	e.post(hours("T-1", billingtest.Architect, billingtest.TaskBill, "2026-06-10", "8"),
		hours("T-2", billingtest.Consult, billingtest.TaskBill, "2026-06-10", "1"),
		hours("T-3", billingtest.Architect, billingtest.TaskBill, "2026-06-11", "2.5"))

	first := e.propose(c.ID, "2026-06-30")
	wantMoney(t, "first invoice", first.Total, "995.00 USD")
	if len(first.Lines) != 2 || !first.Lines[0].Quantity.Equal(decimal.RequireFromString("10.5")) || len(first.Lines[0].Parts) != 2 {
		t.Fatalf("first invoice lines = %+v, want the architect's 10.5 h on one line of two entries, then the consultant's", first.Lines)
	}
	wantMoney(t, "architect line", first.Lines[0].Amount, "945.00 USD")
	first = e.postInvoice(first.ID, "2026-07-01")
	if n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM invoice_candidates WHERE status = 'INVOICED'`); n != 3 {
		t.Fatalf("%d candidates INVOICED, want 3", n)
	}

	e.post(hours("T-4", billingtest.Architect, billingtest.TaskBill, "2026-07-05", "2"))
	second := e.postInvoice(e.propose(c.ID, "").ID, "2026-07-31")
	wantMoney(t, "second invoice", second.Total, "180.00 USD")

	cn, err := e.UC.CreditInvoice(e.Ctx, first.ID, []invoice.CreditRequest{{LineNo: 1, Quantity: decimal.NewFromInt(4)}}, billingtest.Day("2026-08-03"))
	if err != nil {
		t.Fatal(err)
	}
	wantMoney(t, "credit note", cn.Total, "-360.00 USD")
	got, err := e.UC.Invoice(e.Ctx, cn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Lines) != 1 || len(got.Lines[0].Parts) != 2 || !got.Lines[0].Quantity.Equal(decimal.NewFromInt(-4)) {
		t.Fatalf("credit note lines %+v, want one line of -4 h over two entries", got.Lines)
	}

	third := e.postInvoice(e.propose(c.ID, "").ID, "2026-08-31")
	wantMoney(t, "third invoice", third.Total, "360.00 USD")
	if len(third.Lines) != 1 || !third.Lines[0].Quantity.Equal(decimal.NewFromInt(4)) {
		t.Fatalf("third invoice lines %+v, want one line of 4 h", third.Lines)
	}
	// The 4 h back on the third invoice: 1.5 h of T-1 and all 2.5 h of T-3.
	if q := billingtest.Scalar[string](e.Env, `SELECT string_agg(c.source_id || ' ' || l.quantity::text, ', ' ORDER BY c.source_id)
		FROM invoice_lines l JOIN invoice_candidates c ON c.id = l.candidate_id WHERE l.invoice_id = $1`, third.ID); q != "T-1 1.5, T-3 2.5" {
		t.Fatalf("third invoice bills %s, want T-1 1.5, T-3 2.5", q)
	}
	if _, err := e.UC.ProposeInvoice(e.Ctx, c.ID, civil.Date{}); !errors.Is(err, invoice.ErrNothingToBill) {
		t.Fatalf("fourth proposal: %v, want NOTHING_TO_BILL", err)
	}
	// 995 + 180 − 360 + 360 billed; every billed amount relieved WIP.
	if ar, wip := e.balance(ledger.AccountsReceivable), e.balance(ledger.UnbilledReceivables); ar != "1175.00" || wip != "0.00" {
		t.Fatalf("receivable %s, WIP %s; want 1175.00 and 0.00", ar, wip)
	}
}
