package grpcapi_test

import (
	"fmt"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"

	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
)

func timeItem(in *timeexpensev1.TimeEntryInput) *timeexpensev1.ImportItem {
	return &timeexpensev1.ImportItem{Item: &timeexpensev1.ImportItem_Time{Time: in}}
}

func expenseItem(in *timeexpensev1.ExpenseInput) *timeexpensev1.ImportItem {
	return &timeexpensev1.ImportItem{Item: &timeexpensev1.ImportItem_Expense{Expense: in}}
}

// importable returns a valid approved item: resource r works 1 hour on day d of 2026 (d from 0).
func importable(id string, r, d int) *timeexpensev1.ImportItem {
	in := timeIn(fmt.Sprintf("01a2210c-0000-7000-8000-%012d", 1000+r), day(2026, 7+int32(d/28), 1+int32(d%28)), "1")
	in.ExternalReference = ref(id)
	return timeItem(in)
}

func TestImportCountsEveryOutcome(t *testing.T) {
	f := start(t)
	ctx := f.Ctx(approver)

	// An earlier import holds X-0 .. X-9.
	var earlier []*timeexpensev1.ImportItem
	for i := range 10 {
		earlier = append(earlier, importable(fmt.Sprintf("X-%d", i), i, 0))
	}
	first, err := f.c.ImportApprovedEntries(ctx, &timeexpensev1.ImportApprovedEntriesRequest{Items: earlier})
	if err != nil || first.GetAccepted() != 10 {
		t.Fatalf("first import: %v %v", first, err)
	}

	var items []*timeexpensev1.ImportItem
	const fresh = 2345
	for i := range fresh { // 50 resources × 47 days, one hour each
		items = append(items, importable(fmt.Sprintf("N-%d", i), i%50, 1+i/50))
	}
	for i := range 10 { // already imported, same content
		items = append(items, importable(fmt.Sprintf("X-%d", i), i, 0))
	}
	for i := range 100 { // repeated within the call, same content
		items = append(items, importable(fmt.Sprintf("N-%d", i), i%50, 1+i/50))
	}
	changed := importable("N-7", 7, 30) // repeated within the call, different content
	items = append(items, changed)
	stale := importable("X-3", 3, 40) // already imported, different content
	items = append(items, stale)
	noRef := timeIn(alice, day(2026, 6, 9), "1")
	items = append(items, timeItem(noRef))
	closed := timeIn(alice, day(2026, 5, 12), "1")
	closed.ExternalReference = ref("C-1")
	items = append(items, timeItem(closed))
	inactive := timeIn(alice, day(2026, 6, 9), "1")
	inactive.ProjectId, inactive.TaskId, inactive.ExternalReference = heldProj, heldTask, ref("C-2")
	items = append(items, timeItem(inactive))
	tooLong := importable("C-3", 0, 1) // resource 0 already has 1 hour on day 1
	tooLong.GetTime().Hours = "23.5"
	items = append(items, tooLong)
	badHours := importable("C-4", 0, 2)
	badHours.GetTime().Hours = "0"
	items = append(items, badHours)
	exp := expenseIn(bob, day(2026, 6, 9), "45.00", "EUR")
	exp.ExternalReference = ref("E-1")
	items = append(items, expenseItem(exp))
	badCurrency := expenseIn(bob, day(2026, 6, 9), "45.00", "ABC")
	badCurrency.ExternalReference = ref("E-2")
	items = append(items, expenseItem(badCurrency))

	resp, err := f.c.ImportApprovedEntries(ctx, &timeexpensev1.ImportApprovedEntriesRequest{Items: items})
	if err != nil {
		t.Fatal(err)
	}
	wantAccepted := fresh + 1 // + the expense
	if resp.GetAccepted() != int32(wantAccepted) || resp.GetDuplicates() != 110 || resp.GetRejected() != 8 {
		t.Fatalf("accepted/duplicates/rejected = %d/%d/%d, want %d/110/8", resp.GetAccepted(), resp.GetDuplicates(), resp.GetRejected(), wantAccepted)
	}
	if len(resp.GetResults()) != len(items) {
		t.Fatalf("results = %d, want %d", len(resp.GetResults()), len(items))
	}
	for i, r := range resp.GetResults() {
		if int(r.GetIndex()) != i {
			t.Fatalf("result %d has index %d: results must follow the request", i, r.GetIndex())
		}
	}
	reasons := map[string]string{}
	for _, r := range resp.GetResults()[fresh+110:] {
		if r.GetOutcome() == timeexpensev1.ImportOutcome_IMPORT_OUTCOME_REJECTED {
			reasons[r.GetExternalId()] = r.GetReason()
			if r.GetEntryId() != "" {
				t.Fatalf("a rejected item has no entry: %v", r)
			}
		}
	}
	want := map[string]string{"N-7": "DUPLICATE_EXTERNAL_ID", "X-3": "DUPLICATE_EXTERNAL_ID", "": "EXTERNAL_REFERENCE_REQUIRED",
		"C-1": "PERIOD_CLOSED", "C-2": "PROJECT_INACTIVE", "C-3": "DAILY_HOURS_EXCEEDED", "C-4": "INVALID_HOURS", "E-2": "UNKNOWN_CURRENCY"}
	for id, reason := range want {
		if reasons[id] != reason {
			t.Errorf("%q: reason %q, want %q", id, reasons[id], reason)
		}
	}
	// A duplicate within the call points at the entry accepted first.
	if dup, orig := resp.GetResults()[fresh+10], resp.GetResults()[0]; dup.GetOutcome() != timeexpensev1.ImportOutcome_IMPORT_OUTCOME_DUPLICATE ||
		dup.GetEntryId() != orig.GetEntryId() || orig.GetEntryId() == "" {
		t.Fatalf("in-call duplicate: %v vs %v", dup, orig)
	}
	if dup := resp.GetResults()[fresh]; dup.GetEntryId() != first.GetResults()[0].GetEntryId() {
		t.Fatalf("a duplicate of an earlier import points at its entry: %v", dup)
	}

	if n := f.Count("time_entries"); n != 10+wantAccepted {
		t.Fatalf("time entries = %d, want %d", n, 10+wantAccepted)
	}
	if n := f.Count("time_entries WHERE approval_status = 'APPROVED' AND posting_status = 'PENDING' AND version = 1 AND timesheet_id IS NULL"); n != 10+wantAccepted {
		t.Fatalf("imported entries must be APPROVED, PENDING, version 1, without timesheet: %d", n)
	}
	evs := approvedEvents(t, f)
	if len(evs) != 1+3 { // the first import, then ceil(2346/1000)
		t.Fatalf("events = %d, want 4", len(evs))
	}
	total := 0
	for _, ev := range evs[1:] {
		if len(ev.GetEntries()) > 1000 {
			t.Fatalf("an event carries %d entries", len(ev.GetEntries()))
		}
		total += len(ev.GetEntries())
	}
	if total != wantAccepted {
		t.Fatalf("events carry %d entries, want %d", total, wantAccepted)
	}

	// The same file again: every valid item is a duplicate, nothing is written or published.
	again, err := f.c.ImportApprovedEntries(ctx, &timeexpensev1.ImportApprovedEntriesRequest{Items: items[:fresh]})
	if err != nil || again.GetAccepted() != 0 || again.GetDuplicates() != fresh {
		t.Fatalf("re-import: accepted %d duplicates %d (%v)", again.GetAccepted(), again.GetDuplicates(), err)
	}
	if n := f.Count("outbox"); n != 4 {
		t.Fatalf("a re-import publishes nothing: %d events", n)
	}
}

