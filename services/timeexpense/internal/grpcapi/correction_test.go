package grpcapi_test

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/services/timeexpense/internal/events"
)

// approved records entries on alice's week of June 8, 2026, submits and approves it.
func (f fixture) approved(t *testing.T, ins ...*timeexpensev1.TimeEntryInput) []*timeexpensev1.TimeEntry {
	t.Helper()
	var sheet string
	for _, in := range ins {
		sheet = f.record(t, in).GetTimesheetId()
	}
	if _, err := f.c.SubmitTimesheet(f.Ctx(writer), &timeexpensev1.SubmitTimesheetRequest{TimesheetId: sheet}); err != nil {
		t.Fatal(err)
	}
	resp, err := f.c.ApproveTimesheet(f.Ctx(approver), &timeexpensev1.ApproveTimesheetRequest{TimesheetId: sheet})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetTimesheet().GetEntries()
}

func TestCorrectionReversesAndReplaces(t *testing.T) {
	f := start(t)
	ctx := f.Ctx(approver)
	orig := f.approved(t, timeIn(alice, day(2026, 6, 9), "20"))[0]
	before := orig.GetVersion()

	// 22 hours are fine: the original's 20 no longer count once corrected.
	fix := timeIn(alice, day(2026, 6, 9), "22")
	fix.Description = "build + deploy"
	resp, err := f.c.CorrectTimeEntry(ctx, &timeexpensev1.CorrectTimeEntryRequest{EntryId: orig.GetEntryId(), Entry: fix, Reason: "forgot the deploy"})
	if err != nil {
		t.Fatal(err)
	}
	rev, repl := resp.GetReversal(), resp.GetReplacement()
	if rev.GetHours() != "-20.00" || rev.GetReversesEntryId() != orig.GetEntryId() || rev.GetProjectId() != orig.GetProjectId() ||
		rev.GetApprovalStatus() != timeexpensev1.TimesheetStatus_TIMESHEET_STATUS_APPROVED || rev.GetPostingStatus() != timeexpensev1.PostingStatus_POSTING_STATUS_PENDING {
		t.Fatalf("reversal: %v", rev)
	}
	if repl.GetHours() != "22.00" || repl.GetDescription() != "build + deploy" || repl.GetReversesEntryId() != "" ||
		repl.GetPostingStatus() != timeexpensev1.PostingStatus_POSTING_STATUS_PENDING || repl.GetVersion() != 1 {
		t.Fatalf("replacement: %v", repl)
	}
	now, err := f.c.GetTimeEntry(ctx, &timeexpensev1.GetTimeEntryRequest{EntryId: orig.GetEntryId()})
	if err != nil {
		t.Fatal(err)
	}
	o := now.GetEntry()
	if o.GetHours() != "20.00" || o.GetDescription() != "build" || o.GetReplacedByEntryId() != repl.GetEntryId() || o.GetVersion() != before+1 {
		t.Fatalf("the original keeps its hours and points at its replacement: %v", o)
	}
	reversed := outboxEvents(t, f, timeexpensev1.EventTypeTimeEntriesReversed, func() *timeexpensev1.EntriesReversed { return &timeexpensev1.EntriesReversed{} })
	approved := approvedEvents(t, f)
	if len(reversed) != 1 || len(reversed[0].GetEntries()) != 1 || reversed[0].GetEntries()[0].GetEntryId() != rev.GetEntryId() {
		t.Fatalf("reversed events: %v", reversed)
	}
	if len(approved) != 2 || approved[1].GetEntries()[0].GetEntryId() != repl.GetEntryId() {
		t.Fatalf("approved events: %d", len(approved))
	}
	if n := f.Count("audit_log WHERE action = 'time_entry.corrected' AND reason = 'forgot the deploy'"); n != 1 {
		t.Fatalf("correction audit records = %d", n)
	}

	_, err = f.c.CorrectTimeEntry(ctx, &timeexpensev1.CorrectTimeEntryRequest{EntryId: orig.GetEntryId(), Entry: fix, Reason: "again"})
	wantErr(t, err, codes.FailedPrecondition, "ENTRY_ALREADY_CORRECTED")
	_, err = f.c.CorrectTimeEntry(ctx, &timeexpensev1.CorrectTimeEntryRequest{EntryId: rev.GetEntryId(), Entry: fix, Reason: "again"})
	wantErr(t, err, codes.FailedPrecondition, "ENTRY_NOT_CORRECTABLE")
	// The replacement counts: 22 + 3 > 24.
	over := timeIn(alice, day(2026, 6, 9), "3")
	_, err = f.c.CorrectTimeEntry(ctx, &timeexpensev1.CorrectTimeEntryRequest{EntryId: repl.GetEntryId(), Entry: over, Reason: "x"})
	if err != nil {
		t.Fatalf("correcting the replacement itself ignores its own hours: %v", err)
	}
	draft := f.record(t, timeIn(alice, day(2026, 6, 16), "1"))
	_, err = f.c.CorrectTimeEntry(ctx, &timeexpensev1.CorrectTimeEntryRequest{EntryId: draft.GetEntryId(), Entry: fix, Reason: "x"})
	wantErr(t, err, codes.FailedPrecondition, "ENTRY_NOT_APPROVED")
	_, err = f.c.CorrectTimeEntry(f.Ctx(writer), &timeexpensev1.CorrectTimeEntryRequest{EntryId: draft.GetEntryId(), Entry: fix, Reason: "x"})
	wantErr(t, err, codes.PermissionDenied, "SCOPE_MISSING")
}

