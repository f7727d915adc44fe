package grpcapi_test

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"

	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
)

func TestTimesheetWorkflow(t *testing.T) {
	f := start(t)
	ctx := f.Ctx(writer)
	mon, wed := day(2026, 6, 8), day(2026, 6, 10)
	e1 := f.record(t, timeIn(alice, mon, "7.5"))
	e2 := f.record(t, timeIn(alice, day(2026, 6, 14), "2")) // Sunday: same ISO week
	exp, err := f.c.RecordExpense(ctx, &timeexpensev1.RecordExpenseRequest{Expense: expenseIn(alice, wed, "120.5", "USD")})
	if err != nil {
		t.Fatal(err)
	}
	sheet := e1.GetTimesheetId()
	if sheet == "" || e2.GetTimesheetId() != sheet || exp.GetEntry().GetTimesheetId() != sheet {
		t.Fatalf("one timesheet per resource and week: %s %s %s", sheet, e2.GetTimesheetId(), exp.GetEntry().GetTimesheetId())
	}
	if e1.GetHours() != "7.50" || e1.GetApprovalStatus() != timeexpensev1.TimesheetStatus_TIMESHEET_STATUS_DRAFT ||
		e1.GetPostingStatus() != timeexpensev1.PostingStatus_POSTING_STATUS_NOT_APPROVED || exp.GetEntry().GetAmount().GetAmount() != "120.50" {
		t.Fatalf("recorded entries: %v %v", e1, exp.GetEntry())
	}
	next := f.record(t, timeIn(alice, day(2026, 6, 15), "1"))
	if next.GetTimesheetId() == sheet {
		t.Fatal("the next Monday starts another timesheet")
	}

	// Approving a draft is not a transition; submitting moves it on and locks it.
	_, err = f.c.ApproveTimesheet(f.Ctx(approver), &timeexpensev1.ApproveTimesheetRequest{TimesheetId: sheet})
	wantErr(t, err, codes.FailedPrecondition, "INVALID_STATUS_TRANSITION")
	sub, err := f.c.SubmitTimesheet(ctx, &timeexpensev1.SubmitTimesheetRequest{TimesheetId: sheet})
	if err != nil || sub.GetTimesheet().GetStatus() != timeexpensev1.TimesheetStatus_TIMESHEET_STATUS_SUBMITTED || len(sub.GetTimesheet().GetEntries()) != 3 {
		t.Fatalf("submit: %v %v", sub, err)
	}
	_, err = f.c.RecordTimeEntry(ctx, &timeexpensev1.RecordTimeEntryRequest{Entry: timeIn(alice, wed, "1")})
	wantErr(t, err, codes.FailedPrecondition, "TIMESHEET_NOT_EDITABLE")

	// Rejected with a reason; editing reopens it as a draft.
	rej, err := f.c.RejectTimesheet(f.Ctx(approver), &timeexpensev1.RejectTimesheetRequest{TimesheetId: sheet, Reason: "split the travel day"})
	if err != nil || rej.GetTimesheet().GetStatus() != timeexpensev1.TimesheetStatus_TIMESHEET_STATUS_REJECTED ||
		rej.GetTimesheet().GetRejectionReason() != "split the travel day" || rej.GetTimesheet().GetDecidedBy() != "test-client" {
		t.Fatalf("reject: %v %v", rej, err)
	}
	f.record(t, timeIn(alice, wed, "1"))
	got, err := f.c.GetTimesheet(ctx, &timeexpensev1.GetTimesheetRequest{TimesheetId: sheet})
	if err != nil || got.GetTimesheet().GetStatus() != timeexpensev1.TimesheetStatus_TIMESHEET_STATUS_DRAFT || len(got.GetTimesheet().GetEntries()) != 4 {
		t.Fatalf("edited rejected timesheet: %v %v", got, err)
	}
	for _, e := range got.GetTimesheet().GetEntries() {
		if e.GetApprovalStatus() != timeexpensev1.TimesheetStatus_TIMESHEET_STATUS_DRAFT {
			t.Fatalf("entries of a reopened timesheet are drafts again: %v", e)
		}
	}
	if _, err := f.c.SubmitTimesheet(ctx, &timeexpensev1.SubmitTimesheetRequest{TimesheetId: sheet}); err != nil {
		t.Fatal(err)
	}
	if n := f.Count("outbox"); n != 0 {
		t.Fatalf("nothing is published before approval: %d events", n)
	}

	app, err := f.c.ApproveTimesheet(f.Ctx(approver), &timeexpensev1.ApproveTimesheetRequest{TimesheetId: sheet})
	if err != nil {
		t.Fatal(err)
	}
	ts := app.GetTimesheet()
	if ts.GetStatus() != timeexpensev1.TimesheetStatus_TIMESHEET_STATUS_APPROVED || ts.GetDecidedBy() != "test-client" || len(ts.GetEntries()) != 4 {
		t.Fatalf("approve: %v", ts)
	}
	for _, e := range ts.GetEntries() {
		if e.GetPostingStatus() != timeexpensev1.PostingStatus_POSTING_STATUS_PENDING || e.GetApproveTime() == nil ||
			e.GetApprovalStatus() != timeexpensev1.TimesheetStatus_TIMESHEET_STATUS_APPROVED {
			t.Fatalf("approved entry: %v", e)
		}
	}
	evs := approvedEvents(t, f)
	if len(evs) != 1 || len(evs[0].GetEntries()) != 4 || f.Count("outbox") != 1 {
		t.Fatalf("approval publishes exactly one event with every entry: %d events", len(evs))
	}
	if n := f.Count("outbox WHERE subject = '" + sheet + "' AND stream = 'timeexpense.events'"); n != 1 {
		t.Fatalf("the event's subject is the timesheet: %d", n)
	}
	_, err = f.c.ApproveTimesheet(f.Ctx(approver), &timeexpensev1.ApproveTimesheetRequest{TimesheetId: sheet})
	wantErr(t, err, codes.FailedPrecondition, "INVALID_STATUS_TRANSITION")
	_, err = f.c.RecordTimeEntry(ctx, &timeexpensev1.RecordTimeEntryRequest{Entry: timeIn(alice, wed, "1")})
	wantErr(t, err, codes.FailedPrecondition, "TIMESHEET_NOT_EDITABLE")
	if n := f.Count("outbox"); n != 1 {
		t.Fatalf("a refused approval publishes nothing: %d", n)
	}
	if n := f.Count("audit_log WHERE action = 'timesheet.rejected' AND reason = 'split the travel day'"); n != 1 {
		t.Fatalf("rejection audit records = %d", n)
	}
	if n := f.Count("audit_log WHERE action = 'timesheet.approved' AND actor = 'test-client'"); n != 1 {
		t.Fatalf("approval audit records = %d", n)
	}

	_, err = f.c.SubmitTimesheet(ctx, &timeexpensev1.SubmitTimesheetRequest{TimesheetId: "01a2210c-0000-7000-8000-0000000000ee"})
	wantErr(t, err, codes.NotFound, "TIMESHEET_NOT_FOUND")
}

