package app_test

import (
	"context"
	"testing"

	"github.com/shopspring/decimal"

	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/fault"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
)

// approved records in on its resource's timesheet, submits and approves it, and returns the
// approved entry.
func approved(t *testing.T, e env, in te.Input) te.Entry {
	t.Helper()
	ctx := context.Background()
	rec, err := e.uc.Record(ctx, in)
	if err != nil {
		t.Fatalf("record: %v", err)
	}
	if _, err := e.uc.Submit(ctx, rec.TimesheetID); err != nil {
		t.Fatalf("submit: %v", err)
	}
	sheet, err := e.uc.Approve(ctx, rec.TimesheetID)
	if err != nil {
		t.Fatalf("approve: %v", err)
	}
	for _, en := range sheet.Entries {
		if en.ID == rec.ID {
			return en
		}
	}
	t.Fatalf("entry %s is not on its timesheet", rec.ID)
	return te.Entry{}
}

// TestCorrectionIsAReversalAndANewEntry corrects 8 approved hours to 10: a reversal of -8 hours
// and an approved replacement of 10 are stored and published, the original keeps its 8 hours and
// points to its replacement, and only the replacement counts in the day's total.
func TestCorrectionIsAReversalAndANewEntry(t *testing.T) {
	e, ctx := start(t)
	day := workDay(6)
	orig := approved(t, e, work(1, day, "8"))

	c, err := e.uc.Correct(ctx, orig.ID, work(1, day, "10"), "typo in the hours")
	if err != nil {
		t.Fatalf("correct: %v", err)
	}
	rev, rep := c.Reversal, c.Replacement
	if rev.ReversesID != orig.ID || !rev.Hours.Equal(decimal.NewFromInt(-8)) || rev.Approval != te.Approved || rev.Posting != te.PostingPending {
		t.Errorf("reversal: %+v", rev)
	}
	if !rep.Hours.Equal(decimal.NewFromInt(10)) || rep.Approval != te.Approved || rep.Posting != te.PostingPending ||
		rep.TimesheetID != orig.TimesheetID || rep.ReversesID != "" {
		t.Errorf("replacement: %+v", rep)
	}
	stored, err := e.uc.Entry(ctx, orig.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !stored.Hours.Equal(decimal.NewFromInt(8)) || stored.ReplacedByID != rep.ID || stored.Version != orig.Version+1 {
		t.Errorf("original after correction: hours %s, replaced by %q, version %d (was %d)", stored.Hours, stored.ReplacedByID,
			stored.Version, orig.Version)
	}
	e.wantEntries(t, 3) // original, reversal, replacement
	reversed := published(t, e, timeexpensev1.EventTypeTimeEntriesReversed, func() *timeexpensev1.EntriesReversed { return &timeexpensev1.EntriesReversed{} })
	if len(reversed) != 1 || len(reversed[0].GetEntries()) != 1 || reversed[0].GetEntries()[0].GetHours() != "-8.00" {
		t.Errorf("reversed events: %v", reversed)
	}
	approvals := published(t, e, timeexpensev1.EventTypeTimeEntriesApproved, func() *timeexpensev1.EntriesApproved { return &timeexpensev1.EntriesApproved{} })
	if len(approvals) != 2 || approvals[1].GetEntries()[0].GetEntryId() != rep.ID {
		t.Errorf("approved events: %v, want the timesheet's then the replacement", approvals)
	}
	if n := e.count(t, `SELECT count(*) FROM audit_log WHERE action = 'time_entry.corrected' AND entity_id = $1 AND reason = $2`,
		orig.ID, "typo in the hours"); n != 1 {
		t.Errorf("correction audit records = %d, want 1", n)
	}

	// 10 hours count that day, not 8 + 10: an import of 14 more fits, 14.25 does not.
	items := month("DAY", 2, 0)
	for i, h := range []string{"14.25", "14"} {
		items[i].Input = work(1, day, h)
		items[i].Input.Ref = &te.ExternalRef{System: "harvest", ObjectType: "TimeEntry", ExternalID: h}
	}
	sum, err := e.uc.Import(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Results[0].Reason != "DAILY_HOURS_EXCEEDED" || sum.Results[1].Outcome != te.ImportAccepted {
		t.Errorf("import on the corrected day: %+v", sum.Results)
	}
}

// TestCorrectionRefusals: only an approved entry, not yet corrected and not itself a reversal,
// can be corrected, and the replacement meets the rules of a new entry; a refusal writes nothing.
func TestCorrectionRefusals(t *testing.T) {
	e, ctx := start(t)
	day := workDay(8)
	orig := approved(t, e, work(1, day, "8"))
	draft, err := e.uc.Record(ctx, work(2, day, "8"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.uc.Correct(ctx, orig.ID, work(1, day, "6"), "fewer hours")
	if err != nil {
		t.Fatal(err)
	}
	entries := e.count(t, `SELECT count(*) FROM time_entries`)
	unknownTask := work(1, day, "6")
	unknownTask.TaskID = taskID(3, 1)
	cases := []struct {
		name, id string
		in       te.Input
		reason   string
	}{
		{"unknown entry", "01a2210c-0000-7000-8009-000000000000", work(1, day, "6"), "TIME_ENTRY_NOT_FOUND"},
		{"draft entry", draft.ID, work(2, day, "6"), "ENTRY_NOT_APPROVED"},
		{"already corrected", orig.ID, work(1, day, "5"), "ENTRY_ALREADY_CORRECTED"},
		{"a reversal", c.Reversal.ID, work(1, day, "5"), "ENTRY_NOT_CORRECTABLE"},
		{"too many hours", c.Replacement.ID, work(1, day, "25"), "INVALID_HOURS"},
		{"task of another project", c.Replacement.ID, unknownTask, "TASK_NOT_IN_PROJECT"},
	}
	for _, tc := range cases {
		if _, err := e.uc.Correct(ctx, tc.id, tc.in, "because"); fault.ReasonOf(err) != tc.reason {
			t.Errorf("%s: got %v, want %s", tc.name, err, tc.reason)
		}
	}
	e.wantEntries(t, entries)
	// The replacement itself can be corrected.
	if _, err := e.uc.Correct(ctx, c.Replacement.ID, work(1, day, "7"), "again"); err != nil {
		t.Errorf("correcting the replacement: %v", err)
	}
}

// TestCorrectingAnExpenseMovesItKeepingItsAmount: an expense's correction changes where it is
// booked (here its date), never its amount; the reversal negates the amount.
func TestCorrectingAnExpenseMovesItKeepingItsAmount(t *testing.T) {
	e, ctx := start(t)
	in := spend(1, workDay(9), "120.40", "USD")
	in.Receipt = "R-7"
	orig := approved(t, e, in)

	moved := work(1, workDay(10), "3") // hours of a corrected expense are ignored
	c, err := e.uc.Correct(ctx, orig.ID, moved, "wrong day")
	if err != nil {
		t.Fatal(err)
	}
	if c.Replacement.Kind != te.Expense || !c.Replacement.Amount.Value.Equal(in.Amount.Value) || c.Replacement.Amount.Currency != "USD" || c.Replacement.Date != workDay(10) ||
		!c.Replacement.Hours.IsZero() || c.Replacement.Receipt != "R-7" {
		t.Errorf("replacement: %+v", c.Replacement)
	}
	if !c.Reversal.Amount.Value.Equal(decimal.RequireFromString("-120.40")) || c.Reversal.Date != workDay(9) {
		t.Errorf("reversal: %+v", c.Reversal)
	}
}
