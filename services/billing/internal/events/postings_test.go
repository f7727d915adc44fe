package events_test

import (
	"context"
	"testing"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/streamtest"
	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/events"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
)

func TestPostingFiguresBalanceAndCandidates(t *testing.T) {
	t.Parallel()
	f := setup(t, legalentity.Reject)
	exp := &timeexpensev1.TimeEntry{EntryId: "X-1", Kind: timeexpensev1.EntryKind_ENTRY_KIND_EXPENSE, ResourceId: consult, ProjectId: projectID,
		TaskId: taskBill, WorkDate: &commonv1.Date{Year: 2026, Month: 6, Day: 11}, Amount: &commonv1.Money{Amount: "120.00", CurrencyCode: "USD"},
		Billable: true, Version: 1}
	apply(t, f, events.Postings(f.UC), approved(t,
		entry("T-1", consult, taskBill, "2026-06-10", "2", true),      // cost 2 × 20 = 40.00, WIP 2 × 50 = 100.00
		entry("T-2", architect, taskBill, "2026-06-10", "10.5", true), // cost 10.5 × 70 = 735.00, WIP 10.5 × 90 = 945.00
		entry("T-3", consult, taskPM, "2026-06-10", "3", false),       // cost only: 3 × 20 = 60.00
		exp, // expense 120.00, candidate 120.00 × 1.10 = 132.00
	))
	for code, want := range map[string]string{
		"5000": "835.00",   // labor cost 40 + 735 + 60
		"2150": "-835.00",  // labor cost clearing
		"1200": "1177.00",  // WIP 100 + 945 + 132
		"4000": "-1045.00", // service revenue 100 + 945
		"4100": "-132.00",  // rebilled expense
		"5100": "120.00",   // expense cost
		"2100": "-120.00",  // reimbursements payable
	} {
		if got := account(f, code); got != want {
			t.Errorf("account %s = %s, want %s", code, got, want)
		}
	}
	if unbalanced := billingtest.Scalar[int](f, `SELECT count(*) FROM (SELECT entry_id FROM journal_lines GROUP BY entry_id HAVING sum(debit) <> sum(credit)) x`); unbalanced != 0 {
		t.Fatalf("%d journal entries do not balance", unbalanced)
	}
	tb, err := f.UC.TrialBalance(context.Background(), f.LE.ID, "2026-06")
	if err != nil {
		t.Fatal(err)
	}
	dr, cr, balanced := tb.Totals()
	if !balanced || !dr.Equal(cr) || dr.StringFixed(2) != "2132.00" {
		t.Fatalf("trial balance debits %s credits %s, want equal at 2132.00", dr, cr)
	}
	for src, want := range map[string]string{"T-1": "100.00", "T-2": "945.00", "X-1": "132.00"} {
		if got := billingtest.Scalar[string](f, `SELECT amount::numeric(18,2)::text FROM invoice_candidates WHERE source_id = $1`, src); got != want {
			t.Errorf("candidate of %s = %s, want %s", src, got, want)
		}
	}
	if n := billingtest.Scalar[int](f, `SELECT count(*) FROM invoice_candidates WHERE source_id = 'T-3'`); n != 0 {
		t.Errorf("non-billable time made %d candidates", n)
	}
	if n := billingtest.Scalar[int](f, `SELECT count(*) FROM outbox WHERE event_type = $1`, billingv1.EventTypePostingsRecorded); n != 1 {
		t.Errorf("postings.recorded events = %d, want 1 for the batch", n)
	}
}

func TestDuplicatesPostOnce(t *testing.T) {
	t.Parallel()
	f := setup(t, legalentity.Reject)
	e := approved(t, entry("T-10", consult, taskBill, "2026-06-10", "2", true))
	// The same envelope delivered five times (a redelivery applies it again only without the
	// inbox; PostBatch is the guard behind it), then the same entry inside another event.
	for i := 0; i < 5; i++ {
		apply(t, f, events.Postings(f.UC), e)
	}
	apply(t, f, events.Postings(f.UC), approved(t,
		entry("T-10", consult, taskBill, "2026-06-10", "2", true), entry("T-10", consult, taskBill, "2026-06-10", "2", true)))
	if n := billingtest.Scalar[int](f, `SELECT count(*) FROM journal_entries WHERE source_id = 'T-10'`); n != 1 {
		t.Fatalf("journal entries for T-10 = %d, want 1", n)
	}
	if got := account(f, "1200"); got != "100.00" {
		t.Fatalf("WIP = %s, want 100.00", got)
	}
}

