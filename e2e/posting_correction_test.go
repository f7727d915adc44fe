package e2e

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
)

// A correction is a reversal plus a replacement, never an update. A consultant's 8 h billable
// entry of June 15, approved on a timesheet and posted (WIP 8 × 50.00 = 400.00, labor cost
// 8 × 20.00 = 160.00), is corrected to 6 h: the answer holds a reversal of −8 h cancelling the
// original and an approved 6 h replacement. Once posted, the reversal's journal entry swaps the
// original's lines and names it (reverses_journal_entry_id), the original's candidate is
// REVERSED and the replacement has its own (6 × 50.00 = 300.00); net WIP 400 − 400 + 300 = 300.00
// and labor cost 160 − 160 + 120 = 120.00, in the ledger, the project's actuals (6 h) and the
// consultant's utilization (6 billable hours). The original shows REVERSED and who replaced it;
// correcting it again is refused.
func TestCorrectionReversesAndReplacesAPostedEntry(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	le := createLegalEntity(t, env, "US01", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT)
	fx := newPostingProject(t, env, le, "correct")
	ada := newPostingResource(t, env, le, "Ada Lovelace", "CONSULTANT", consultantCostRate)

	orig := mustRecordTime(t, env, timeIn(ada, fx.projectID, fx.billable, date(2026, 6, 15), "8", true))
	submitTimesheet(t, env, orig.GetTimesheetId())
	approveTimesheet(t, env, orig.GetTimesheetId())
	waitPostingStatus(t, env, stPosted, orig.GetEntryId())
	origJournal := listJournal(t, env, bySource(orig.GetEntryId()))
	if len(origJournal) != 1 {
		t.Fatalf("%d journal entries for the original, want 1", len(origJournal))
	}

	corr := mustCorrect(t, env, orig.GetEntryId(), timeIn(ada, fx.projectID, fx.billable, date(2026, 6, 15), "6", true), "the client meeting took 6 hours")
	rev, repl := corr.GetReversal(), corr.GetReplacement()
	if !sameDecimal(rev.GetHours(), "-8") || rev.GetReversesEntryId() != orig.GetEntryId() || rev.GetEntryId() == orig.GetEntryId() ||
		rev.GetApprovalStatus() != timeexpensev1.TimesheetStatus_TIMESHEET_STATUS_APPROVED || rev.GetPostingStatus() != stPending {
		t.Errorf("reversal %v; want a new approved entry of -8 h reversing %s, pending posting", rev, orig.GetEntryId())
	}
	if !sameDecimal(repl.GetHours(), "6") || repl.GetReversesEntryId() != "" || repl.GetEntryId() == orig.GetEntryId() || !repl.GetBillable() ||
		repl.GetApprovalStatus() != timeexpensev1.TimesheetStatus_TIMESHEET_STATUS_APPROVED || repl.GetPostingStatus() != stPending {
		t.Errorf("replacement %v; want a new approved billable entry of 6 h, pending posting", repl)
	}

	waitPostingStatus(t, env, stPosted, repl.GetEntryId())
	settled := waitPostingStatus(t, env, stReversed, orig.GetEntryId(), rev.GetEntryId())
	if o := settled[orig.GetEntryId()]; o.GetReplacedByEntryId() != repl.GetEntryId() || !sameDecimal(o.GetHours(), "8") {
		t.Errorf("original after the correction: %v; want its 8 h unchanged, replaced by %s", o, repl.GetEntryId())
	}

	// The ledger: the reversal swaps the original's lines; the replacement posts 6 h.
	revJournal := listJournal(t, env, bySource(rev.GetEntryId()))
	if len(revJournal) != 1 {
		t.Fatalf("%d journal entries for the reversal, want 1", len(revJournal))
	}
	if r := revJournal[0]; r.GetReversesJournalEntryId() != origJournal[0].GetJournalEntryId() || !sameDate(r.GetSourceDate(), 2026, 6, 15) {
		t.Errorf("reversal journal entry reverses %q (source date %v), want %s (2026-06-15)", r.GetReversesJournalEntryId(), r.GetSourceDate(),
			origJournal[0].GetJournalEntryId())
	}
	if got, want := lineTotals(t, revJournal...), map[string]string{"5000": "-160.00", "2150": "160.00", "1200": "-400.00", "4000": "400.00"}; !sameMap(got, want) {
		t.Errorf("reversal lines %v, want the original's swapped: %v", got, want)
	}
	replJournal := listJournal(t, env, bySource(repl.GetEntryId()))
	if got, want := lineTotals(t, replJournal...), map[string]string{"5000": "120.00", "2150": "-120.00", "1200": "300.00", "4000": "-300.00"}; len(replJournal) != 1 || !sameMap(got, want) {
		t.Errorf("replacement: %d journal entries with lines %v, want one with %v", len(replJournal), got, want)
	}
	all := listJournal(t, env, byProject(fx.projectID))
	if got, want := lineTotals(t, all...), map[string]string{"5000": "120.00", "2150": "-120.00", "1200": "300.00", "4000": "-300.00"}; len(all) != 3 || !sameMap(got, want) {
		t.Errorf("project ledger: %d journal entries netting %v; want 3 (original, reversal, replacement) netting %v", len(all), got, want)
	}
	// Total debits: 160 + 120 (5000), 160 (2150, the reversal), 400 + 300 (1200), 400 (4000, the reversal).
	checkTrialBalance(t, "trial balance", trialBalance(t, env, le.GetLegalEntityId(), ""), "1540.00",
		map[string]string{"5000": "120.00", "2150": "-120.00", "1200": "300.00", "4000": "-300.00"})

	// Invoice candidates: the original's cancelled, the replacement's open.
	cands := map[string]*billingv1.InvoiceCandidate{}
	for _, c := range listCandidates(t, env, byProject(fx.projectID)) {
		cands[c.GetSourceId()] = c
	}
	if c := cands[orig.GetEntryId()]; c == nil || c.GetStatus() != billingv1.CandidateStatus_CANDIDATE_STATUS_REVERSED || !moneyIs(c.GetAmount(), "400.00") {
		t.Errorf("the original's candidate %v, want 400.00 REVERSED", c)
	}
	if c := cands[repl.GetEntryId()]; c == nil || c.GetStatus() != billingv1.CandidateStatus_CANDIDATE_STATUS_OPEN || !moneyIs(c.GetAmount(), "300.00") ||
		!sameDecimal(c.GetQuantity(), "6") {
		t.Errorf("the replacement's candidate %v, want 6 × 50.00 = 300.00 OPEN", c)
	}
	if len(cands) != 2 {
		t.Errorf("%d candidates, want 2 (none for the reversal)", len(cands))
	}
	if k := billingKpis(t, env); len(k.GetUnbilledTime()) != 1 || !moneyIs(k.GetUnbilledTime()[0], "300.00") {
		t.Errorf("unbilled time %v, want 300.00 USD", k.GetUnbilledTime())
	}

	// Actuals net to the replacement.
	waitForFinancials(t, env, fx.projectID, func(f *projectv1.ProjectFinancials) error {
		if !sameDecimal(f.GetActualHours(), "6") || !moneyIs(f.GetActualCost(), "120.00") || !moneyIs(f.GetActualRevenue(), "300.00") {
			return fmt.Errorf("actuals %s h, cost %v, revenue %v; want 6 h, 120.00, 300.00", f.GetActualHours(), f.GetActualCost(), f.GetActualRevenue())
		}
		return nil
	})
	harness.Eventually(t, 10*time.Second, 50*time.Millisecond, func() error {
		if u := juneUtilization(t, env, ada); !sameDecimal(u.GetActualBillableHours(), "6") {
			return fmt.Errorf("June actual billable hours %q, want 6", u.GetActualBillableHours())
		}
		return nil
	})

	// The original cannot be corrected twice.
	before := countTE(t, env)
	st, hdr, body := env.Do(http.MethodPost, "/v1/time-entries/"+orig.GetEntryId()+":correct",
		restJSON(t, &timeexpensev1.CorrectTimeEntryRequest{Entry: timeIn(ada, fx.projectID, fx.billable, date(2026, 6, 15), "5", true), Reason: "again"}),
		env.Bearer(timeApprove))
	expectProblem(t, "correcting a corrected entry", http.StatusBadRequest, "ENTRY_ALREADY_CORRECTED", st, hdr, body)
	if after := countTE(t, env); after != before {
		t.Errorf("the refused correction wrote to time & expense: %+v, before %+v", after, before)
	}
}