func TestEntryRulesRefuseAndWriteNothing(t *testing.T) {
	f := start(t)
	ctx := f.Ctx(writer)
	jun := day(2026, 6, 10)
	with := func(f func(*timeexpensev1.TimeEntryInput)) *timeexpensev1.TimeEntryInput {
		in := timeIn(alice, jun, "8")
		f(in)
		return in
	}
	for _, tc := range []struct {
		name   string
		in     *timeexpensev1.TimeEntryInput
		code   codes.Code
		reason string
	}{
		{"zero hours", with(func(i *timeexpensev1.TimeEntryInput) { i.Hours = "0" }), codes.InvalidArgument, "INVALID_HOURS"},
		{"negative hours", with(func(i *timeexpensev1.TimeEntryInput) { i.Hours = "-2" }), codes.InvalidArgument, "INVALID_HOURS"},
		{"more than a day", with(func(i *timeexpensev1.TimeEntryInput) { i.Hours = "24.5" }), codes.InvalidArgument, "INVALID_HOURS"},
		{"not a number", with(func(i *timeexpensev1.TimeEntryInput) { i.Hours = "eight" }), codes.InvalidArgument, "VALIDATION_FAILED"},
		{"impossible date", with(func(i *timeexpensev1.TimeEntryInput) { i.WorkDate = day(2026, 2, 30) }), codes.InvalidArgument, "INVALID_DATE"},
		{"unknown project", with(func(i *timeexpensev1.TimeEntryInput) { i.ProjectId = unknownPrj }), codes.FailedPrecondition, "PROJECT_NOT_FOUND"},
		{"project on hold", with(func(i *timeexpensev1.TimeEntryInput) { i.ProjectId, i.TaskId = heldProj, heldTask }), codes.FailedPrecondition, "PROJECT_INACTIVE"},
		{"task of another project", with(func(i *timeexpensev1.TimeEntryInput) { i.TaskId = rollTask }), codes.FailedPrecondition, "TASK_NOT_IN_PROJECT"},
		{"billable on a non-billable task", with(func(i *timeexpensev1.TimeEntryInput) { i.TaskId = freeTask }), codes.FailedPrecondition, "TASK_NOT_BILLABLE"},
		{"closed period, entity rejects", with(func(i *timeexpensev1.TimeEntryInput) { i.WorkDate = day(2026, 5, 29) }), codes.FailedPrecondition, "PERIOD_CLOSED"},
	} {
		_, err := f.c.RecordTimeEntry(ctx, &timeexpensev1.RecordTimeEntryRequest{Entry: tc.in})
		if err == nil {
			t.Fatalf("%s: accepted", tc.name)
		}
		t.Run(tc.name, func(t *testing.T) { wantErr(t, err, tc.code, tc.reason) })
	}
	_, err := f.c.RecordExpense(ctx, &timeexpensev1.RecordExpenseRequest{Expense: expenseIn(alice, jun, "10.00", "XYZ")})
	wantErr(t, err, codes.InvalidArgument, "UNKNOWN_CURRENCY")
	_, err = f.c.RecordExpense(ctx, &timeexpensev1.RecordExpenseRequest{Expense: expenseIn(alice, jun, "0.00", "USD")})
	wantErr(t, err, codes.InvalidArgument, "INVALID_AMOUNT")
	_, err = f.c.RecordExpense(ctx, &timeexpensev1.RecordExpenseRequest{Expense: expenseIn(alice, jun, "-12.00", "USD")})
	wantErr(t, err, codes.InvalidArgument, "INVALID_AMOUNT")
	for _, table := range []string{"time_entries", "timesheets", "outbox", "audit_log"} {
		if n := f.Count(table); n != 0 {
			t.Fatalf("refused entries wrote %d rows into %s", n, table)
		}
	}

	// Non-billable work on a non-billable task, and a closed period of a roll-forward entity, are fine.
	f.record(t, with(func(i *timeexpensev1.TimeEntryInput) { i.TaskId, i.Billable = freeTask, false }))
	f.record(t, with(func(i *timeexpensev1.TimeEntryInput) {
		i.ProjectId, i.TaskId, i.WorkDate = rollProj, rollTask, day(2026, 5, 29)
	}))

	// 8 + 14 = 22 hours on June 10; 2.5 more would be 24.5.
	f.record(t, with(func(i *timeexpensev1.TimeEntryInput) { i.Hours = "14" }))
	_, err = f.c.RecordTimeEntry(ctx, &timeexpensev1.RecordTimeEntryRequest{Entry: with(func(i *timeexpensev1.TimeEntryInput) { i.Hours = "2.5" })})
	wantErr(t, err, codes.FailedPrecondition, "DAILY_HOURS_EXCEEDED")
	f.record(t, with(func(i *timeexpensev1.TimeEntryInput) { i.Hours = "2" })) // exactly 24
	f.record(t, timeIn(bob, jun, "10"))                                        // another resource's day
	if n := f.Count("time_entries"); n != 5 {
		t.Fatalf("time entries = %d, want 5", n)
	}
}

