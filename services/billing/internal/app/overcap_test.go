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

// cappedAt1000 is the contract of TestCapBillsUpToTheNotToExceedAndReportsTheRest: 3 × 8 h ×
// 50.00 = 1,200.00 of candidates under a 1,000.00 cap, the first proposal (1,000.00) posted.
func cappedAt1000(t *testing.T) (env, contract.Contract) {
	e := newEnv(t, legalentity.Reject)
	terms := e.Terms(billingtest.StandardCard()...)
	capAt := billingtest.USD("1000.00")
	terms.Lines[0].NotToExceed = &capAt
	c := e.WithProject(terms)
	e.post(hours("T-1", billingtest.Consult, billingtest.TaskBill, "2026-06-10", "8"),
		hours("T-2", billingtest.Consult, billingtest.TaskBill, "2026-06-11", "8"),
		hours("T-3", billingtest.Consult, billingtest.TaskBill, "2026-06-12", "8"))
	inv := e.propose(c.ID, "")
	wantMoney(t, "billed", inv.Total, "1000.00 USD")
	e.postInvoice(inv.ID, "2026-06-30")
	return e, c
}

// The over-cap list shows the 200.00 (4 h of T-3) the cap keeps off; writing it off empties the
// list, moves its WIP to work written off (Dr 5400 / Cr WIP 200.00, so WIP is empty: 1,200.00
// delivered = 1,000.00 billed + 200.00 written off), and a second write-off writes nothing.
func TestOverCapListAndWriteOff(t *testing.T) {
	e, c := cappedAt1000(t)
	lines, err := e.UC.OverCap(e.Ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || lines[0].LineKey != "L1" || len(lines[0].Candidates) != 1 {
		t.Fatalf("over cap %+v, want line L1 with one candidate", lines)
	}
	l := lines[0]
	wantMoney(t, "over cap", l.Over, "200.00 USD")
	wantMoney(t, "billed toward the cap", l.Billed, "1000.00 USD")
	if o := l.Candidates[0]; o.SourceID != "T-3" || !o.Quantity.Equal(decimal.NewFromInt(4)) || o.Amount.String() != "200.00 USD" {
		t.Fatalf("over-cap candidate %s %s h %s, want T-3 4 h 200.00", o.SourceID, o.Quantity, o.Amount)
	}

	w, err := e.UC.WriteOffOverCap(e.Ctx, c.ID, "", billingtest.Day("2026-07-01"))
	if err != nil {
		t.Fatal(err)
	}
	wantMoney(t, "written off", w.Total, "200.00 USD")
	if w.JournalEntryID == "" {
		t.Fatal("no journal entry for the write-off")
	}
	if lines, err := e.UC.OverCap(e.Ctx, c.ID); err != nil || len(lines) != 0 {
		t.Fatalf("over cap after the write-off: %+v (%v), want none", lines, err)
	}
	if wip, off, ar := e.balance(ledger.UnbilledReceivables), e.balance(ledger.WorkWrittenOff), e.balance(ledger.AccountsReceivable); wip != "0.00" || off != "200.00" || ar != "1000.00" {
		t.Fatalf("WIP %s, written off %s, receivable %s; want 0.00, 200.00, 1000.00", wip, off, ar)
	}
	if unbalanced := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM (SELECT entry_id FROM journal_lines
		GROUP BY entry_id HAVING sum(debit) <> sum(credit)) x`); unbalanced != 0 {
		t.Fatalf("%d journal entries do not balance", unbalanced)
	}
	again, err := e.UC.WriteOffOverCap(e.Ctx, c.ID, "", billingtest.Day("2026-07-01"))
	if err != nil || !again.Total.IsZero() || again.JournalEntryID != "" {
		t.Fatalf("second write-off %+v (%v), want nothing written", again, err)
	}
	if _, err := e.UC.ProposeInvoice(e.Ctx, c.ID, civil.Date{}); !errors.Is(err, invoice.ErrNothingToBill) {
		t.Fatalf("proposal after the write-off: %v, want NOTHING_TO_BILL", err)
	}
	// T-3 is half billed, half written off: nothing of it is unbilled.
	if s := billingtest.Scalar[string](e.Env, `SELECT status FROM invoice_candidates WHERE source_id = 'T-3'`); s != "INVOICED" {
		t.Fatalf("T-3 is %s, want INVOICED (4 h billed, 4 h written off)", s)
	}
}

// Raising the cap releases the work over it: the next proposal bills the 200.00, and the list is
// empty.
func TestRaisingTheCapReleasesTheWorkOverIt(t *testing.T) {
	e, c := cappedAt1000(t)
	cur, err := e.UC.GetContract(e.Ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	raised := billingtest.USD("1500.00")
	cur.Terms.Lines[0].NotToExceed = &raised
	if _, err := e.UC.AmendContract(e.Ctx, c.ID, cur.Version, "cap raised to 1,500.00", cur.Terms); err != nil {
		t.Fatal(err)
	}
	inv := e.propose(c.ID, "")
	wantMoney(t, "released", inv.Total, "200.00 USD")
	wantMoney(t, "over cap now", inv.OverCap, "0.00 USD")
	if lines, err := e.UC.OverCap(e.Ctx, c.ID); err != nil || len(lines) != 0 {
		t.Fatalf("over cap after the raise: %+v (%v), want none", lines, err)
	}
}

// Completing a milestone records it once: again (even with another date) returns the first
// completion; an unknown milestone is MILESTONE_NOT_FOUND and writes nothing.
func TestCompleteMilestoneIsRecordedOnce(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	terms := e.Terms(billingtest.StandardCard()...)
	terms.Lines = append(terms.Lines, contract.Line{Key: "M", ServiceLine: "IMPLEMENTATION", Billing: contract.MilestoneBilling,
		Revenue: contract.MilestoneRevenue, Amount: billingtest.USD("5000.00"),
		Milestones: []contract.Milestone{{Key: "GO-LIVE", Name: "Go-live", Amount: billingtest.USD("5000.00"), Due: billingtest.Day("2026-09-30")}}})
	c := e.WithProject(terms)
	done, created, err := e.UC.CompleteMilestone(e.Ctx, c.ID, "M", "GO-LIVE", billingtest.Day("2026-09-15"))
	if err != nil || !created || done.CompletedOn != billingtest.Day("2026-09-15") {
		t.Fatalf("completion %+v created %v (%v), want a new one on 2026-09-15", done, created, err)
	}
	again, created, err := e.UC.CompleteMilestone(e.Ctx, c.ID, "M", "GO-LIVE", billingtest.Day("2026-09-20"))
	if err != nil || created || again.CompletedOn != billingtest.Day("2026-09-15") {
		t.Fatalf("second completion %+v created %v (%v), want the first (2026-09-15) unchanged", again, created, err)
	}
	_, _, err = e.UC.CompleteMilestone(e.Ctx, c.ID, "M", "NOPE", billingtest.Day("2026-09-15"))
	wantReason(t, err, "MILESTONE_NOT_FOUND")
	_, _, err = e.UC.CompleteMilestone(e.Ctx, c.ID, "L1", "GO-LIVE", billingtest.Day("2026-09-15"))
	wantReason(t, err, "MILESTONE_NOT_FOUND")
	if n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM milestone_completions`); n != 1 {
		t.Fatalf("%d completions stored, want 1", n)
	}
}
