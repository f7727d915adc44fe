package timeexpense_test

import (
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
)

const (
	res     = "01a2210c-0000-7000-8000-00000000000a"
	proj    = "01a2210c-0000-7000-8000-0000000000b1"
	onHold  = "01a2210c-0000-7000-8000-0000000000b2"
	rfProj  = "01a2210c-0000-7000-8000-0000000000b3"
	billT   = "01a2210c-0000-7000-8000-0000000000c1"
	nonBill = "01a2210c-0000-7000-8000-0000000000c2"
	rfTask  = "01a2210c-0000-7000-8000-0000000000c3"
	leRej   = "le-reject"
	leRoll  = "le-roll"
)

var workDay = civil.Date{Year: 2026, Month: time.June, Day: 10}

func hours(s string) te.Input {
	return te.Input{Kind: te.Time, ResourceID: res, ProjectID: proj, TaskID: billT, Date: workDay,
		Hours: decimal.RequireFromString(s), Billable: true}
}

func expense(amount, currency string) te.Input {
	return te.Input{Kind: te.Expense, ResourceID: res, ProjectID: proj, TaskID: billT, Date: workDay,
		Amount: money.Amount{Value: decimal.RequireFromString(amount), Currency: currency}, Category: "TRAVEL"}
}

func reasonOf(err error) string { return fault.ReasonOf(err) }

func TestInputCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   te.Input
		want string
	}{
		{"7.5 hours", hours("7.5"), ""},
		{"24 hours", hours("24"), ""},
		{"zero hours", hours("0"), "INVALID_HOURS"},
		{"negative hours", hours("-1"), "INVALID_HOURS"},
		{"more than a day", hours("24.01"), "INVALID_HOURS"},
		{"expense", expense("120.50", "USD"), ""},
		{"yen without decimals", expense("1200", "JPY"), ""},
		{"zero amount", expense("0", "USD"), "INVALID_AMOUNT"},
		{"negative amount", expense("-5", "USD"), "INVALID_AMOUNT"},
		{"unknown currency", expense("10", "XYZ"), "UNKNOWN_CURRENCY"},
		{"fractions of a cent", expense("10.005", "USD"), "INVALID_AMOUNT_PRECISION"},
		{"fractions of a yen", expense("10.5", "JPY"), "INVALID_AMOUNT_PRECISION"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := reasonOf(tc.in.Check()); got != tc.want {
				t.Fatalf("Check() reason = %q, want %q", got, tc.want)
			}
		})
	}
}

func replica() te.Replica {
	return te.Replica{
		Projects: map[string]te.Project{
			proj:   {ID: proj, Status: te.ProjectActive, LegalEntityID: leRej, Tasks: map[string]bool{billT: true, nonBill: false}},
			onHold: {ID: onHold, Status: "ON_HOLD", LegalEntityID: leRej, Tasks: map[string]bool{billT: true}},
			rfProj: {ID: rfProj, Status: te.ProjectActive, LegalEntityID: leRoll, Tasks: map[string]bool{rfTask: true}},
		},
		Policies: map[string]te.Policy{leRej: te.PolicyReject, leRoll: te.PolicyRollForward},
		Closed:   map[te.PeriodKey]bool{{leRej, "2026-05"}: true, {leRoll, "2026-05"}: true},
	}
}