func TestExternalReferenceIsIdempotent(t *testing.T) {
	f := start(t)
	ctx := f.Ctx(writer)
	in := timeIn(alice, day(2026, 6, 9), "6")
	in.ExternalReference = ref("H-1")
	first := f.record(t, in)
	again := f.record(t, in)
	if again.GetEntryId() != first.GetEntryId() || first.GetExternalReference().GetExternalId() != "H-1" {
		t.Fatalf("same reference and content must return the stored entry: %v vs %v", again, first)
	}
	changed := timeIn(alice, day(2026, 6, 9), "7")
	changed.ExternalReference = ref("H-1")
	_, err := f.c.RecordTimeEntry(ctx, &timeexpensev1.RecordTimeEntryRequest{Entry: changed})
	wantErr(t, err, codes.AlreadyExists, "DUPLICATE_EXTERNAL_ID")
	other := timeIn(bob, day(2026, 6, 9), "6")
	other.ExternalReference = ref("H-1")
	_, err = f.c.RecordTimeEntry(ctx, &timeexpensev1.RecordTimeEntryRequest{Entry: other})
	wantErr(t, err, codes.AlreadyExists, "DUPLICATE_EXTERNAL_ID")
	if n := f.Count("time_entries"); n != 1 {
		t.Fatalf("time entries = %d, want 1", n)
	}
}

