package e2e

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/accrue/accrue/e2e/internal/harness"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
)

// Helpers of the time & expense API: entries, timesheets, imports and posting statuses.

// timeIn is a time entry input.
func timeIn(resourceID, projectID, taskID string, d *commonv1.Date, hours string, billable bool) *timeexpensev1.TimeEntryInput {
	return &timeexpensev1.TimeEntryInput{ResourceId: resourceID, ProjectId: projectID, TaskId: taskID, WorkDate: d, Hours: hours,
		Billable: billable, Description: "e2e work"}
}

// withRef gives a time entry input the T&E tool's reference ("tetool"/TimeEntry/extID).
func withRef(in *timeexpensev1.TimeEntryInput, extID string) *timeexpensev1.TimeEntryInput {
	in.ExternalReference = &commonv1.ExternalReference{System: "tetool", ObjectType: "TimeEntry", ExternalId: extID}
	return in
}

// expenseIn is an expense input in USD.
func expenseIn(resourceID, projectID, taskID string, d *commonv1.Date, amount string, billable bool) *timeexpensev1.ExpenseInput {
	return &timeexpensev1.ExpenseInput{ResourceId: resourceID, ProjectId: projectID, TaskId: taskID, ExpenseDate: d, Category: "TRAVEL",
		Amount: usd(amount), Billable: billable, Description: "e2e expense", ReceiptReference: "RCPT-1"}
}

func timeItem(in *timeexpensev1.TimeEntryInput) *timeexpensev1.ImportItem {
	return &timeexpensev1.ImportItem{Item: &timeexpensev1.ImportItem_Time{Time: in}}
}

func expenseItem(in *timeexpensev1.ExpenseInput) *timeexpensev1.ImportItem {
	return &timeexpensev1.ImportItem{Item: &timeexpensev1.ImportItem_Expense{Expense: in}}
}

// recordTime posts a time entry (POST /v1/time-entries) and returns the raw answer.
func recordTime(t testing.TB, env *harness.Env, in *timeexpensev1.TimeEntryInput) (int, http.Header, []byte) {
	t.Helper()
	return env.Do(http.MethodPost, "/v1/time-entries", restJSON(t, in), env.Bearer(timeWrite))
}

// mustRecordTime records a time entry and expects a DRAFT entry awaiting approval.
func mustRecordTime(t testing.TB, env *harness.Env, in *timeexpensev1.TimeEntryInput) *timeexpensev1.TimeEntry {
	t.Helper()
	st, _, body := recordTime(t, env, in)
	if st != http.StatusCreated {
		t.Fatalf("POST /v1/time-entries (%s h on %v): %d, want 201: %s", in.GetHours(), in.GetWorkDate(), st, body)
	}
	var resp timeexpensev1.RecordTimeEntryResponse
	decode(t, body, &resp)
	e := resp.GetEntry()
	if e.GetApprovalStatus() != timeexpensev1.TimesheetStatus_TIMESHEET_STATUS_DRAFT ||
		e.GetPostingStatus() != timeexpensev1.PostingStatus_POSTING_STATUS_NOT_APPROVED || e.GetTimesheetId() == "" ||
		e.GetKind() != timeexpensev1.EntryKind_ENTRY_KIND_TIME || !sameDecimal(e.GetHours(), in.GetHours()) {
		t.Fatalf("recorded entry %v, want a DRAFT time entry of %s h on a timesheet, not approved", e, in.GetHours())
	}
	return e
}

// mustRecordExpense records an expense and expects a DRAFT item awaiting approval.
func mustRecordExpense(t testing.TB, env *harness.Env, in *timeexpensev1.ExpenseInput) *timeexpensev1.TimeEntry {
	t.Helper()
	st, _, body := env.Do(http.MethodPost, "/v1/expenses", restJSON(t, in), env.Bearer(timeWrite))
	if st != http.StatusCreated {
		t.Fatalf("POST /v1/expenses: %d, want 201: %s", st, body)
	}
	var resp timeexpensev1.RecordExpenseResponse
	decode(t, body, &resp)
	e := resp.GetEntry()
	if e.GetKind() != timeexpensev1.EntryKind_ENTRY_KIND_EXPENSE || !moneyIs(e.GetAmount(), in.GetAmount().GetAmount()) ||
		e.GetPostingStatus() != timeexpensev1.PostingStatus_POSTING_STATUS_NOT_APPROVED || e.GetTimesheetId() == "" {
		t.Fatalf("recorded expense %v, want a DRAFT expense of %s on a timesheet", e, in.GetAmount().GetAmount())
	}
	return e
}

// submitTimesheet submits a timesheet (time:write) and expects it SUBMITTED.
func submitTimesheet(t testing.TB, env *harness.Env, id string) *timeexpensev1.Timesheet {
	t.Helper()
	st, _, body := env.Do(http.MethodPost, "/v1/timesheets/"+id+":submit", map[string]any{}, env.Bearer(timeWrite))
	if st != http.StatusOK {
		t.Fatalf("submit timesheet %s: %d, want 200: %s", id, st, body)
	}
	var resp timeexpensev1.SubmitTimesheetResponse
	decode(t, body, &resp)
	if resp.GetTimesheet().GetStatus() != timeexpensev1.TimesheetStatus_TIMESHEET_STATUS_SUBMITTED {
		t.Fatalf("submitted timesheet %s is %s", id, resp.GetTimesheet().GetStatus())
	}
	return resp.GetTimesheet()
}