func TestClosedPeriodRejectsOrRollsForward(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reject := setup(t, legalentity.Reject)
	if _, err := reject.UC.SetPeriod(ctx, reject.LE.ID, "2026-05", true); err != nil {
		t.Fatal(err)
	}
	apply(t, reject, events.Postings(reject.UC), approved(t, entry("T-20", consult, taskBill, "2026-05-29", "4", true)))
	if got := billingtest.Scalar[string](reject, `SELECT outcome FROM posting_results WHERE source_id = 'T-20'`); got != "REJECTED_CLOSED_PERIOD" {
		t.Fatalf("outcome = %s", got)
	}
	if n := billingtest.Scalar[int](reject, `SELECT count(*) FROM journal_entries`); n != 0 {
		t.Fatalf("a rejected posting wrote %d journal entries", n)
	}
	k, err := reject.UC.KPIs(ctx)
	if err != nil || k.EntriesRejectedClosedPeriod != 1 || k.TimesheetsRejectedClosedPeriod != 1 {
		t.Fatalf("KPIs %+v %v, want 1 entry in 1 timesheet", k, err)
	}

	roll := setup(t, legalentity.RollForward)
	if _, err := roll.UC.SetPeriod(ctx, roll.LE.ID, "2026-05", true); err != nil {
		t.Fatal(err)
	}
	apply(t, roll, events.Postings(roll.UC), approved(t, entry("T-21", consult, taskBill, "2026-05-29", "4", true)))
	if got := billingtest.Scalar[string](roll, `SELECT posting_date::text || ' ' || source_date::text FROM journal_entries WHERE source_id = 'T-21'`); got != "2026-06-01 2026-05-29" {
		t.Fatalf("rolled-forward entry dated %s, want posting 2026-06-01 keeping source 2026-05-29", got)
	}
}

func TestParkedUntilTheCostRateArrives(t *testing.T) {
	t.Parallel()
	f := setup(t, legalentity.Reject)
	ctx := context.Background()
	apply(t, f, events.Postings(f.UC), approved(t,
		entry("T-30", newcomer, taskBill, "2026-06-10", "2", true), entry("T-31", newcomer, taskBill, "2026-06-11", "3", true)))
	if n := billingtest.Scalar[int](f, `SELECT count(*) FROM parked_postings`); n != 2 {
		t.Fatalf("parked = %d, want 2", n)
	}
	open, err := f.Queue.CountOpen(ctx, app.KindParked, "RATE_MISSING_FOR_DATE")
	if err != nil || open != 1 {
		t.Fatalf("open parked exceptions = %d (%v), want 1 for the resource", open, err)
	}
	rate := &resourcev1.CostRate{Rate: &commonv1.Money{Amount: "25.00", CurrencyCode: "USD"}, EffectiveFrom: &commonv1.Date{Year: 2026, Month: 1, Day: 1}}
	apply(t, f, events.Resources(f.UC), envelope(t, resourcev1.EventTypeCostRateChanged, &resourcev1.CostRateChanged{ResourceId: newcomer, RatesVersion: 1,
		Role: "CONSULTANT", Current: []*resourcev1.CostRate{rate}}))
	if n := billingtest.Scalar[int](f, `SELECT count(*) FROM parked_postings`); n != 0 {
		t.Fatalf("still parked = %d after the rate arrived", n)
	}
	if got := account(f, "5000"); got != "125.00" { // 5 h × 25.00
		t.Fatalf("labor cost = %s, want 125.00", got)
	}
	if got := account(f, "1200"); got != "250.00" { // 5 h × 50.00
		t.Fatalf("WIP = %s, want 250.00", got)
	}
	if open, _ := f.Queue.CountOpen(ctx, app.KindParked, ""); open != 0 {
		t.Fatalf("open parked exceptions = %d, want 0", open)
	}
}