func TestScopes(t *testing.T) {
	f := start(t)
	e := f.record(t, timeIn(alice, day(2026, 6, 9), "6"))
	if _, err := f.c.SubmitTimesheet(f.Ctx(writer), &timeexpensev1.SubmitTimesheetRequest{TimesheetId: e.GetTimesheetId()}); err != nil {
		t.Fatal(err)
	}
	_, err := f.c.ApproveTimesheet(f.Ctx(writer), &timeexpensev1.ApproveTimesheetRequest{TimesheetId: e.GetTimesheetId()})
	wantErr(t, err, codes.PermissionDenied, "SCOPE_MISSING")
	_, err = f.c.RejectTimesheet(f.Ctx(writer), &timeexpensev1.RejectTimesheetRequest{TimesheetId: e.GetTimesheetId(), Reason: "no"})
	wantErr(t, err, codes.PermissionDenied, "SCOPE_MISSING")
	_, err = f.c.ImportApprovedEntries(f.Ctx(writer), &timeexpensev1.ImportApprovedEntriesRequest{Items: []*timeexpensev1.ImportItem{
		{Item: &timeexpensev1.ImportItem_Time{Time: timeIn(alice, day(2026, 6, 9), "1")}}}})
	wantErr(t, err, codes.PermissionDenied, "SCOPE_MISSING")
	_, err = f.c.RecordTimeEntry(f.Ctx([]string{"time:read"}), &timeexpensev1.RecordTimeEntryRequest{Entry: timeIn(alice, day(2026, 6, 9), "1")})
	wantErr(t, err, codes.PermissionDenied, "SCOPE_MISSING")
	_, err = f.c.GetTimeEntry(context.Background(), &timeexpensev1.GetTimeEntryRequest{EntryId: e.GetEntryId()})
	wantErr(t, err, codes.Unauthenticated, "TOKEN_MISSING")
	got, err := f.c.GetTimeEntry(f.Ctx([]string{"time:read"}), &timeexpensev1.GetTimeEntryRequest{EntryId: e.GetEntryId()})
	if err != nil || got.GetEntry().GetHours() != "6.00" {
		t.Fatalf("get: %v %v", got, err)
	}
	_, err = f.c.GetTimeEntry(f.Ctx(writer), &timeexpensev1.GetTimeEntryRequest{EntryId: "01a2210c-0000-7000-8000-0000000000ee"})
	wantErr(t, err, codes.NotFound, "TIME_ENTRY_NOT_FOUND")
}

