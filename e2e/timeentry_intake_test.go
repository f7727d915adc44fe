package e2e

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	webhooksv1 "github.com/accrue/accrue/gen/go/accrue/webhooks/v1"
)

// Time entries are validated at entry, through RecordTimeEntry (a problem document with the
// reason) and through the batch import (the item REJECTED with the reason), and a refused entry
// writes nothing: no entry, no timesheet, no event. Hours must be in (0, 24]; a resource's day may
// not exceed 24 h; the project must be known and ACTIVE; the task must be one of the project's,
// and billable for billable work; an external reference is bound to its content. Approving needs
// time:approve.
func TestTimeEntriesAreValidatedAtEntryAndRefusalsWriteNothing(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	le := createLegalEntity(t, env, "US01", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT)
	pa := newPostingProject(t, env, le, "valid-a")
	pb := newPostingProject(t, env, le, "valid-b")
	ada := newPostingResource(t, env, le, "Ada Lovelace", "CONSULTANT", consultantCostRate)

	// Project B is put on hold.
	st, _, body := env.Do(http.MethodPost, "/v1/projects/"+pb.projectID+":changeStatus",
		map[string]any{"status": "PROJECT_STATUS_ON_HOLD", "reason": "client paused the work"}, env.Bearer(projectsWrite))
	if st != http.StatusOK {
		t.Fatalf("put project B on hold: %d: %s", st, body)
	}
	harness.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
		if n := env.Count("timeexpense", `SELECT count(*) FROM projects WHERE id = $1 AND status = 'ON_HOLD'`, pb.projectID); n != 1 {
			return fmt.Errorf("the time & expense service does not know project B is on hold yet")
		}
		return nil
	})

	// 20 h already recorded on June 22 (a draft counts in the day's total).
	mustRecordTime(t, env, timeIn(ada, pa.projectID, pa.billable, date(2026, 6, 22), "20", true))
	// An entry holding external reference DUP-1.
	dupIn := withRef(timeIn(ada, pa.projectID, pa.billable, date(2026, 6, 23), "8", true), "DUP-1")
	held := mustRecordTime(t, env, dupIn)

	june24 := date(2026, 6, 24)
	cases := []struct {
		name   string
		in     *timeexpensev1.TimeEntryInput
		status int
		reason string
	}{
		{"zero hours", timeIn(ada, pa.projectID, pa.billable, june24, "0", true), http.StatusBadRequest, "INVALID_HOURS"},
		{"25 hours", timeIn(ada, pa.projectID, pa.billable, june24, "25", true), http.StatusBadRequest, "INVALID_HOURS"},
		{"negative hours", timeIn(ada, pa.projectID, pa.billable, june24, "-2", true), http.StatusBadRequest, "INVALID_HOURS"},
		{"day over 24 h", timeIn(ada, pa.projectID, pa.billable, date(2026, 6, 22), "5", true), http.StatusBadRequest, "DAILY_HOURS_EXCEEDED"},
		{"unknown project", timeIn(ada, "01a2210c-0000-7000-8000-0000000000ee", pa.billable, june24, "4", true), http.StatusBadRequest, "PROJECT_NOT_FOUND"},
		{"project minted a moment ago", timeIn(ada, uuid.Must(uuid.NewV7()).String(), pa.billable, june24, "4", true), http.StatusConflict, "REFERENCE_NOT_YET_KNOWN"},
		{"project on hold", timeIn(ada, pb.projectID, pb.billable, june24, "4", true), http.StatusBadRequest, "PROJECT_INACTIVE"},
		{"task of another project", timeIn(ada, pa.projectID, pb.billable, june24, "4", true), http.StatusBadRequest, "TASK_NOT_IN_PROJECT"},
		{"billable on a non-billable task", timeIn(ada, pa.projectID, pa.nonBillable, june24, "4", true), http.StatusBadRequest, "TASK_NOT_BILLABLE"},
		{"external reference with other content", withRef(timeIn(ada, pa.projectID, pa.billable, date(2026, 6, 23), "7", true), "DUP-1"),
			http.StatusConflict, "DUPLICATE_EXTERNAL_ID"},
	}
	before := countTE(t, env)
	for i, c := range cases {
		st, hdr, body := recordTime(t, env, c.in)
		expectProblem(t, "record: "+c.name, c.status, c.reason, st, hdr, body)

		item := c.in
		if item.GetExternalReference() == nil { // imported items need one
			item = withRef(timeIn(c.in.GetResourceId(), c.in.GetProjectId(), c.in.GetTaskId(), c.in.GetWorkDate(), c.in.GetHours(), c.in.GetBillable()),
				fmt.Sprintf("BAD-%d", i))
		}
		resp := mustImport(t, env, timeItem(item))
		if r := resp.GetResults()[0]; r.GetOutcome() != timeexpensev1.ImportOutcome_IMPORT_OUTCOME_REJECTED || r.GetReason() != c.reason || r.GetEntryId() != "" {
			t.Errorf("import: %s: %v, want REJECTED %s without an entry", c.name, r, c.reason)
		}
		if after := countTE(t, env); after != before {
			t.Fatalf("%s wrote to time & expense: %+v, before %+v", c.name, after, before)
		}
	}

	// The same external reference with the same content is the same entry.
	st, _, body = recordTime(t, env, dupIn)
	var again timeexpensev1.RecordTimeEntryResponse
	decode(t, body, &again)
	if st != http.StatusOK || again.GetEntry().GetEntryId() != held.GetEntryId() {
		t.Errorf("recording DUP-1 again with the same content: %d, entry %s; want 200 and the stored entry %s", st, again.GetEntry().GetEntryId(), held.GetEntryId())
	}
	if r := mustImport(t, env, timeItem(dupIn)).GetResults()[0]; r.GetOutcome() != timeexpensev1.ImportOutcome_IMPORT_OUTCOME_DUPLICATE ||
		r.GetEntryId() != held.GetEntryId() {
		t.Errorf("importing DUP-1 with the same content: %v, want DUPLICATE of %s", r, held.GetEntryId())
	}
	// Within one import, the second 13 h of June 25 would make 26 h: only it is refused.
	resp := mustImport(t, env,
		timeItem(withRef(timeIn(ada, pa.projectID, pa.billable, date(2026, 6, 25), "13", true), "DAY-1")),
		timeItem(withRef(timeIn(ada, pa.projectID, pa.billable, date(2026, 6, 25), "13", true), "DAY-2")))
	if rs := resp.GetResults(); resp.GetAccepted() != 1 || rs[0].GetOutcome() != timeexpensev1.ImportOutcome_IMPORT_OUTCOME_ACCEPTED ||
		rs[1].GetOutcome() != timeexpensev1.ImportOutcome_IMPORT_OUTCOME_REJECTED || rs[1].GetReason() != "DAILY_HOURS_EXCEEDED" {
		t.Errorf("two 13 h items on one day: %v, want the first ACCEPTED and the second REJECTED DAILY_HOURS_EXCEEDED", rs)
	}
	if after := countTE(t, env); after.Entries != before.Entries+1 {
		t.Errorf("%d entries after the day-limit import, want %d (only the first item)", after.Entries, before.Entries+1)
	}

	// Approving needs time:approve: a time:write token is refused and nothing is published.
	submitTimesheet(t, env, held.GetTimesheetId())
	before = countTE(t, env)
	st, hdr, body := env.Do(http.MethodPost, "/v1/timesheets/"+held.GetTimesheetId()+":approve", map[string]any{}, env.Bearer(timeWrite))
	expectProblem(t, "approve with a time:write token", http.StatusForbidden, "SCOPE_MISSING", st, hdr, body)
	if after := countTE(t, env); after != before {
		t.Errorf("the refused approval wrote to time & expense: %+v, before %+v", after, before)
	}
	st, _, body = env.Do(http.MethodGet, "/v1/timesheets/"+held.GetTimesheetId(), nil, env.Bearer(timeRead))
	var ts timeexpensev1.GetTimesheetResponse
	decode(t, body, &ts)
	if st != http.StatusOK || ts.GetTimesheet().GetStatus() != timeexpensev1.TimesheetStatus_TIMESHEET_STATUS_SUBMITTED {
		t.Errorf("timesheet after the refused approval: %d %s, want SUBMITTED", st, ts.GetTimesheet().GetStatus())
	}
	// Only the one accepted import was published, and posted.
	waitPostingStatus(t, env, stPosted, resp.GetResults()[0].GetEntryId())
	waitConsumed(t, env)
	if n := env.Count("billing", `SELECT count(*) FROM journal_entries`); n != 1 {
		t.Errorf("%d journal entries, want 1 (the one imported entry)", n)
	}
}

