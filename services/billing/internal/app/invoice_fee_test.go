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

// A milestone-billed line of 8,000.00: M1 (5,000.00) completed 20 March is billed once on the
// next proposal and not again; voiding the draft frees it, a credit note returns it to billable;
// M2 (3,000.00) completed 10 April is billed only by a proposal with a cut-off on or after that.
// The invoice posts Dr receivable / Cr unbilled receivables, and revenue recognition's billed to
// date and the contract's ledger balances tie (billed = recognized: no asset, no liability).
func TestMilestonesAreBilledOnceWhenComplete(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	c := e.withLine(contract.Line{Key: "L1", ServiceLine: "IMPLEMENTATION", Billing: contract.MilestoneBilling, Revenue: contract.MilestoneRevenue,
		Amount: billingtest.USD("8000.00"), RateCard: billingtest.StandardCard(),
		Milestones: []contract.Milestone{{Key: "M1", Name: "Design", Amount: billingtest.USD("5000.00"), Due: billingtest.Day("2026-03-31")},
			{Key: "M2", Name: "Go-live", Amount: billingtest.USD("3000.00"), Due: billingtest.Day("2026-04-30")}}})
	if _, err := e.UC.ProposeInvoice(e.Ctx, c.ID, civil.Date{}); !errors.Is(err, invoice.ErrNothingToBill) {
		t.Fatalf("proposal before any milestone: %v, want NOTHING_TO_BILL", err)
	}
	if _, _, err := e.UC.CompleteMilestone(e.Ctx, c.ID, "L1", "M1", billingtest.Day("2026-03-20")); err != nil {
		t.Fatal(err)
	}
	draft := e.propose(c.ID, "2026-03-31")
	wantMoney(t, "M1 proposal", draft.Total, "5000.00 USD")
	if len(draft.Lines) != 1 || draft.Lines[0].Item != invoice.MilestoneItem("M1") {
		t.Fatalf("lines %+v, want one line billing milestone M1", draft.Lines)
	}
	if _, err := e.UC.ProposeInvoice(e.Ctx, c.ID, civil.Date{}); !errors.Is(err, invoice.ErrNothingToBill) {
		t.Fatalf("second proposal while M1 is on a draft: %v, want NOTHING_TO_BILL", err)
	}
	if _, err := e.UC.VoidInvoice(e.Ctx, draft.ID); err != nil {
		t.Fatal(err)
	}
	again := e.propose(c.ID, "2026-03-31")
	wantMoney(t, "M1 after the void", again.Total, "5000.00 USD")
	first := e.postInvoice(again.ID, "2026-03-31")
	read, err := e.UC.Invoice(e.Ctx, first.ID)
	if err != nil || len(read.Lines) != 1 || read.Lines[0].Item != invoice.MilestoneItem("M1") || read.Lines[0].Amount.Value.StringFixed(2) != "5000.00" {
		t.Fatalf("posted invoice read back: %v %+v", err, read.Lines)
	}
	if _, err := e.UC.ProposeInvoice(e.Ctx, c.ID, civil.Date{}); !errors.Is(err, invoice.ErrNothingToBill) {
		t.Fatalf("proposal after M1 was billed: %v, want NOTHING_TO_BILL", err)
	}
	if ar, wip := e.balance(ledger.AccountsReceivable), e.balance(ledger.UnbilledReceivables); ar != "5000.00" || wip != "-5000.00" {
		t.Fatalf("receivable %s, unbilled receivables %s; want 5000.00 and -5000.00", ar, wip)
	}
	e.recognize("2026-03")
	pos := e.position(c.ID, "2026-03-31")
	wantDec(t, "March recognized", pos.Recognized, "5000.00")
	wantDec(t, "March billed", pos.Billed, "5000.00")
	wantDec(t, "ledger unbilled receivables", pos.LedgerUnbilled, "0.00")
	wantDec(t, "ledger deferred revenue", pos.LedgerDeferred, "0.00")

	// M2 completes in April: not in a March window, billed by an April one with M1 credited back.
	if _, _, err := e.UC.CompleteMilestone(e.Ctx, c.ID, "L1", "M2", billingtest.Day("2026-04-10")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.UC.ProposeInvoice(e.Ctx, c.ID, billingtest.Day("2026-03-31")); !errors.Is(err, invoice.ErrNothingToBill) {
		t.Fatalf("March proposal with M2 done in April: %v, want NOTHING_TO_BILL", err)
	}
	cn, err := e.UC.CreditInvoice(e.Ctx, first.ID, nil, billingtest.Day("2026-04-05"))
	if err != nil {
		t.Fatal(err)
	}
	wantMoney(t, "credit note", cn.Total, "-5000.00 USD")
	april := e.propose(c.ID, "2026-04-30")
	wantMoney(t, "April proposal (M1 again, M2)", april.Total, "8000.00 USD")
	if len(april.Lines) != 2 {
		t.Fatalf("%d lines, want M1 and M2", len(april.Lines))
	}
	e.postInvoice(april.ID, "2026-04-30")
	if _, err := e.UC.ProposeInvoice(e.Ctx, c.ID, civil.Date{}); !errors.Is(err, invoice.ErrNothingToBill) {
		t.Fatalf("proposal after both milestones were billed: %v, want NOTHING_TO_BILL", err)
	}
	// 5,000 − 5,000 + 8,000 billed.
	if ar := e.balance(ledger.AccountsReceivable); ar != "8000.00" {
		t.Fatalf("receivable %s, want 8000.00", ar)
	}
	if n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM (SELECT entry_id FROM journal_lines GROUP BY entry_id
		HAVING sum(debit) <> sum(credit)) x`); n != 0 {
		t.Fatalf("%d unbalanced journal entries", n)
	}
}

// A fixed fee of 12,000.00 billed in three instalments of 4,000.00 (15 January, February and
// March): a proposal with a cut-off of 28 February bills 8,000.00, one of 31 March the last
// 4,000.00, and nothing is billed twice. A schedule that does not sum to the line amount is
// refused with BILLING_SCHEDULE_INVALID.
func TestFixedFeeScheduleBillsEachInstalmentOnce(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	l := fixedLine("12000.00", contract.PercentComplete)
	l.Schedule = []contract.ScheduleEntry{{Date: billingtest.Day("2026-01-15"), Amount: billingtest.USD("4000.00")},
		{Date: billingtest.Day("2026-02-15"), Amount: billingtest.USD("4000.00")}, {Date: billingtest.Day("2026-03-15"), Amount: billingtest.USD("4000.00")}}

	bad := e.Terms()
	badLine := l
	badLine.Schedule = append([]contract.ScheduleEntry(nil), l.Schedule[:2]...)
	bad.Lines = []contract.Line{badLine}
	_, _, err := e.UC.UpsertContract(e.Ctx, contract.ExternalRef{System: "crm", ObjectType: "Opportunity", ExternalID: "O-bad"}, 1, bad, false)
	wantReason(t, err, "BILLING_SCHEDULE_INVALID")

	c := e.withLine(l)
	feb := e.postInvoice(e.propose(c.ID, "2026-02-28").ID, "2026-02-28")
	wantMoney(t, "up to 28 February", feb.Total, "8000.00 USD")
	if len(feb.Lines) != 2 || feb.Lines[0].Item != invoice.ScheduleItem(billingtest.Day("2026-01-15")) {
		t.Fatalf("lines %+v, want the January and February instalments", feb.Lines)
	}
	if _, err := e.UC.ProposeInvoice(e.Ctx, c.ID, billingtest.Day("2026-02-28")); !errors.Is(err, invoice.ErrNothingToBill) {
		t.Fatalf("second February proposal: %v, want NOTHING_TO_BILL", err)
	}
	mar := e.postInvoice(e.propose(c.ID, "2026-03-31").ID, "2026-03-31")
	wantMoney(t, "up to 31 March", mar.Total, "4000.00 USD")
	if _, err := e.UC.ProposeInvoice(e.Ctx, c.ID, civil.Date{}); !errors.Is(err, invoice.ErrNothingToBill) {
		t.Fatalf("proposal after the whole fee: %v, want NOTHING_TO_BILL", err)
	}
	if ar, wip := e.balance(ledger.AccountsReceivable), e.balance(ledger.UnbilledReceivables); ar != "12000.00" || wip != "-12000.00" {
		t.Fatalf("receivable %s, unbilled receivables %s; want 12000.00 and -12000.00 (billed ahead of recognition)", ar, wip)
	}
	if n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM (SELECT entry_id FROM journal_lines GROUP BY entry_id
		HAVING sum(debit) <> sum(credit)) x`); n != 0 {
		t.Fatalf("%d unbalanced journal entries", n)
	}
}