func TestRefusedCorrectionWritesNothing(t *testing.T) {
	f := start(t)
	ctx := f.Ctx(approver)
	entries := f.approved(t, timeIn(alice, day(2026, 6, 9), "8"), timeIn(alice, day(2026, 6, 10), "20"))
	rows, events, audits := f.Count("time_entries"), f.Count("outbox"), f.Count("audit_log")
	for _, tc := range []struct {
		in     *timeexpensev1.TimeEntryInput
		reason string
	}{
		{timeIn(alice, day(2026, 6, 10), "5"), "DAILY_HOURS_EXCEEDED"}, // moved onto a day with 20 hours
		{timeIn(alice, day(2026, 5, 20), "8"), "PERIOD_CLOSED"},
		{func() *timeexpensev1.TimeEntryInput {
			in := timeIn(alice, day(2026, 6, 9), "8")
			in.TaskId = freeTask
			return in
		}(), "TASK_NOT_BILLABLE"},
	} {
		_, err := f.c.CorrectTimeEntry(ctx, &timeexpensev1.CorrectTimeEntryRequest{EntryId: entries[0].GetEntryId(), Entry: tc.in, Reason: "r"})
		if err == nil {
			t.Fatalf("%s: accepted", tc.reason)
		}
		wantErr(t, err, codes.FailedPrecondition, tc.reason)
	}
	if f.Count("time_entries") != rows || f.Count("outbox") != events || f.Count("audit_log") != audits {
		t.Fatal("a refused correction must write nothing")
	}
}

func TestExpenseCorrectionNegatesTheAmount(t *testing.T) {
	f := start(t)
	exp := expenseIn(bob, day(2026, 6, 11), "310.40", "EUR")
	exp.ExternalReference = ref("EXP-9")
	imp, err := f.c.ImportApprovedEntries(f.Ctx(approver), &timeexpensev1.ImportApprovedEntriesRequest{Items: []*timeexpensev1.ImportItem{expenseItem(exp)}})
	if err != nil || imp.GetAccepted() != 1 {
		t.Fatalf("import: %v %v", imp, err)
	}
	moved := timeIn(bob, day(2026, 6, 12), "1")
	moved.ProjectId, moved.TaskId, moved.ExternalReference = rollProj, rollTask, ref("EXP-9")
	resp, err := f.c.CorrectTimeEntry(f.Ctx(approver), &timeexpensev1.CorrectTimeEntryRequest{EntryId: imp.GetResults()[0].GetEntryId(), Entry: moved, Reason: "wrong project"})
	if err != nil {
		t.Fatal(err)
	}
	if a := resp.GetReversal().GetAmount(); a.GetAmount() != "-310.40" || a.GetCurrencyCode() != "EUR" ||
		resp.GetReversal().GetKind() != timeexpensev1.EntryKind_ENTRY_KIND_EXPENSE {
		t.Fatalf("expense reversal: %v", resp.GetReversal())
	}
	r := resp.GetReplacement()
	if r.GetKind() != timeexpensev1.EntryKind_ENTRY_KIND_EXPENSE || r.GetAmount().GetAmount() != "310.40" || r.GetProjectId() != rollProj ||
		r.GetExternalReference() != nil {
		t.Fatalf("expense replacement: %v", r)
	}
}