func TestImportOfOnlyRefusedItemsWritesNothing(t *testing.T) {
	f := start(t)
	bad := timeIn(alice, day(2026, 6, 9), "1")
	bad.ProjectId, bad.ExternalReference = unknownPrj, ref("U-1")
	resp, err := f.c.ImportApprovedEntries(f.Ctx(approver), &timeexpensev1.ImportApprovedEntriesRequest{Items: []*timeexpensev1.ImportItem{
		timeItem(bad), timeItem(timeIn(alice, day(2026, 6, 9), "1"))}})
	if err != nil || resp.GetRejected() != 2 || resp.GetResults()[0].GetReason() != "PROJECT_NOT_FOUND" {
		t.Fatalf("import: %v %v", resp, err)
	}
	for _, table := range []string{"time_entries", "outbox", "audit_log"} {
		if n := f.Count(table); n != 0 {
			t.Fatalf("%s rows = %d, want 0", table, n)
		}
	}
	_, err = f.c.ImportApprovedEntries(f.Ctx(approver), &timeexpensev1.ImportApprovedEntriesRequest{})
	wantErr(t, err, codes.InvalidArgument, "VALIDATION_FAILED")
}

func TestConcurrentImportsOfOneReferenceInsertItOnce(t *testing.T) {
	f := start(t)
	ctx := f.Ctx(approver)
	var items []*timeexpensev1.ImportItem
	for i := range 300 {
		items = append(items, importable(fmt.Sprintf("R-%d", i), i%30, i/30))
	}
	const callers = 4
	resps := make([]*timeexpensev1.ImportApprovedEntriesResponse, callers)
	var wg sync.WaitGroup
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each caller sends the file in its own order, so the races interleave.
			mine := append([]*timeexpensev1.ImportItem{}, items[c*50:]...)
			mine = append(mine, items[:c*50]...)
			resp, err := f.c.ImportApprovedEntries(ctx, &timeexpensev1.ImportApprovedEntriesRequest{Items: mine})
			if err != nil {
				t.Errorf("caller %d: %v", c, err)
				return
			}
			resps[c] = resp
		}()
	}
	wg.Wait()
	accepted := 0
	for c, r := range resps {
		if r == nil {
			t.FailNow()
		}
		if r.GetAccepted()+r.GetDuplicates() != 300 || r.GetRejected() != 0 {
			t.Fatalf("caller %d: %d/%d/%d", c, r.GetAccepted(), r.GetDuplicates(), r.GetRejected())
		}
		accepted += int(r.GetAccepted())
	}
	if accepted != 300 || f.Count("time_entries") != 300 {
		t.Fatalf("accepted %d in all, %d rows; want each reference inserted once", accepted, f.Count("time_entries"))
	}
}