// A fixed fee of 20,000.00 without a billing schedule, its service from 1 September: a proposal
// with a cut-off of 31 August bills nothing; one of 30 September bills the 20,000.00 whole, once
// (one line, item schedule:2026-09-01); a credit note returns it to billable and the next
// proposal bills it again, once. Receivable 20,000 − 20,000 + 20,000 = 20,000.00.
func TestFixedFeeWithoutScheduleIsBilledWholeOnce(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	l := fixedLine("20000.00", contract.StraightLine)
	l.ServiceStart, l.ServiceEnd = billingtest.Day("2026-09-01"), billingtest.Day("2026-09-30")
	c := e.withLine(l)

	if _, err := e.UC.ProposeInvoice(e.Ctx, c.ID, billingtest.Day("2026-08-31")); !errors.Is(err, invoice.ErrNothingToBill) {
		t.Fatalf("proposal before the service start: %v, want NOTHING_TO_BILL", err)
	}
	sep := e.postInvoice(e.propose(c.ID, "2026-09-30").ID, "2026-09-30")
	wantMoney(t, "September", sep.Total, "20000.00 USD")
	if len(sep.Lines) != 1 || sep.Lines[0].Item != invoice.ScheduleItem(billingtest.Day("2026-09-01")) ||
		sep.Lines[0].ItemType != invoice.ItemTypeFixedFee || !sep.Lines[0].Quantity.Equal(decimal.NewFromInt(1)) {
		t.Fatalf("lines %+v, want one line of the whole fee dated 2026-09-01", sep.Lines)
	}
	if _, err := e.UC.ProposeInvoice(e.Ctx, c.ID, civil.Date{}); !errors.Is(err, invoice.ErrNothingToBill) {
		t.Fatalf("proposal after the fee was billed: %v, want NOTHING_TO_BILL", err)
	}
	cn, err := e.UC.CreditInvoice(e.Ctx, sep.ID, nil, billingtest.Day("2026-10-05"))
	if err != nil {
		t.Fatal(err)
	}
	wantMoney(t, "credit note", cn.Total, "-20000.00 USD")
	oct := e.postInvoice(e.propose(c.ID, "2026-10-31").ID, "2026-10-31")
	wantMoney(t, "October (the fee again)", oct.Total, "20000.00 USD")
	if _, err := e.UC.ProposeInvoice(e.Ctx, c.ID, civil.Date{}); !errors.Is(err, invoice.ErrNothingToBill) {
		t.Fatalf("proposal after the fee was billed again: %v, want NOTHING_TO_BILL", err)
	}
	if ar := e.balance(ledger.AccountsReceivable); ar != "20000.00" {
		t.Fatalf("receivable %s, want 20000.00", ar)
	}
}
