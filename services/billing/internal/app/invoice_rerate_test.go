package app_test

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
)

// A draft whose work an amendment re-rated is not posted (it would bill 2 h × 50.00 = 100.00
// while WIP holds 2 h × 60.00 = 120.00): INVOICE_CANDIDATE_CHANGED, no number taken; voided and
// proposed again it bills 120.00 and relieves WIP to 0.00.
func TestDraftReratedByAnAmendmentIsNotPosted(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	c := e.WithProject(e.Terms(billingtest.StandardCard()...))
	e.post(hours("T-1", billingtest.Consult, billingtest.TaskBill, "2026-06-10", "2"))
	draft := e.propose(c.ID, "")
	wantMoney(t, "draft", draft.Total, "100.00 USD")

	if _, err := e.UC.AmendContract(e.Ctx, c.ID, 1, "rate rise", e.Terms(billingtest.Rate("CONSULTANT", "60.00", "2026-01-01", ""),
		billingtest.Rate("ARCHITECT", "90.00", "2026-01-01", ""))); err != nil {
		t.Fatal(err)
	}
	if wip := e.balance(ledger.UnbilledReceivables); wip != "120.00" {
		t.Fatalf("WIP after the amendment %s, want 120.00", wip)
	}
	_, err := e.UC.PostInvoice(e.Ctx, draft.ID, billingtest.Day("2026-06-30"))
	wantReason(t, err, "INVOICE_CANDIDATE_CHANGED")
	if st := billingtest.Scalar[string](e.Env, `SELECT status FROM invoices WHERE id = $1`, draft.ID); st != "DRAFT" {
		t.Fatalf("refused draft is %s, want DRAFT", st)
	}
	if _, err := e.UC.VoidInvoice(e.Ctx, draft.ID); err != nil {
		t.Fatal(err)
	}
	again := e.propose(c.ID, "")
	wantMoney(t, "proposal after the amendment", again.Total, "120.00 USD")
	posted := e.postInvoice(again.ID, "2026-06-30")
	if posted.Number != "US01-2026-000001" {
		t.Fatalf("number %s, want US01-2026-000001 (the refusal took none)", posted.Number)
	}
	if ar, wip := e.balance(ledger.AccountsReceivable), e.balance(ledger.UnbilledReceivables); ar != "120.00" || wip != "0.00" {
		t.Fatalf("receivable %s, WIP %s; want 120.00 and 0.00", ar, wip)
	}
}

// Work reversed after an invoice billed it: 10.5 h × 90.00 = 945.00 invoiced, 4 h (360.00)
// credited back, then the entry reversed. The posted invoice is untouched; the candidate is
// REVERSED (never proposed again), listed for a credit note of the 6.5 h still billed (delta
// −585.00, re-rated 0.00, kept by a later amendment) with one invoice.credit_needed exception;
// WIP stands at −585.00 until the credit note of the rest brings WIP and receivable to 0.00,
// empties the list and resolves the exception.
func TestWorkReversedAfterInvoicingIsListedForACreditNote(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	c := e.WithProject(e.Terms(billingtest.StandardCard()...))
	e.post(hours("T-1", billingtest.Architect, billingtest.TaskBill, "2026-06-10", "10.5"))
	inv := e.postInvoice(e.propose(c.ID, "").ID, "2026-07-01")
	wantMoney(t, "invoice", inv.Total, "945.00 USD")
	if _, err := e.UC.CreditInvoice(e.Ctx, inv.ID, []invoice.CreditRequest{{LineNo: 1, Quantity: decimal.NewFromInt(4)}}, billingtest.Day("2026-07-02")); err != nil {
		t.Fatal(err)
	}

	rev := hours("T-1-R", billingtest.Architect, billingtest.TaskBill, "2026-06-10", "-10.5")
	rev.ReversesID = "T-1"
	e.post(rev)
	if st := billingtest.Scalar[string](e.Env, `SELECT status FROM invoice_candidates WHERE source_id = 'T-1'`); st != "REVERSED" {
		t.Fatalf("candidate %s, want REVERSED", st)
	}
	if got := billingtest.Scalar[string](e.Env, `SELECT status || ' ' || total::text FROM invoices WHERE id = $1`, inv.ID); got != "POSTED 945.00" {
		t.Fatalf("posted invoice now %s, want POSTED 945.00 unchanged", got)
	}
	wantCreditDecision(t, e, c.ID, "6.5", "585.00 USD", "-585.00 USD")
	if n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM exceptions WHERE kind = $1 AND reason = $2 AND status = 'OPEN'`,
		app.KindCreditNeeded, app.ReasonInvoicedWorkReversed); n != 1 {
		t.Fatalf("open credit-needed exceptions %d, want 1", n)
	}
	if wip := e.balance(ledger.UnbilledReceivables); wip != "-585.00" {
		t.Fatalf("WIP %s, want -585.00 until the credit note", wip)
	}
	if _, err := e.UC.ProposeInvoice(e.Ctx, c.ID, civil.Date{}); !errors.Is(err, invoice.ErrNothingToBill) {
		t.Fatalf("proposal after the reversal: %v, want NOTHING_TO_BILL (the returned 4 h are reversed too)", err)
	}
	if _, err := e.UC.AmendContract(e.Ctx, c.ID, 1, "rate rise", e.Terms(billingtest.Rate("CONSULTANT", "50.00", "2026-01-01", ""),
		billingtest.Rate("ARCHITECT", "100.00", "2026-01-01", ""))); err != nil {
		t.Fatal(err)
	}
	wantCreditDecision(t, e, c.ID, "6.5", "585.00 USD", "-585.00 USD")

	rest, err := e.UC.CreditInvoice(e.Ctx, inv.ID, nil, billingtest.Day("2026-07-03"))
	if err != nil {
		t.Fatal(err)
	}
	wantMoney(t, "credit of the rest", rest.Total, "-585.00 USD")
	if ar, wip := e.balance(ledger.AccountsReceivable), e.balance(ledger.UnbilledReceivables); ar != "0.00" || wip != "0.00" {
		t.Fatalf("receivable %s, WIP %s; want 0.00 and 0.00", ar, wip)
	}
	if got, err := e.UC.RebillDecisions(e.Ctx, ledger.RebillFilter{ContractID: c.ID}, pageOf(10)); err != nil || len(got) != 0 {
		t.Fatalf("decisions after the credit note %+v (%v), want none", got, err)
	}
	if n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM exceptions WHERE kind = $1 AND status = 'OPEN'`, app.KindCreditNeeded); n != 0 {
		t.Fatalf("open credit-needed exceptions after the credit note %d, want 0", n)
	}
}

// wantCreditDecision fails unless the contract's only rebill decision is a credit note of
// quantity and invoiced, re-rated to 0.00 with delta.
func wantCreditDecision(t *testing.T, e env, contractID, quantity, invoiced, delta string) {
	t.Helper()
	got, err := e.UC.RebillDecisions(e.Ctx, ledger.RebillFilter{ContractID: contractID}, pageOf(10))
	if err != nil || len(got) != 1 {
		t.Fatalf("decisions %+v (%v), want one", got, err)
	}
	d := got[0]
	if d.SourceID != "T-1" || d.Quantity.String() != quantity || d.Rerated.Format() != "0.00" {
		t.Fatalf("decision %s quantity %s re-rated %s, want T-1 %s re-rated 0.00", d.SourceID, d.Quantity, d.Rerated, quantity)
	}
	wantMoney(t, "invoiced", d.Invoiced, invoiced)
	wantMoney(t, "delta", d.Delta, delta)
}
