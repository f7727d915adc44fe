package app_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
)

// propose drafts an invoice of contract up to cutOff ("" all) and fails the test on error.
func (e env) propose(contractID, cutOff string) invoice.Invoice {
	e.T.Helper()
	var d civil.Date
	if cutOff != "" {
		d = billingtest.Day(cutOff)
	}
	inv, err := e.UC.ProposeInvoice(e.Ctx, contractID, d)
	if err != nil {
		e.T.Fatalf("propose: %v", err)
	}
	return inv
}

func (e env) postInvoice(id, date string) invoice.Invoice {
	e.T.Helper()
	inv, err := e.UC.PostInvoice(e.Ctx, id, billingtest.Day(date))
	if err != nil {
		e.T.Fatalf("post: %v", err)
	}
	return inv
}

// balance is debits minus credits of account over all periods.
func (e env) balance(account string) string {
	e.T.Helper()
	tb, err := e.UC.TrialBalance(e.Ctx, e.LE.ID, "")
	if err != nil {
		e.T.Fatal(err)
	}
	for _, l := range tb.Lines {
		if l.Code == account {
			return l.Balance().StringFixed(2)
		}
	}
	return "0.00"
}

// The must-show sequence of issue 14: 10.5 h × 90.00 invoiced, 2 more hours next time, a credit
// note of 4 h on the first invoice, and the next invoice bills those 4 h once.
func TestInvoiceCreditAndReinvoiceBillEveryHourOnce(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	c := e.WithProject(e.Terms(billingtest.StandardCard()...))
	e.post(hours("T-1", billingtest.Architect, billingtest.TaskBill, "2026-06-10", "10.5"))

	first := e.propose(c.ID, "2026-06-30")
	wantMoney(t, "first invoice", first.Total, "945.00 USD")
	if len(first.Lines) != 1 || !first.Lines[0].Quantity.Equal(decimal.RequireFromString("10.5")) {
		t.Fatalf("first invoice lines = %+v, want one line of 10.5 h", first.Lines)
	}
	first = e.postInvoice(first.ID, "2026-07-01")
	if first.Number != "US01-2026-000001" || first.Status != invoice.Posted {
		t.Fatalf("posted %s %s, want US01-2026-000001 POSTED", first.Number, first.Status)
	}
	if got := billingtest.Scalar[string](e.Env, `SELECT status FROM invoice_candidates WHERE source_id = 'T-1'`); got != "INVOICED" {
		t.Fatalf("candidate status %s, want INVOICED", got)
	}

	e.post(hours("T-2", billingtest.Architect, billingtest.TaskBill, "2026-07-05", "2"))
	second := e.postInvoice(e.propose(c.ID, "").ID, "2026-07-31")
	wantMoney(t, "second invoice", second.Total, "180.00 USD")
	if len(second.Lines) != 1 || second.Number != "US01-2026-000002" {
		t.Fatalf("second invoice %s lines %+v, want US01-2026-000002 with the 2 h only", second.Number, second.Lines)
	}

	cn, err := e.UC.CreditInvoice(e.Ctx, first.ID, []invoice.CreditRequest{{LineNo: 1, Quantity: decimal.NewFromInt(4)}}, billingtest.Day("2026-08-03"))
	if err != nil {
		t.Fatal(err)
	}
	wantMoney(t, "credit note", cn.Total, "-360.00 USD")
	if cn.Number != "CN-US01-2026-000001" || cn.CreditsID != first.ID {
		t.Fatalf("credit note %s crediting %s, want CN-US01-2026-000001 crediting the first invoice", cn.Number, cn.CreditsID)
	}

	third := e.postInvoice(e.propose(c.ID, "").ID, "2026-08-31")
	wantMoney(t, "third invoice", third.Total, "360.00 USD")
	if len(third.Lines) != 1 || !third.Lines[0].Quantity.Equal(decimal.NewFromInt(4)) || third.Number != "US01-2026-000003" {
		t.Fatalf("third invoice %s lines %+v, want US01-2026-000003 with 4 h", third.Number, third.Lines)
	}
	if _, err := e.UC.ProposeInvoice(e.Ctx, c.ID, civil.Date{}); !errors.Is(err, invoice.ErrNothingToBill) {
		t.Fatalf("fourth proposal: %v, want NOTHING_TO_BILL", err)
	}
	// 945 + 180 − 360 + 360 billed; every billed amount relieved WIP.
	if ar, wip := e.balance(ledger.AccountsReceivable), e.balance(ledger.UnbilledReceivables); ar != "1125.00" || wip != "0.00" {
		t.Fatalf("receivable %s, WIP %s; want 1125.00 and 0.00", ar, wip)
	}
	// The rest of the first invoice can be credited (6.5 h = 585.00), and no more.
	rest, err := e.UC.CreditInvoice(e.Ctx, first.ID, nil, billingtest.Day("2026-09-01"))
	if err != nil {
		t.Fatal(err)
	}
	wantMoney(t, "credit of the rest", rest.Total, "-585.00 USD")
	if _, err := e.UC.CreditInvoice(e.Ctx, first.ID, nil, billingtest.Day("2026-09-01")); !errors.Is(err, invoice.ErrOverCredit) {
		t.Fatalf("third credit: %v, want CREDIT_EXCEEDS_INVOICED", err)
	}
	if _, err := e.UC.VoidInvoice(e.Ctx, first.ID); !errors.Is(err, invoice.ErrNotDraft) {
		t.Fatalf("void of a posted invoice: %v, want INVOICE_NOT_DRAFT", err)
	}
}

