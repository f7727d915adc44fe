package app_test

import (
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/services/timeexpense/internal/app"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
)

// TestRecordRefusesWithReason records entries that break one rule each: every one is refused
// with its reason and nothing is written (no entry, no timesheet).
func TestRecordRefusesWithReason(t *testing.T) {
	e, ctx := start(t)
	held := te.Project{ID: projectID(99), Status: "ON_HOLD", LegalEntityID: legalEntity, Currency: "USD",
		Tasks: map[string]bool{taskID(99, 1): true}, Version: 1}
	if err := e.uc.ApplyProjects(ctx, []te.Project{held}); err != nil {
		t.Fatal(err)
	}
	day := workDay(5)
	with := func(change func(in *te.Input)) te.Input {
		in := work(1, day, "8")
		change(&in)
		return in
	}
	cases := []struct {
		name string
		in   te.Input
		want *fault.Error
	}{
		{"no hours", work(1, day, "0"), te.ErrInvalidHours},
		{"negative hours", work(1, day, "-1"), te.ErrInvalidHours},
		{"more than a day", work(1, day, "24.25"), te.ErrInvalidHours},
		{"expense of nothing", spend(1, day, "0", "USD"), te.ErrInvalidAmount},
		{"unknown currency", spend(1, day, "10", "ZZZ"), te.ErrUnknownCurrency},
		{"cents of yen", spend(1, day, "10.5", "JPY"), te.ErrAmountPrecision},
		{"unknown project", with(func(in *te.Input) { in.ProjectID = projectID(42) }), te.ErrProjectNotFound},
		{"project on hold", with(func(in *te.Input) { in.ProjectID, in.TaskID = held.ID, taskID(99, 1) }), te.ErrProjectInactive},
		{"task of another project", with(func(in *te.Input) { in.TaskID = taskID(1, 1) }), te.ErrTaskNotInProject},
		{"billable on a non-billable task", with(func(in *te.Input) { in.TaskID = taskID(0, 0) }), te.ErrTaskNotBillable},
	}
	for _, c := range cases {
		_, err := e.uc.Record(ctx, c.in)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want reason %s", c.name, err, c.want.Reason)
		}
	}
	// Non-billable work on the non-billable task is fine.
	in := with(func(in *te.Input) { in.TaskID, in.Billable = taskID(0, 0), false })
	if _, err := e.uc.Record(ctx, in); err != nil {
		t.Fatalf("non-billable work: %v", err)
	}
	e.wantEntries(t, 1)
}

// TestRecordKeepsADayWithin24Hours: a resource's time entries of one day add up to 24 hours at
// most; other days and other resources are not affected, expenses do not count.
func TestRecordKeepsADayWithin24Hours(t *testing.T) {
	e, ctx := start(t)
	day := workDay(3)
	for _, h := range []string{"10", "10", "4"} {
		if _, err := e.uc.Record(ctx, work(1, day, h)); err != nil {
			t.Fatalf("%s hours: %v", h, err)
		}
	}
	if _, err := e.uc.Record(ctx, work(1, day, "0.25")); fault.ReasonOf(err) != "DAILY_HOURS_EXCEEDED" {
		t.Fatalf("the 24.25th hour: got %v, want DAILY_HOURS_EXCEEDED", err)
	}
	if _, err := e.uc.Record(ctx, work(1, day.AddDays(1), "8")); err != nil {
		t.Fatalf("next day: %v", err)
	}
	if _, err := e.uc.Record(ctx, work(2, day, "24")); err != nil {
		t.Fatalf("another resource: %v", err)
	}
	if _, err := e.uc.Record(ctx, spend(1, day, "12.50", "USD")); err != nil {
		t.Fatalf("expense on a full day: %v", err)
	}
}

// TestRecordWithAnExternalReference: the same input twice is one entry; another input under the
// same reference is refused.
func TestRecordWithAnExternalReference(t *testing.T) {
	e, ctx := start(t)
	in := work(1, workDay(2), "7.5")
	in.Ref = &te.ExternalRef{System: "harvest", ObjectType: "TimeEntry", ExternalID: "H-1"}
	first, err := e.uc.Record(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.uc.Record(ctx, in)
	if err != nil || again.ID != first.ID {
		t.Fatalf("same input again: %v %v, want entry %s", again.ID, err, first.ID)
	}
	other := in
	other.Hours = decimal.RequireFromString("6")
	if _, err := e.uc.Record(ctx, other); fault.ReasonOf(err) != "DUPLICATE_EXTERNAL_ID" {
		t.Fatalf("other content: got %v, want DUPLICATE_EXTERNAL_ID", err)
	}
	e.wantEntries(t, 1)
}

// TestRecordRefusesAClosedPeriod: a legal entity that rejects entries in closed periods refuses
// them when they are recorded; reopening the period (a later change) lets them in, an earlier
// change delivered late does not; an entity that rolls them forward accepts them.
func TestRecordRefusesAClosedPeriod(t *testing.T) {
	e, ctx := start(t)
	january := te.PeriodKey{LegalEntityID: legalEntity, Period: "2026-01"}
	at := time.Date(2026, 2, 3, 9, 0, 0, 0, time.UTC)
	ledger := func(c app.LedgerChanges) {
		t.Helper()
		if _, err := e.uc.ApplyLedger(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	ledger(app.LedgerChanges{Periods: []te.Period{{Key: january, Status: te.PeriodClosed, ChangedAt: at}}})

	_, err := e.uc.Record(ctx, work(1, workDay(4), "8")) // 5 January
	if !errors.Is(err, te.ErrPeriodClosed) {
		t.Fatalf("closed January: got %v, want PERIOD_CLOSED", err)
	}
	if fe, _ := fault.As(err); fe.Metadata["period"] != "2026-01" {
		t.Fatalf("metadata: %v", fe.Metadata)
	}
	if _, err := e.uc.Record(ctx, work(1, workDay(31), "8")); err != nil { // 1 February
		t.Fatalf("open February: %v", err)
	}
	// A reopening older than the close changes nothing.
	ledger(app.LedgerChanges{Periods: []te.Period{{Key: january, Status: te.PeriodOpen, ChangedAt: at.Add(-time.Hour)}}})
	if _, err := e.uc.Record(ctx, work(1, workDay(4), "8")); !errors.Is(err, te.ErrPeriodClosed) {
		t.Fatalf("after a stale reopening: got %v, want PERIOD_CLOSED", err)
	}
	// The entity rolls entries of closed periods forward from version 2 on.
	ledger(app.LedgerChanges{LegalEntities: []te.LegalEntity{{ID: legalEntity, Policy: te.PolicyRollForward, Version: 2}}})
	if _, err := e.uc.Record(ctx, work(1, workDay(4), "8")); err != nil {
		t.Fatalf("roll forward: %v", err)
	}
	ledger(app.LedgerChanges{LegalEntities: []te.LegalEntity{{ID: legalEntity, Policy: te.PolicyReject, Version: 3}}})
	if _, err := e.uc.Record(ctx, work(2, workDay(4), "8")); !errors.Is(err, te.ErrPeriodClosed) {
		t.Fatalf("rejecting again: got %v, want PERIOD_CLOSED", err)
	}
	ledger(app.LedgerChanges{Periods: []te.Period{{Key: january, Status: te.PeriodOpen, ChangedAt: at.Add(time.Hour)}}})
	if _, err := e.uc.Record(ctx, work(2, workDay(4), "8")); err != nil {
		t.Fatalf("reopened January: %v", err)
	}
}