func TestPostingAnswersUpdateStatuses(t *testing.T) {
	f := start(t)
	entries := f.approved(t, timeIn(alice, day(2026, 6, 8), "1"), timeIn(alice, day(2026, 6, 9), "2"), timeIn(alice, day(2026, 6, 10), "3"))
	// Entries are returned by work date.
	posted, parked, rejected := entries[0].GetEntryId(), entries[1].GetEntryId(), entries[2].GetEntryId()
	answer := func(id string, o billingv1.PostingOutcome, reason string) *billingv1.PostingResult {
		return &billingv1.PostingResult{SourceType: "time_entry", SourceId: id, SourceVersion: 3, Outcome: o, Reason: reason}
	}
	f.apply(t, events.Billing(f.uc), envelope(t, billingv1.EventTypePostingsRecorded, &billingv1.PostingsRecorded{Results: []*billingv1.PostingResult{
		answer(posted, billingv1.PostingOutcome_POSTING_OUTCOME_POSTED, ""),
		answer(parked, billingv1.PostingOutcome_POSTING_OUTCOME_PARKED_RATE_MISSING, "RATE_MISSING_FOR_DATE"),
		answer(rejected, billingv1.PostingOutcome_POSTING_OUTCOME_REJECTED_CLOSED_PERIOD, "PERIOD_CLOSED"),
		{SourceType: "supplier_cost", SourceId: posted, Outcome: billingv1.PostingOutcome_POSTING_OUTCOME_REJECTED_CLOSED_PERIOD},
	}}))
	status := func(id string) (timeexpensev1.PostingStatus, string) {
		resp, err := f.c.GetTimeEntry(f.Ctx(writer), &timeexpensev1.GetTimeEntryRequest{EntryId: id})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetEntry().GetPostingStatus(), resp.GetEntry().GetPostingReason()
	}
	if s, _ := status(posted); s != timeexpensev1.PostingStatus_POSTING_STATUS_POSTED {
		t.Fatalf("posted: %v", s)
	}
	if s, r := status(parked); s != timeexpensev1.PostingStatus_POSTING_STATUS_PARKED_RATE_MISSING || r != "RATE_MISSING_FOR_DATE" {
		t.Fatalf("parked: %v %q", s, r)
	}
	if s, _ := status(rejected); s != timeexpensev1.PostingStatus_POSTING_STATUS_REJECTED_CLOSED_PERIOD {
		t.Fatalf("rejected: %v", s)
	}
	// A late PARKED never overwrites a final status; a rate arriving posts the parked entry.
	f.apply(t, events.Billing(f.uc), envelope(t, billingv1.EventTypePostingsRecorded, &billingv1.PostingsRecorded{Results: []*billingv1.PostingResult{
		answer(posted, billingv1.PostingOutcome_POSTING_OUTCOME_PARKED_RATE_MISSING, "RATE_MISSING_FOR_DATE"),
		answer(rejected, billingv1.PostingOutcome_POSTING_OUTCOME_PARKED_RATE_MISSING, "RATE_MISSING_FOR_DATE"),
		answer(parked, billingv1.PostingOutcome_POSTING_OUTCOME_POSTED, ""),
	}}))
	if s, _ := status(posted); s != timeexpensev1.PostingStatus_POSTING_STATUS_POSTED {
		t.Fatalf("a late PARKED overwrote POSTED: %v", s)
	}
	if s, _ := status(rejected); s != timeexpensev1.PostingStatus_POSTING_STATUS_REJECTED_CLOSED_PERIOD {
		t.Fatalf("a late PARKED overwrote REJECTED_CLOSED_PERIOD: %v", s)
	}
	if s, r := status(parked); s != timeexpensev1.PostingStatus_POSTING_STATUS_POSTED || r != "" {
		t.Fatalf("parked then posted: %v %q", s, r)
	}

	// A posted reversal cancels its original.
	fix, err := f.c.CorrectTimeEntry(f.Ctx(approver), &timeexpensev1.CorrectTimeEntryRequest{EntryId: posted, Entry: timeIn(alice, day(2026, 6, 8), "1.5"), Reason: "r"})
	if err != nil {
		t.Fatal(err)
	}
	f.apply(t, events.Billing(f.uc), envelope(t, billingv1.EventTypePostingsRecorded, &billingv1.PostingsRecorded{Results: []*billingv1.PostingResult{
		answer(fix.GetReversal().GetEntryId(), billingv1.PostingOutcome_POSTING_OUTCOME_REVERSED, ""),
		answer(fix.GetReplacement().GetEntryId(), billingv1.PostingOutcome_POSTING_OUTCOME_POSTED, ""),
	}}))
	if s, _ := status(posted); s != timeexpensev1.PostingStatus_POSTING_STATUS_REVERSED {
		t.Fatalf("original after its reversal posted: %v", s)
	}
	list, err := f.c.ListTimeEntries(f.Ctx(writer), &timeexpensev1.ListTimeEntriesRequest{ResourceId: alice,
		PostingStatus: timeexpensev1.PostingStatus_POSTING_STATUS_POSTED})
	if err != nil || list.GetTotalCount() != 2 {
		t.Fatalf("posted entries: %v %v", list, err)
	}
}