func TestCutOffBillsTheWindowAndALaterRunOnlyWhatIsNew(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	c := e.WithProject(e.Terms(billingtest.StandardCard()...))
	e.post(hours("T-1", billingtest.Consult, billingtest.TaskBill, "2026-06-10", "2"),
		hours("T-2", billingtest.Consult, billingtest.TaskBill, "2026-06-15", "1.25"),
		hours("T-3", billingtest.Consult, billingtest.TaskBill, "2026-06-16", "3"),
		expense("X-1", "2026-06-12", billingtest.USD("120.00")))
	june15 := e.propose(c.ID, "2026-06-15")
	// 2 h × 50 = 100.00, 120.00 + 10 % = 132.00, 1.25 h × 50 = 62.50.
	wantMoney(t, "up to 15 June", june15.Total, "294.50 USD")
	if len(june15.Lines) != 3 {
		t.Fatalf("%d lines, want one per entry (3)", len(june15.Lines))
	}
	later := e.propose(c.ID, "")
	wantMoney(t, "later run", later.Total, "150.00 USD")

	// Voiding the first draft frees its candidates for the next run.
	if v, err := e.UC.VoidInvoice(e.Ctx, june15.ID); err != nil || v.Status != invoice.Void {
		t.Fatalf("void: %v %s", err, v.Status)
	}
	again := e.propose(c.ID, "")
	wantMoney(t, "after the void", again.Total, "294.50 USD")
}

func TestCapBillsUpToTheNotToExceedAndReportsTheRest(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	terms := e.Terms(billingtest.StandardCard()...)
	capAt := billingtest.USD("1000.00")
	terms.Lines[0].NotToExceed = &capAt
	c := e.WithProject(terms)
	// 3 × 8 h × 50.00 = 1,200.00 of candidates.
	e.post(hours("T-1", billingtest.Consult, billingtest.TaskBill, "2026-06-10", "8"),
		hours("T-2", billingtest.Consult, billingtest.TaskBill, "2026-06-11", "8"),
		hours("T-3", billingtest.Consult, billingtest.TaskBill, "2026-06-12", "8"))
	inv := e.propose(c.ID, "")
	wantMoney(t, "billed", inv.Total, "1000.00 USD")
	wantMoney(t, "over cap", inv.OverCap, "200.00 USD")
	if n := len(inv.Lines); n != 3 || !inv.Lines[2].Quantity.Equal(decimal.NewFromInt(4)) || inv.Lines[2].Amount.String() != "200.00 USD" {
		t.Fatalf("lines %+v, want the third split at 4 h = 200.00", inv.Lines)
	}
	e.postInvoice(inv.ID, "2026-06-30")
	if _, err := e.UC.ProposeInvoice(e.Ctx, c.ID, civil.Date{}); !errors.Is(err, invoice.ErrNothingToBill) {
		t.Fatalf("proposal past the cap: %v, want NOTHING_TO_BILL", err)
	}
}