func TestListTimeEntriesPages(t *testing.T) {
	f := start(t)
	ctx := f.Ctx(writer)
	for d := int32(1); d <= 5; d++ {
		f.record(t, timeIn(alice, day(2026, 6, d), "1"))
	}
	f.record(t, timeIn(bob, day(2026, 6, 1), "1"))
	var ids []string
	token := ""
	for page := 0; ; page++ {
		resp, err := f.c.ListTimeEntries(ctx, &timeexpensev1.ListTimeEntriesRequest{ResourceId: alice, PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetTotalCount() != 5 {
			t.Fatalf("total = %d, want 5", resp.GetTotalCount())
		}
		for _, e := range resp.GetEntries() {
			ids = append(ids, e.GetEntryId())
		}
		if token = resp.GetNextPageToken(); token == "" {
			if page != 2 {
				t.Fatalf("pages = %d, want 3", page+1)
			}
			break
		}
	}
	seen := map[string]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	if len(ids) != 5 || len(seen) != 5 {
		t.Fatalf("paging must neither skip nor repeat: %v", ids)
	}
	pending, err := f.c.ListTimeEntries(ctx, &timeexpensev1.ListTimeEntriesRequest{ProjectId: project,
		PostingStatus: timeexpensev1.PostingStatus_POSTING_STATUS_PENDING})
	if err != nil || pending.GetTotalCount() != 0 {
		t.Fatalf("no entry is pending before approval: %v %v", pending, err)
	}
	all, err := f.c.ListTimeEntries(ctx, &timeexpensev1.ListTimeEntriesRequest{ProjectId: project})
	if err != nil || all.GetTotalCount() != 6 || len(all.GetEntries()) != 6 {
		t.Fatalf("by project: %v %v", all, err)
	}
	_, err = f.c.ListTimeEntries(ctx, &timeexpensev1.ListTimeEntriesRequest{PageToken: "garbage"})
	wantErr(t, err, codes.InvalidArgument, "INVALID_PAGE_TOKEN")
}

func TestIdempotencyKeysReplayDecisions(t *testing.T) {
	f := start(t)
	in := timeIn(alice, day(2026, 6, 9), "4")
	ctx := f.Ctx(writer, "idempotency-key", "rec-1")
	a, err := f.c.RecordTimeEntry(ctx, &timeexpensev1.RecordTimeEntryRequest{Entry: in})
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.c.RecordTimeEntry(ctx, &timeexpensev1.RecordTimeEntryRequest{Entry: in})
	if err != nil || b.GetEntry().GetEntryId() != a.GetEntry().GetEntryId() || f.Count("time_entries") != 1 {
		t.Fatalf("a retried record must not add an entry: %v %v (%d rows)", b, err, f.Count("time_entries"))
	}
	sheet := a.GetEntry().GetTimesheetId()
	if _, err := f.c.SubmitTimesheet(f.Ctx(writer), &timeexpensev1.SubmitTimesheetRequest{TimesheetId: sheet}); err != nil {
		t.Fatal(err)
	}
	actx := f.Ctx(approver, "idempotency-key", "approve-1")
	for range 2 {
		resp, err := f.c.ApproveTimesheet(actx, &timeexpensev1.ApproveTimesheetRequest{TimesheetId: sheet})
		if err != nil || resp.GetTimesheet().GetStatus() != timeexpensev1.TimesheetStatus_TIMESHEET_STATUS_APPROVED {
			t.Fatalf("approve (retried): %v %v", resp, err)
		}
	}
	if n := f.Count("outbox"); n != 1 {
		t.Fatalf("a retried approval publishes once: %d events", n)
	}
}