// approveTimesheet approves a submitted timesheet (time:approve) and expects it APPROVED by the
// caller, its entries approved and pending posting.
func approveTimesheet(t testing.TB, env *harness.Env, id string) *timeexpensev1.Timesheet {
	t.Helper()
	st, _, body := env.Do(http.MethodPost, "/v1/timesheets/"+id+":approve", map[string]any{}, env.Bearer(timeApprove))
	if st != http.StatusOK {
		t.Fatalf("approve timesheet %s: %d, want 200: %s", id, st, body)
	}
	var resp timeexpensev1.ApproveTimesheetResponse
	decode(t, body, &resp)
	ts := resp.GetTimesheet()
	if ts.GetStatus() != timeexpensev1.TimesheetStatus_TIMESHEET_STATUS_APPROVED || ts.GetDecidedBy() != "e2e" || len(ts.GetEntries()) == 0 {
		t.Fatalf("approved timesheet %s: %v, want APPROVED by e2e with its entries", id, ts)
	}
	for _, e := range ts.GetEntries() {
		if e.GetApprovalStatus() != timeexpensev1.TimesheetStatus_TIMESHEET_STATUS_APPROVED || e.GetPostingStatus() != stPending {
			t.Errorf("entry %s of the approved timesheet: %s, %s; want APPROVED and PENDING posting", e.GetEntryId(), e.GetApprovalStatus(), e.GetPostingStatus())
		}
	}
	return ts
}

// importItems posts items to POST /v1/time-entries:importApproved with a time:approve token.
func importItems(t testing.TB, env *harness.Env, items ...*timeexpensev1.ImportItem) (int, http.Header, []byte) {
	t.Helper()
	return env.Do(http.MethodPost, "/v1/time-entries:importApproved", restJSON(t, &timeexpensev1.ImportApprovedEntriesRequest{Items: items}),
		env.Bearer(timeApprove))
}

// mustImport imports items and expects 200 with one result per item, in order, and counts that
// add up.
func mustImport(t testing.TB, env *harness.Env, items ...*timeexpensev1.ImportItem) *timeexpensev1.ImportApprovedEntriesResponse {
	t.Helper()
	st, _, body := importItems(t, env, items...)
	if st != http.StatusOK {
		t.Fatalf("import of %d items: %d, want 200: %s", len(items), st, body)
	}
	var resp timeexpensev1.ImportApprovedEntriesResponse
	decode(t, body, &resp)
	checkImportResults(t, &resp, len(items))
	return &resp
}

func checkImportResults(t testing.TB, resp *timeexpensev1.ImportApprovedEntriesResponse, n int) {
	t.Helper()
	if len(resp.GetResults()) != n || int(resp.GetAccepted()+resp.GetDuplicates()+resp.GetRejected()) != n {
		t.Fatalf("import of %d items answered %d results (%d accepted, %d duplicates, %d rejected)", n, len(resp.GetResults()),
			resp.GetAccepted(), resp.GetDuplicates(), resp.GetRejected())
	}
	for i, r := range resp.GetResults() {
		if int(r.GetIndex()) != i {
			t.Errorf("result %d has index %d", i, r.GetIndex())
		}
		if r.GetOutcome() != timeexpensev1.ImportOutcome_IMPORT_OUTCOME_REJECTED && r.GetEntryId() == "" {
			t.Errorf("result %d (%s) names no entry", i, r.GetOutcome())
		}
	}
}

// getTimeEntry reads an entry through GET /v1/time-entries/{id}.
func getTimeEntry(t testing.TB, env *harness.Env, id string) *timeexpensev1.TimeEntry {
	t.Helper()
	st, _, body := env.Do(http.MethodGet, "/v1/time-entries/"+id, nil, env.Bearer(timeRead))
	if st != http.StatusOK {
		t.Fatalf("GET /v1/time-entries/%s: %d: %s", id, st, body)
	}
	var resp timeexpensev1.GetTimeEntryResponse
	decode(t, body, &resp)
	return resp.GetEntry()
}

// waitPostingStatus polls GET /v1/time-entries/{id} until every entry shows want, and returns
// the entries.
func waitPostingStatus(t testing.TB, env *harness.Env, want timeexpensev1.PostingStatus, ids ...string) map[string]*timeexpensev1.TimeEntry {
	t.Helper()
	out := map[string]*timeexpensev1.TimeEntry{}
	took := harness.Eventually(t, 20*time.Second, 50*time.Millisecond, func() error {
		for _, id := range ids {
			if e, ok := out[id]; ok && e.GetPostingStatus() == want {
				continue
			}
			e := getTimeEntry(t, env, id)
			out[id] = e
			if e.GetPostingStatus() != want {
				return fmt.Errorf("entry %s (%s h, %v) is %s %q, want %s", id, e.GetHours(), e.GetAmount(), e.GetPostingStatus(), e.GetPostingReason(), want)
			}
		}
		return nil
	})
	t.Logf("%d entries %s after %s", len(ids), want, took.Round(time.Millisecond))
	return out
}

// teCounts counts what entry intake writes in the time & expense database: entries, timesheets,
// outbox events.
type teCounts struct{ Entries, Timesheets, Events int }

func countTE(t testing.TB, env *harness.Env) teCounts {
	t.Helper()
	return teCounts{
		Entries:    env.Count("timeexpense", `SELECT count(*) FROM time_entries`),
		Timesheets: env.Count("timeexpense", `SELECT count(*) FROM timesheets`),
		Events:     env.Count("timeexpense", `SELECT count(*) FROM outbox`),
	}
}