func TestReplicaCheck(t *testing.T) {
	may := civil.Date{Year: 2026, Month: time.May, Day: 29}
	with := func(f func(*te.Input)) te.Input { in := hours("8"); f(&in); return in }
	for _, tc := range []struct {
		name string
		in   te.Input
		want string
	}{
		{"billable work on a billable task", hours("8"), ""},
		{"non-billable work on a non-billable task", with(func(i *te.Input) { i.TaskID, i.Billable = nonBill, false }), ""},
		{"unknown project", with(func(i *te.Input) { i.ProjectID = "01a2210c-0000-7000-8000-0000000000ff" }), "PROJECT_NOT_FOUND"},
		{"project on hold", with(func(i *te.Input) { i.ProjectID = onHold }), "PROJECT_INACTIVE"},
		{"task of another project", with(func(i *te.Input) { i.TaskID = rfTask }), "TASK_NOT_IN_PROJECT"},
		{"billable work on a non-billable task", with(func(i *te.Input) { i.TaskID = nonBill }), "TASK_NOT_BILLABLE"},
		{"closed period, entity rejects", with(func(i *te.Input) { i.Date = may }), "PERIOD_CLOSED"},
		{"closed period, entity rolls forward", with(func(i *te.Input) { i.ProjectID, i.TaskID, i.Date = rfProj, rfTask, may }), ""},
		{"expense in a closed period", func() te.Input { in := expense("10", "USD"); in.Date = may; return in }(), "PERIOD_CLOSED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := reasonOf(replica().Check(tc.in)); got != tc.want {
				t.Fatalf("Check() reason = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDailyHours(t *testing.T) {
	h := te.DailyHours{{res, workDay}: decimal.RequireFromString("16")}
	steps := []struct {
		in   te.Input
		want string
	}{
		{hours("6"), ""},
		{hours("2.01"), "DAILY_HOURS_EXCEEDED"}, // 22 + 2.01
		{hours("2"), ""},                        // exactly 24
		{expense("50", "USD"), ""},              // expenses carry no hours
		{hours("0.25"), "DAILY_HOURS_EXCEEDED"},
		{func() te.Input { in := hours("8"); in.Date = workDay.AddDays(1); return in }(), ""},
	}
	for i, s := range steps {
		if got := reasonOf(h.Add(s.in)); got != s.want {
			t.Fatalf("step %d: reason = %q, want %q", i, got, s.want)
		}
	}
	if got := h[te.Day{ResourceID: res, Date: workDay}]; !got.Equal(decimal.NewFromInt(24)) {
		t.Fatalf("refused entries must not count: total = %s, want 24", got)
	}
}

func TestTimesheetTransitions(t *testing.T) {
	now := time.Date(2026, 6, 12, 9, 0, 0, 0, time.UTC)
	ts := te.NewTimesheet("ts", res, workDay)
	if ts.WeekStart != (civil.Date{Year: 2026, Month: time.June, Day: 8}) || ts.Status != te.Draft {
		t.Fatalf("new timesheet: %+v", ts)
	}
	if err := ts.Submit(0, now); !errors.Is(err, te.ErrTimesheetEmpty) {
		t.Fatalf("empty submit: %v", err)
	}
	if err := ts.Approve("boss", now); !errors.Is(err, te.ErrInvalidTransition) {
		t.Fatalf("approve a draft: %v", err)
	}
	if err := ts.Submit(2, now); err != nil || ts.Status != te.Submitted {
		t.Fatalf("submit: %v %s", err, ts.Status)
	}
	if _, err := ts.Edit(); !errors.Is(err, te.ErrTimesheetNotEditable) {
		t.Fatalf("edit a submitted timesheet: %v", err)
	}
	if err := ts.Submit(2, now); !errors.Is(err, te.ErrInvalidTransition) {
		t.Fatalf("submit twice: %v", err)
	}
	if err := ts.Reject("wrong task", "boss", now); err != nil || ts.Status != te.Rejected || ts.RejectionReason != "wrong task" {
		t.Fatalf("reject: %v %+v", err, ts)
	}
	if reopened, err := ts.Edit(); err != nil || !reopened || ts.Status != te.Draft {
		t.Fatalf("editing a rejected timesheet reopens it: %v %v %s", reopened, err, ts.Status)
	}
	if err := ts.Submit(3, now); err != nil {
		t.Fatal(err)
	}
	if err := ts.Approve("boss", now); err != nil || ts.Status != te.Approved || ts.DecidedBy != "boss" || ts.RejectionReason != "" {
		t.Fatalf("approve: %v %+v", err, ts)
	}
	for name, f := range map[string]func() error{
		"reject": func() error { return ts.Reject("late", "boss", now) },
		"submit": func() error { return ts.Submit(3, now) },
		"edit":   func() error { _, err := ts.Edit(); return err },
	} {
		if err := f(); err == nil {
			t.Errorf("%s an approved timesheet must fail", name)
		}
	}
	// A rejected timesheet may be submitted again as it is.
	again := te.NewTimesheet("ts2", res, workDay)
	_ = again.Submit(1, now)
	_ = again.Reject("missing detail", "boss", now)
	if err := again.Submit(1, now); err != nil || again.Status != te.Submitted {
		t.Fatalf("resubmit: %v", err)
	}
}

func TestPostingPrecedence(t *testing.T) {
	for _, tc := range []struct {
		cur, next te.PostingStatus
		want      bool
	}{
		{te.PostingPending, te.PostingParkedRateMissing, true},
		{te.PostingPending, te.PostingPosted, true},
		{te.PostingParkedRateMissing, te.PostingPosted, true},
		{te.PostingParkedRateMissing, te.PostingParkedRateMissing, true},
		{te.PostingPosted, te.PostingParkedRateMissing, false},
		{te.PostingRejectedClosedPeriod, te.PostingParkedRateMissing, false},
		{te.PostingReversed, te.PostingParkedRateMissing, false},
		{te.PostingPosted, te.PostingRejectedClosedPeriod, false},
		{te.PostingRejectedClosedPeriod, te.PostingPosted, false},
		{te.PostingPosted, te.PostingReversed, true},
		{te.PostingReversed, te.PostingPosted, false},
	} {
		if got := tc.next.Supersedes(tc.cur); got != tc.want {
			t.Errorf("%s over %s = %v, want %v", tc.next, tc.cur, got, tc.want)
		}
	}
	got := te.Settle([]te.PostingAnswer{
		{EntryID: "a", Status: te.PostingPosted}, {EntryID: "b", Status: te.PostingParkedRateMissing, Reason: "no rate"},
		{EntryID: "a", Status: te.PostingParkedRateMissing}, {EntryID: "b", Status: te.PostingPosted},
	})
	if len(got) != 2 || got[0].Status != te.PostingPosted || got[1].Status != te.PostingPosted {
		t.Fatalf("settle: %+v", got)
	}
}

func TestCorrection(t *testing.T) {
	now := time.Date(2026, 6, 20, 9, 0, 0, 0, time.UTC)
	ref := &te.ExternalRef{System: "harvest", ObjectType: "TimeEntry", ExternalID: "T-1"}
	in := hours("8")
	in.Ref = ref
	orig := te.NewApproved("orig", in, "ts", now)
	if err := orig.CheckCorrectable(); err != nil {
		t.Fatal(err)
	}
	rev := orig.Reversal("rev", now)
	if !rev.Hours.Equal(decimal.NewFromInt(-8)) || rev.ReversesID != "orig" || rev.Ref != nil || rev.Approval != te.Approved ||
		rev.Posting != te.PostingPending || rev.Counts() {
		t.Fatalf("reversal: %+v", rev)
	}
	if !orig.Hours.Equal(decimal.NewFromInt(8)) {
		t.Fatal("the original's hours must never change")
	}
	if err := rev.CheckCorrectable(); !errors.Is(err, te.ErrEntryIsReversal) {
		t.Fatalf("correct a reversal: %v", err)
	}
	corrected := hours("6")
	corrected.Ref = ref
	if r := orig.Replacement(corrected); r.Ref != nil || !r.Hours.Equal(decimal.NewFromInt(6)) {
		t.Fatalf("replacement: %+v", r)
	}
	orig.ReplacedByID = "new"
	if err := orig.CheckCorrectable(); !errors.Is(err, te.ErrEntryAlreadyReversed) {
		t.Fatalf("correct twice: %v", err)
	}
	draft := te.NewDraft("d", hours("1"), "ts", now)
	if err := draft.CheckCorrectable(); !errors.Is(err, te.ErrEntryNotApproved) {
		t.Fatalf("correct a draft: %v", err)
	}

	exp := te.NewApproved("e", expense("99.90", "EUR"), "", now)
	erev := exp.Reversal("erev", now)
	if !erev.Amount.Value.Equal(decimal.RequireFromString("-99.90")) || erev.Amount.Currency != "EUR" {
		t.Fatalf("expense reversal: %+v", erev.Amount)
	}
	moved := exp.Replacement(hours("3"))
	if moved.Kind != te.Expense || !moved.Amount.Equal(exp.Amount) || !moved.Hours.IsZero() || moved.Category != "TRAVEL" {
		t.Fatalf("expense replacement: %+v", moved)
	}
}

func TestSameContent(t *testing.T) {
	a := hours("7.5")
	b := hours("7.50")
	if !a.Same(b) {
		t.Fatal("7.5 and 7.50 hours are the same content")
	}
	b.Description = "other"
	if a.Same(b) {
		t.Fatal("a different description is different content")
	}
	if te.PeriodOf(workDay) != "2026-06" {
		t.Fatal(te.PeriodOf(workDay))
	}
}