// The closed-period KPI counts entries refused when recorded (nothing stored) and entries the
// ledger rejected at posting, split by where: one time entry of 7.5 h recorded into closed May
// (refused, and its retry counts once) plus one expense imported into it; four entries of 1 h
// accepted for June, then rejected at posting (alice × 2 weeks, bob × 1).
func TestClosedPeriodKPI(t *testing.T) {
	f := start(t)
	var items []*timeexpensev1.ImportItem
	for i, d := range []int32{8, 9, 15} { // alice: two weeks
		in := timeIn(alice, day(2026, 6, d), "1")
		in.ExternalReference = ref("K-" + string(rune('a'+i)))
		items = append(items, timeItem(in))
	}
	in := timeIn(bob, day(2026, 6, 9), "1")
	in.ExternalReference = ref("K-bob")
	items = append(items, timeItem(in))
	exp := expenseIn(bob, day(2026, 5, 20), "42.00", "USD")
	exp.ExternalReference = ref("K-exp")
	items = append(items, expenseItem(exp))
	imp, err := f.c.ImportApprovedEntries(f.Ctx(approver), &timeexpensev1.ImportApprovedEntriesRequest{Items: items})
	if err != nil || imp.GetAccepted() != 4 || imp.GetRejected() != 1 {
		t.Fatalf("import: %v %v", imp, err)
	}
	var results []*billingv1.PostingResult
	for _, r := range imp.GetResults() {
		if r.GetEntryId() != "" {
			results = append(results, &billingv1.PostingResult{SourceType: "time_entry", SourceId: r.GetEntryId(),
				Outcome: billingv1.PostingOutcome_POSTING_OUTCOME_REJECTED_CLOSED_PERIOD, Reason: "PERIOD_CLOSED"})
		}
	}
	f.apply(t, events.Billing(f.uc), envelope(t, billingv1.EventTypePostingsRecorded, &billingv1.PostingsRecorded{Results: results}))
	for range 2 { // refused, then retried
		_, err = f.c.RecordTimeEntry(f.Ctx(writer), &timeexpensev1.RecordTimeEntryRequest{Entry: timeIn(alice, day(2026, 5, 20), "7.5")})
		wantErr(t, err, codes.FailedPrecondition, "PERIOD_CLOSED")
	}
	if n := f.Count("time_entries WHERE work_date < '2026-06-01'"); n != 0 {
		t.Fatalf("entries stored for closed May = %d, want none", n)
	}
	k, err := f.c.GetTimeExpenseKpis(f.Ctx(writer), &timeexpensev1.GetTimeExpenseKpisRequest{})
	if err != nil {
		t.Fatal(err)
	}
	count := func(c *timeexpensev1.ClosedPeriodRefusals) string {
		return fmt.Sprintf("%d entries, %d timesheets, %s h", c.GetEntries(), c.GetTimesheets(), c.GetHours())
	}
	for _, c := range []struct{ where, got, want string }{
		{"at record time", count(k.GetClosedPeriodRefusedAtRecordTime()), "2 entries, 2 timesheets, 7.5 h"},
		{"at posting", count(k.GetClosedPeriodRejectedAtPosting()), "4 entries, 3 timesheets, 4 h"},
		{"in all", count(k.GetClosedPeriodTotal()), "6 entries, 5 timesheets, 11.5 h"},
	} {
		if c.got != c.want {
			t.Errorf("refused for closed periods %s: %s, want %s", c.where, c.got, c.want)
		}
	}
}