// A T&E tool's webhook of approved entries (POST /webhooks/timeexpense/{source}/approved-entries,
// signed) is imported item by item: 200 with per-item results — two time entries and an expense
// accepted, a billable entry on a non-billable task REJECTED (TASK_NOT_BILLABLE) — and the
// accepted items are posted: WIP 4 × 50.00 + 2.5 × 50.00 + 80.00 × 1.10 = 413.00, labor and
// expense cost 6.5 × 20.00 + 80.00 = 210.00. Their references take the source as system. The
// same delivery again is refused as a replay (409 REPLAYED_EVENT) and writes nothing; the same
// items under a new event id are DUPLICATE.
func TestTimeExpenseWebhookImportsApprovedEntriesOnce(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	le := createLegalEntity(t, env, "US01", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT)
	fx := newPostingProject(t, env, le, "hook")
	ada := newPostingResource(t, env, le, "Ada Lovelace", "CONSULTANT", consultantCostRate)

	ref := func(id string) *commonv1.ExternalReference {
		return &commonv1.ExternalReference{ObjectType: "TimeEntry", ExternalId: id} // system: the webhook source
	}
	t1 := timeIn(ada, fx.projectID, fx.billable, date(2026, 6, 29), "4", true)
	t1.ExternalReference = ref("WH-1")
	t2 := timeIn(ada, fx.projectID, fx.billable, date(2026, 6, 30), "2.5", true)
	t2.ExternalReference = ref("WH-2")
	ex := expenseIn(ada, fx.projectID, fx.billable, date(2026, 6, 30), "80.00", true)
	ex.ExternalReference = &commonv1.ExternalReference{ObjectType: "Expense", ExternalId: "WH-3"}
	bad := timeIn(ada, fx.projectID, fx.nonBillable, date(2026, 6, 30), "1", true)
	bad.ExternalReference = ref("WH-4")
	ev := &webhooksv1.TimeEntriesApprovedEvent{EventId: "evt-" + env.ID(),
		Items: []*timeexpensev1.ImportItem{timeItem(t1), timeItem(t2), expenseItem(ex), timeItem(bad)}}
	raw, err := protojson.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	const path = "/webhooks/timeexpense/workday/approved-entries"
	st, _, body := env.PostWebhook(path, "workday", raw)
	if st != http.StatusOK {
		t.Fatalf("webhook: %d, want 200: %s", st, body)
	}
	var resp timeexpensev1.ImportApprovedEntriesResponse
	decode(t, body, &resp)
	checkImportResults(t, &resp, 4)
	rs := resp.GetResults()
	for i, want := range []string{"WH-1", "WH-2", "WH-3"} {
		if rs[i].GetOutcome() != timeexpensev1.ImportOutcome_IMPORT_OUTCOME_ACCEPTED || rs[i].GetExternalId() != want {
			t.Errorf("webhook item %d: %v, want %s ACCEPTED", i, rs[i], want)
		}
	}
	if rs[3].GetOutcome() != timeexpensev1.ImportOutcome_IMPORT_OUTCOME_REJECTED || rs[3].GetReason() != "TASK_NOT_BILLABLE" {
		t.Errorf("webhook item 3: %v, want REJECTED TASK_NOT_BILLABLE", rs[3])
	}
	if resp.GetAccepted() != 3 || resp.GetRejected() != 1 {
		t.Errorf("webhook: %d accepted, %d rejected; want 3 and 1", resp.GetAccepted(), resp.GetRejected())
	}
	ids := []string{rs[0].GetEntryId(), rs[1].GetEntryId(), rs[2].GetEntryId()}
	for id, e := range waitPostingStatus(t, env, stPosted, ids...) {
		if r := e.GetExternalReference(); r.GetSystem() != "workday" || e.GetTimesheetId() != "" {
			t.Errorf("webhook entry %s: reference %v on timesheet %q; want system workday and no timesheet (imported approved)", id, r, e.GetTimesheetId())
		}
	}
	if got, want := lineTotals(t, listJournal(t, env, byProject(fx.projectID))...),
		map[string]string{"5000": "130.00", "2150": "-130.00", "5100": "80.00", "2100": "-80.00", "1200": "413.00", "4000": "-325.00", "4100": "-88.00"}; !sameMap(got, want) {
		t.Errorf("ledger of the webhook's entries %v, want %v", got, want)
	}

	// The same delivery again: a replay.
	before := countTE(t, env)
	st, hdr, body := env.PostWebhook(path, "workday", raw)
	expectProblem(t, "replayed webhook", http.StatusConflict, "REPLAYED_EVENT", st, hdr, body)
	if after := countTE(t, env); after != before {
		t.Errorf("the replay wrote to time & expense: %+v, before %+v", after, before)
	}
	// The same items under a new event id: nothing new.
	ev.EventId = "evt-2-" + env.ID()
	raw2, err := protojson.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	st, _, body = env.PostWebhook(path, "workday", raw2)
	var resp2 timeexpensev1.ImportApprovedEntriesResponse
	decode(t, body, &resp2)
	if st != http.StatusOK || resp2.GetDuplicates() != 3 || resp2.GetAccepted() != 0 || resp2.GetRejected() != 1 {
		t.Errorf("the same items under a new event id: %d, %d accepted, %d duplicates, %d rejected; want 200 with 3 duplicates and the 1 rejection",
			st, resp2.GetAccepted(), resp2.GetDuplicates(), resp2.GetRejected())
	}
	if after := countTE(t, env); after != before {
		t.Errorf("the redelivery under a new event id wrote to time & expense: %+v, before %+v", after, before)
	}
	if n := env.Count("billing", `SELECT count(*) FROM journal_entries`); n != 3 {
		t.Errorf("%d journal entries, want 3", n)
	}
}
