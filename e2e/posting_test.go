package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
)

// Workflow 3 (approved time & expense → posting), through the real pipeline: timesheets recorded,
// submitted and approved through the gateway, the approval published by the time & expense
// service, posted by billing, and the actuals fed back to the project and resource services.

// The hand-checked example of workflow 3. On the T&M line (consultants billed 50.00/h, architects
// 90.00/h, expenses rebilled at +10 %), a consultant costing 20.00/h and an architect costing
// 70.00/h record, in the week of June 8, 2026:
//
//	consultant  2 h billable      WIP 2 × 50.00 = 100.00   labor cost 2 × 20.00 = 40.00
//	architect  10.5 h billable    WIP 10.5 × 90.00 = 945.00 labor cost 10.5 × 70.00 = 735.00
//	consultant  3 h non-billable  no WIP, no candidate      labor cost 3 × 20.00 = 60.00
//	consultant  expense 120.00    candidate 120.00 × 1.10 = 132.00   expense cost 120.00
//
// Ledger (debit − credit): 5000 labor cost 40 + 735 + 60 = 835.00, 2150 labor cost clearing
// −835.00, 1200 WIP 100 + 945 + 132 = 1177.00, 4000 service revenue −(100 + 945) = −1045.00,
// 4100 reimbursable expense revenue −132.00, 5100 expense cost 120.00, 2100 reimbursements
// payable −120.00; total debits = total credits = 835 + 1177 + 120 = 2132.00.
// Project actuals: hours 2 + 10.5 + 3 = 15.5, cost 835 + 120 = 955.00, revenue 1177.00, margin
// 222.00 (222 / 1177 = 18.86 %). Utilization of June (22 working days × 8 h = 176 h capacity):
// consultant 2 billable hours (1.14 %), architect 10.5 (5.97 %).
func TestApprovedTimeAndExpensePostAsHandChecked(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	le := createLegalEntity(t, env, "US01", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT)
	fx := newPostingProject(t, env, le, "handchecked")
	ada := newPostingResource(t, env, le, "Ada Lovelace", "CONSULTANT", consultantCostRate)
	linus := newPostingResource(t, env, le, "Linus Torvalds", "ARCHITECT", architectCostRate)

	c2h := mustRecordTime(t, env, timeIn(ada, fx.projectID, fx.billable, date(2026, 6, 8), "2", true))
	c3h := mustRecordTime(t, env, timeIn(ada, fx.projectID, fx.nonBillable, date(2026, 6, 9), "3", false))
	exp := mustRecordExpense(t, env, expenseIn(ada, fx.projectID, fx.billable, date(2026, 6, 10), "120.00", true))
	a10 := mustRecordTime(t, env, timeIn(linus, fx.projectID, fx.billable, date(2026, 6, 8), "10.5", true))
	if c3h.GetTimesheetId() != c2h.GetTimesheetId() || exp.GetTimesheetId() != c2h.GetTimesheetId() || a10.GetTimesheetId() == c2h.GetTimesheetId() {
		t.Fatalf("timesheets: consultant %s, %s, %s; architect %s; want one per resource and week",
			c2h.GetTimesheetId(), c3h.GetTimesheetId(), exp.GetTimesheetId(), a10.GetTimesheetId())
	}
	// Nothing is posted before approval.
	submitTimesheet(t, env, c2h.GetTimesheetId())
	submitTimesheet(t, env, a10.GetTimesheetId())
	if n := env.Count("billing", `SELECT count(*) FROM journal_entries`); n != 0 {
		t.Fatalf("%d journal entries before any approval, want 0", n)
	}
	if ts := approveTimesheet(t, env, c2h.GetTimesheetId()); len(ts.GetEntries()) != 3 {
		t.Errorf("the consultant's approved timesheet has %d entries, want 3", len(ts.GetEntries()))
	}
	approveTimesheet(t, env, a10.GetTimesheetId())

	ids := []string{c2h.GetEntryId(), c3h.GetEntryId(), exp.GetEntryId(), a10.GetEntryId()}
	for id, e := range waitPostingStatus(t, env, stPosted, ids...) {
		if e.GetPostingReason() != "" || e.GetApprovalStatus() != timeexpensev1.TimesheetStatus_TIMESHEET_STATUS_APPROVED {
			t.Errorf("entry %s: approval %s, posting reason %q; want APPROVED with no reason", id, e.GetApprovalStatus(), e.GetPostingReason())
		}
	}

	// Invoice candidates: the two billable time entries at their bill rates and the expense with
	// its markup; nothing for the non-billable hours.
	cands := map[string]*billingv1.InvoiceCandidate{}
	for _, c := range listCandidates(t, env, byProject(fx.projectID)) {
		cands[c.GetSourceId()] = c
	}
	if len(cands) != 3 || cands[c3h.GetEntryId()] != nil {
		t.Errorf("%d invoice candidates (non-billable entry has one: %v), want 3 and none for the non-billable hours", len(cands), cands[c3h.GetEntryId()] != nil)
	}
	for _, w := range []struct {
		what, id, srcType, qty, unit, markup, amount string
	}{
		{"2 h consultant", c2h.GetEntryId(), "time_entry", "2", "50.00", "", "100.00"},
		{"10.5 h architect", a10.GetEntryId(), "time_entry", "10.5", "90.00", "", "945.00"},
		{"120.00 expense", exp.GetEntryId(), "expense", "1", "120.00", "10", "132.00"},
	} {
		c := cands[w.id]
		if c == nil {
			t.Errorf("%s: no invoice candidate", w.what)
			continue
		}
		if !moneyIs(c.GetAmount(), w.amount) || !moneyIs(c.GetUnitPrice(), w.unit) || !sameDecimal(c.GetQuantity(), w.qty) ||
			c.GetSourceType() != w.srcType || c.GetStatus() != billingv1.CandidateStatus_CANDIDATE_STATUS_OPEN ||
			c.GetContractId() != fx.contractID || c.GetContractLineKey() != "IMPL-1" ||
			(w.markup != "" && !sameDecimal(c.GetMarkupPercent(), w.markup)) || (w.markup == "" && c.GetMarkupPercent() != "") {
			t.Errorf("%s: candidate %v; want %s × %s (markup %q) = %s USD, OPEN, %s on contract %s line IMPL-1", w.what, c,
				w.qty, w.unit, w.markup, w.amount, w.srcType, fx.contractID)
		}
	}

	// One balanced journal entry per source, dated the work date, with the hand-checked lines.
	journal := map[string]*billingv1.JournalEntry{}
	for _, e := range listJournal(t, env, byProject(fx.projectID)) {
		if journal[e.GetSourceId()] != nil {
			t.Errorf("source %s has two journal entries", e.GetSourceId())
		}
		journal[e.GetSourceId()] = e
	}
	if len(journal) != 4 {
		t.Errorf("%d journal entries for the project, want 4 (one per source)", len(journal))
	}
	for _, w := range []struct {
		what  string
		entry *timeexpensev1.TimeEntry
		day   int
		lines map[string]string
	}{
		{"2 h consultant", c2h, 8, map[string]string{"5000": "40.00", "2150": "-40.00", "1200": "100.00", "4000": "-100.00"}},
		{"10.5 h architect", a10, 8, map[string]string{"5000": "735.00", "2150": "-735.00", "1200": "945.00", "4000": "-945.00"}},
		{"3 h non-billable", c3h, 9, map[string]string{"5000": "60.00", "2150": "-60.00"}},
		{"120.00 expense", exp, 10, map[string]string{"5100": "120.00", "2100": "-120.00", "1200": "132.00", "4100": "-132.00"}},
	} {
		e := journal[w.entry.GetEntryId()]
		if e == nil {
			t.Errorf("%s: no journal entry", w.what)
			continue
		}
		if got := lineTotals(t, e); !sameMap(got, w.lines) {
			t.Errorf("%s: journal lines %v, want %v", w.what, got, w.lines)
		}
		if !sameDate(e.GetPostingDate(), 2026, 6, w.day) || !sameDate(e.GetSourceDate(), 2026, 6, w.day) || e.GetLegalEntityId() != le.GetLegalEntityId() ||
			e.GetReversesJournalEntryId() != "" {
			t.Errorf("%s: journal entry dated %v (source %v) in %s; want both June %d, 2026 in %s", w.what, e.GetPostingDate(), e.GetSourceDate(),
				e.GetLegalEntityId(), w.day, le.GetLegalEntityId())
		}
	}

	checkTrialBalance(t, "trial balance", trialBalance(t, env, le.GetLegalEntityId(), ""), "2132.00", map[string]string{
		"5000": "835.00", "2150": "-835.00", "1200": "1177.00", "4000": "-1045.00", "4100": "-132.00", "5100": "120.00", "2100": "-120.00",
	})
	checkTrialBalance(t, "trial balance of 2026-06", trialBalance(t, env, le.GetLegalEntityId(), "2026-06"), "2132.00", map[string]string{
		"5000": "835.00", "2150": "-835.00", "1200": "1177.00", "4000": "-1045.00", "4100": "-132.00", "5100": "120.00", "2100": "-120.00",
	})

	k := billingKpis(t, env)
	if len(k.GetUnbilledTime()) != 1 || !moneyIs(k.GetUnbilledTime()[0], "1045.00") || k.GetJournalEntries() != 4 ||
		k.GetPostingsParkedRateMissing() != 0 || k.GetEntriesRejectedClosedPeriod() != 0 {
		t.Errorf("billing KPIs %v; want unbilled time 1045.00 USD (100.00 + 945.00), 4 journal entries, nothing parked or rejected", k)
	}

	// The actuals reach the project's financials and the resources' utilization.
	f := waitForFinancials(t, env, fx.projectID, func(f *projectv1.ProjectFinancials) error {
		if !moneyIs(f.GetActualCost(), "955.00") || !moneyIs(f.GetActualRevenue(), "1177.00") {
			return fmt.Errorf("actual cost %v, actual revenue %v; want 955.00 and 1177.00", f.GetActualCost(), f.GetActualRevenue())
		}
		return nil
	})
	if !sameDecimal(f.GetActualHours(), "15.5") || !moneyIs(f.GetActualMargin(), "222.00") || f.GetActualMarginPercent() != "18.86" {
		t.Errorf("actuals: %s h, margin %v (%s %%); want 15.5 h, 222.00 (18.86 %%)", f.GetActualHours(), f.GetActualMargin(), f.GetActualMarginPercent())
	}
	for _, w := range []struct{ who, id, hours, pct string }{{"consultant", ada, "2", "1.14"}, {"architect", linus, "10.5", "5.97"}} {
		var u *resourcev1.UtilizationPeriod
		harness.Eventually(t, 10*time.Second, 50*time.Millisecond, func() error {
			u = juneUtilization(t, env, w.id)
			if !sameDecimal(u.GetActualBillableHours(), w.hours) {
				return fmt.Errorf("the %s's June utilization shows %q actual billable hours, want %s", w.who, u.GetActualBillableHours(), w.hours)
			}
			return nil
		})
		if !sameDecimal(u.GetCapacityHours(), "176") || u.GetActualUtilizationPercent() != w.pct {
			t.Errorf("the %s's June utilization: capacity %s, actual %s %%; want 176 h and %s %%", w.who, u.GetCapacityHours(),
				u.GetActualUtilizationPercent(), w.pct)
		}
	}
}