func TestReplicasIgnoreOlderEvents(t *testing.T) {
	f := start(t)
	ctx := f.Ctx(writer)
	// An older period event (opened before it was closed) arrives late: May stays closed.
	f.apply(t, events.Billing(f.uc), periodEvent(t, leReject, "2026-05", billingv1.PeriodStatus_PERIOD_STATUS_OPEN, time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)))
	_, err := f.c.RecordTimeEntry(ctx, &timeexpensev1.RecordTimeEntryRequest{Entry: timeIn(alice, day(2026, 5, 20), "1")})
	wantErr(t, err, codes.FailedPrecondition, "PERIOD_CLOSED")
	// Reopened later: accepted.
	f.apply(t, events.Billing(f.uc), periodEvent(t, leReject, "2026-05", billingv1.PeriodStatus_PERIOD_STATUS_OPEN, time.Date(2026, 6, 5, 0, 0, 0, 0, time.UTC)))
	f.record(t, timeIn(alice, day(2026, 5, 20), "1"))

	// An older project version (still pending activation) changes nothing; a newer one (on hold) does.
	proj := func(version int64, st projectv1.ProjectStatus) *projectv1.Project {
		return &projectv1.Project{ProjectId: project, LegalEntityId: leReject, Status: st, Version: version,
			Tasks: []*projectv1.Task{{TaskId: billTask, Billable: true}}}
	}
	f.apply(t, events.Projects(f.uc), envelope(t, projectv1.EventTypeProjectCreated, &projectv1.ProjectCreated{
		Project: proj(1, projectv1.ProjectStatus_PROJECT_STATUS_PENDING_FINANCIAL_ACTIVATION)}))
	f.record(t, timeIn(alice, day(2026, 6, 9), "1"))
	f.apply(t, events.Projects(f.uc), envelope(t, projectv1.EventTypeProjectStatusChanged, &projectv1.ProjectStatusChanged{
		Project: proj(4, projectv1.ProjectStatus_PROJECT_STATUS_ON_HOLD)}))
	_, err = f.c.RecordTimeEntry(ctx, &timeexpensev1.RecordTimeEntryRequest{Entry: timeIn(alice, day(2026, 6, 9), "1")})
	wantErr(t, err, codes.FailedPrecondition, "PROJECT_INACTIVE")
	// A newer policy (reject) keeps closed-period work out.
	f.apply(t, events.Billing(f.uc), envelope(t, billingv1.EventTypeLegalEntityUpserted, &billingv1.LegalEntityUpserted{LegalEntity: &billingv1.LegalEntity{
		LegalEntityId: leRoll, Version: 2, ClosedPeriodPolicy: billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT}}))
	in := timeIn(alice, day(2026, 5, 20), "1")
	in.ProjectId, in.TaskId = rollProj, rollTask
	_, err = f.c.RecordTimeEntry(ctx, &timeexpensev1.RecordTimeEntryRequest{Entry: in})
	wantErr(t, err, codes.FailedPrecondition, "PERIOD_CLOSED")
}