func TestCorrectionReversesTheOriginal(t *testing.T) {
	t.Parallel()
	f := setup(t, legalentity.Reject)
	apply(t, f, events.Postings(f.UC), approved(t, entry("T-40", consult, taskBill, "2026-06-10", "8", true)))
	rev := entry("T-40-R", consult, taskBill, "2026-06-10", "-8", true)
	rev.ReversesEntryId = "T-40"
	apply(t, f, events.Postings(f.UC),
		envelope(t, timeexpensev1.EventTypeTimeEntriesReversed, &timeexpensev1.EntriesReversed{Entries: []*timeexpensev1.TimeEntry{rev}}),
		approved(t, entry("T-41", consult, taskBill, "2026-06-10", "6", true)))
	if got := account(f, "1200"); got != "300.00" { // 8 × 50 − 8 × 50 + 6 × 50
		t.Fatalf("WIP = %s, want 300.00", got)
	}
	if got := billingtest.Scalar[string](f, `SELECT status FROM invoice_candidates WHERE source_id = 'T-40'`); got != "REVERSED" {
		t.Fatalf("original candidate = %s", got)
	}
	if n := billingtest.Scalar[int](f, `SELECT count(*) FROM journal_entries WHERE reverses_id IS NOT NULL`); n != 1 {
		t.Fatalf("reversal entries = %d", n)
	}
}

// Time of a project billing has not heard of parks; the project's activation (with its contract)
// posts it.
func TestProjectActivationPostsWhatWaitedForIt(t *testing.T) {
	t.Parallel()
	f := setup(t, legalentity.Reject)
	const later = "01a22200-0000-7000-8000-000000000002"
	const laterTask = "01a22200-0000-7000-8000-000000000013"
	e := entry("T-50", consult, laterTask, "2026-06-10", "3", true)
	e.ProjectId = later
	apply(t, f, events.Postings(f.UC), approved(t, e))
	if got := billingtest.Scalar[string](f, `SELECT reason FROM posting_results WHERE source_id = 'T-50'`); got != "PROJECT_NOT_FINANCIALLY_ACTIVE" {
		t.Fatalf("reason = %q, want PROJECT_NOT_FINANCIALLY_ACTIVE", got)
	}
	contractID := billingtest.Scalar[string](f, `SELECT id::text FROM contracts`)
	project := &projectv1.Project{ProjectId: later, LegalEntityId: f.LE.ID, ContractId: contractID, Version: 3,
		Status: projectv1.ProjectStatus_PROJECT_STATUS_ACTIVE,
		Tasks:  []*projectv1.Task{{TaskId: laterTask, Billable: true, ContractLineKey: "L1"}}}
	apply(t, f, events.Projects(f.UC), envelope(t, projectv1.EventTypeProjectActivated, &projectv1.ProjectActivated{Project: project}))
	if got := billingtest.Scalar[string](f, `SELECT outcome FROM posting_results WHERE source_id = 'T-50'`); got != "POSTED" {
		t.Fatalf("outcome after activation = %s, want POSTED", got)
	}
	if got := account(f, "1200"); got != "150.00" { // 3 h × 50.00
		t.Fatalf("WIP = %s, want 150.00", got)
	}
	// An older version of the project changes nothing.
	stale := &projectv1.Project{ProjectId: later, LegalEntityId: f.LE.ID, Version: 1, Status: projectv1.ProjectStatus_PROJECT_STATUS_DRAFT}
	apply(t, f, events.Projects(f.UC), envelope(t, projectv1.EventTypeProjectCreated, &projectv1.ProjectCreated{Project: stale}))
	if got := billingtest.Scalar[int64](f, `SELECT version FROM project_replicas WHERE project_id = $1`, later); got != 3 {
		t.Fatalf("replica version = %d, want 3", got)
	}
}

// A handler given an event it has no route for fails with EVENT_UNROUTABLE (the consumer
// dead-letters it) and applies nothing of the batch.
func TestUnroutableEventsFailTheBatch(t *testing.T) {
	t.Parallel()
	f := setup(t, legalentity.Reject)
	role := envelope(t, resourcev1.EventTypeResourceUpserted, &resourcev1.ResourceUpserted{Resource: &resourcev1.Resource{ResourceId: consult, Role: "ARCHITECT"}})
	err := streamtest.Apply(context.Background(), f.DB.Pool, events.Postings(f.UC),
		approved(t, entry("T-60", consult, taskBill, "2026-06-10", "1", true)), role)
	if fault.ReasonOf(err) != "EVENT_UNROUTABLE" {
		t.Fatalf("err = %v, want EVENT_UNROUTABLE", err)
	}
	if n := billingtest.Scalar[int](f, `SELECT count(*) FROM posting_results WHERE source_id = 'T-60'`); n != 0 {
		t.Fatalf("the failed batch posted %d entries", n)
	}
}