func TestConcurrentProposalsMakeOneSetOfLines(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	c := e.WithProject(e.Terms(billingtest.StandardCard()...))
	e.post(hours("T-1", billingtest.Consult, billingtest.TaskBill, "2026-06-10", "2"),
		hours("T-2", billingtest.Architect, billingtest.TaskBill, "2026-06-11", "10.5"))
	const runs = 4
	var wg sync.WaitGroup
	errs := make([]error, runs)
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.UC.ProposeInvoice(context.Background(), c.ID, civil.Date{})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, invoice.ErrNothingToBill), errors.Is(err, invoice.ErrBusy):
		default:
			t.Fatal(err)
		}
	}
	lines := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM invoice_lines WHERE live`)
	total := billingtest.Scalar[string](e.Env, `SELECT sum(total)::numeric(12,2)::text FROM invoices`)
	if ok != 1 || lines != 2 || total != "1045.00" {
		t.Fatalf("%d proposals, %d live lines, %s billed; want 1, 2 and 1045.00", ok, lines, total)
	}
}

// Concurrent postings take consecutive numbers, and a posting rolled back gives its number back.
func TestInvoiceNumbersHaveNoGaps(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	c := e.WithProject(e.Terms(billingtest.StandardCard()...))
	var drafts []string
	for i, d := range []string{"2026-06-01", "2026-06-02", "2026-06-03", "2026-06-04", "2026-06-05", "2026-06-06"} {
		e.post(hours("T-"+d, billingtest.Consult, billingtest.TaskBill, d, "1"))
		drafts = append(drafts, e.propose(c.ID, d).ID)
		_ = i
	}
	crash := errors.New("crash mid-post")
	err := e.Store.InTx(e.Ctx, func(ctx context.Context) error {
		if _, err := e.UC.PostInvoice(ctx, drafts[0], billingtest.Day("2026-06-30")); err != nil {
			return err
		}
		return crash
	})
	if !errors.Is(err, crash) {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(drafts))
	for i, id := range drafts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.UC.PostInvoice(context.Background(), id, billingtest.Day("2026-06-30"))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := billingtest.Scalar[string](e.Env, `SELECT string_agg(seq::text, ',' ORDER BY seq) FROM invoices WHERE status = 'POSTED'`)
	if got != "1,2,3,4,5,6" {
		t.Fatalf("sequence %s, want 1,2,3,4,5,6", got)
	}
	if n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM journal_entries WHERE source_type = 'invoice'`); n != 6 {
		t.Fatalf("%d invoice journal entries, want 6", n)
	}
}

// A posting in a closed period is refused and takes no number; the next open date gets number 1.
func TestInvoiceInAClosedPeriodIsRefused(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	c := e.WithProject(e.Terms(billingtest.StandardCard()...))
	e.post(hours("T-1", billingtest.Consult, billingtest.TaskBill, "2026-06-10", "2"))
	draft := e.propose(c.ID, "")
	if _, err := e.UC.SetPeriod(e.Ctx, e.LE.ID, "2026-06", true); err != nil {
		t.Fatal(err)
	}
	_, err := e.UC.PostInvoice(e.Ctx, draft.ID, billingtest.Day("2026-06-30"))
	wantReason(t, err, "PERIOD_CLOSED")
	if got := e.postInvoice(draft.ID, "2026-07-01"); got.Number != "US01-2026-000001" || got.Total.String() != "100.00 USD" {
		t.Fatalf("posted %s of %s, want US01-2026-000001 of 100.00 USD", got.Number, got.Total)
	}
	if again := e.postInvoice(draft.ID, "2026-07-02"); again.Number != "US01-2026-000001" || again.IssueDate != billingtest.Day("2026-07-01") {
		t.Fatalf("posting again gave %s on %s, want the posted invoice unchanged", again.Number, again.IssueDate)
	}
}

// Work reversed after it was proposed is not posted: the draft is refused until voided, and the
// next proposal leaves the reversed entry out.
func TestDraftWithReversedWorkIsNotPosted(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	c := e.WithProject(e.Terms(billingtest.StandardCard()...))
	e.post(hours("T-1", billingtest.Consult, billingtest.TaskBill, "2026-06-10", "2"), hours("T-2", billingtest.Consult, billingtest.TaskBill, "2026-06-11", "1"))
	draft := e.propose(c.ID, "")
	rev := hours("T-1-R", billingtest.Consult, billingtest.TaskBill, "2026-06-10", "-2")
	rev.ReversesID = "T-1"
	e.post(rev)
	_, err := e.UC.PostInvoice(e.Ctx, draft.ID, billingtest.Day("2026-06-30"))
	wantReason(t, err, "INVOICE_CANDIDATE_REVERSED")
	if _, err := e.UC.VoidInvoice(e.Ctx, draft.ID); err != nil {
		t.Fatal(err)
	}
	wantMoney(t, "proposal after the reversal", e.propose(c.ID, "").Total, "50.00 USD")
}
