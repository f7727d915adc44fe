package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
)

// Closed accounting periods follow the legal entity's policy, and every rejection is visible.
//
// US01 rejects. With 2026-05 closed, an entry dated May 29 is refused at entry (RecordTimeEntry:
// 400 PERIOD_CLOSED; import: REJECTED PERIOD_CLOSED) and writes nothing. Two entries of April 14
// and 15 (4 h each) recorded and submitted while April is open, then approved after 2026-04 was
// closed, are rejected by the ledger: REJECTED_CLOSED_PERIOD (PERIOD_CLOSED) in billing and on the
// entries, no journal entry, no candidate. So is an approved entry of April 22 that a T&E tool
// delivers late, straight onto the stream (bypassing entry validation). The KPIs count 3 entries
// in 2 timesheets (resource-weeks), and US01's books stay empty.
//
// US02 rolls forward. With 2026-05 closed, an imported entry of May 29 (8 h) and a timesheet entry
// of May 28 (4 h) are accepted and posted on June 1, 2026 keeping their source dates: May's trial
// balance is empty, June's holds WIP (8 + 4) × 50.00 = 600.00 and labor cost 12 × 20.00 = 240.00.
func TestClosedPeriodsRejectOrRollForwardPostings(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	us01 := createLegalEntity(t, env, "US01", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT)
	us02 := createLegalEntity(t, env, "US02", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_ROLL_FORWARD)
	p1 := newPostingProject(t, env, us01, "reject")
	p2 := newPostingProject(t, env, us02, "rollfwd")
	ada := newPostingResource(t, env, us01, "Ada Lovelace", "CONSULTANT", consultantCostRate)

	// US01, 2026-05 closed: refused at entry.
	closePeriod(t, env, us01.GetLegalEntityId(), "2026-05")
	before := countTE(t, env)
	st, hdr, body := recordTime(t, env, timeIn(ada, p1.projectID, p1.billable, date(2026, 5, 29), "8", true))
	expectProblem(t, "entry dated in closed 2026-05 of US01", http.StatusBadRequest, "PERIOD_CLOSED", st, hdr, body)
	imp := mustImport(t, env, timeItem(withRef(timeIn(ada, p1.projectID, p1.billable, date(2026, 5, 29), "8", true), "CLOSED-1")))
	if r := imp.GetResults()[0]; imp.GetRejected() != 1 || r.GetOutcome() != timeexpensev1.ImportOutcome_IMPORT_OUTCOME_REJECTED ||
		r.GetReason() != "PERIOD_CLOSED" || r.GetEntryId() != "" {
		t.Errorf("import of an entry dated in closed 2026-05 of US01: %v, want REJECTED PERIOD_CLOSED without an entry", r)
	}
	if after := countTE(t, env); after != before {
		t.Errorf("the refusals wrote to time & expense: %+v, before %+v", after, before)
	}

	// US01: approved after 2026-04 was closed; the ledger rejects.
	e1 := mustRecordTime(t, env, timeIn(ada, p1.projectID, p1.billable, date(2026, 4, 14), "4", true))
	e2 := mustRecordTime(t, env, timeIn(ada, p1.projectID, p1.billable, date(2026, 4, 15), "4", true))
	submitTimesheet(t, env, e1.GetTimesheetId())
	closePeriod(t, env, us01.GetLegalEntityId(), "2026-04")
	approveTimesheet(t, env, e1.GetTimesheetId())
	for id, e := range waitPostingStatus(t, env, stRejected, e1.GetEntryId(), e2.GetEntryId()) {
		if e.GetPostingReason() != "PERIOD_CLOSED" {
			t.Errorf("entry %s: posting reason %q, want PERIOD_CLOSED", id, e.GetPostingReason())
		}
		var outcome, reason string
		if err := env.DB("billing").QueryRow(context.Background(), `SELECT outcome, reason FROM posting_results WHERE source_id = $1`, id).
			Scan(&outcome, &reason); err != nil {
			t.Errorf("billing's posting result of %s: %v", id, err)
		} else if outcome != "REJECTED_CLOSED_PERIOD" || reason != "PERIOD_CLOSED" {
			t.Errorf("billing's posting result of %s: %s %s, want REJECTED_CLOSED_PERIOD PERIOD_CLOSED", id, outcome, reason)
		}
		if js := listJournal(t, env, bySource(id)); len(js) != 0 {
			t.Errorf("entry %s rejected for a closed period has %d journal entries", id, len(js))
		}
		if n := env.Count("billing", `SELECT count(*) FROM journal_entries WHERE source_id = $1`, id); n != 0 {
			t.Errorf("entry %s rejected for a closed period has %d journal_entries rows", id, n)
		}
	}

	// US01: a T&E tool's late delivery straight onto the stream (it bypasses entry validation): an
	// approved entry of April 22 (another week) that the time & expense service never saw.
	late := lateApproval(t, env, ada, p1, date(2026, 4, 22), "3")
	harness.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
		if n := env.Count("billing", `SELECT count(*) FROM posting_results WHERE source_id = $1 AND outcome = 'REJECTED_CLOSED_PERIOD'
			AND reason = 'PERIOD_CLOSED'`, late); n != 1 {
			return fmt.Errorf("billing has not rejected the late entry %s for the closed period yet", late)
		}
		return nil
	})
	waitConsumed(t, env)
	if n := env.Count("billing", `SELECT count(*) FROM journal_entries WHERE source_id = $1`, late); n != 0 {
		t.Errorf("the late entry of closed April was posted (%d journal entries)", n)
	}
	if cs := listCandidates(t, env, byProject(p1.projectID)); len(cs) != 0 {
		t.Errorf("%d invoice candidates of the rejected entries, want 0", len(cs))
	}
	k := billingKpis(t, env)
	if k.GetEntriesRejectedClosedPeriod() != 3 || k.GetTimesheetsRejectedClosedPeriod() != 2 || k.GetJournalEntries() != 0 {
		t.Errorf("billing KPIs %v; want 3 entries in 2 timesheets (resource-weeks) rejected for a closed period, no journal entries", k)
	}
	checkTrialBalance(t, "US01 trial balance", trialBalance(t, env, us01.GetLegalEntityId(), ""), "0.00", nil)

	// US02 rolls forward: accepted at entry, posted on the first day of the next open period.
	closePeriod(t, env, us02.GetLegalEntityId(), "2026-05")
	imp = mustImport(t, env, timeItem(withRef(timeIn(ada, p2.projectID, p2.billable, date(2026, 5, 29), "8", true), "ROLL-1")))
	if imp.GetAccepted() != 1 {
		t.Fatalf("import of an entry dated in closed 2026-05 of US02 (roll forward): %v, want ACCEPTED", imp.GetResults())
	}
	rolledImport := imp.GetResults()[0].GetEntryId()
	rolledSheet := mustRecordTime(t, env, timeIn(ada, p2.projectID, p2.billable, date(2026, 5, 28), "4", true))
	submitTimesheet(t, env, rolledSheet.GetTimesheetId())
	approveTimesheet(t, env, rolledSheet.GetTimesheetId())
	waitPostingStatus(t, env, stPosted, rolledImport, rolledSheet.GetEntryId())
	for _, w := range []struct {
		id         string
		day        int
		wip, labor string
	}{{rolledImport, 29, "400.00", "160.00"}, {rolledSheet.GetEntryId(), 28, "200.00", "80.00"}} {
		js := listJournal(t, env, bySource(w.id))
		if len(js) != 1 {
			t.Errorf("entry %s of May %d: %d journal entries, want 1", w.id, w.day, len(js))
			continue
		}
		e := js[0]
		if !sameDate(e.GetPostingDate(), 2026, 6, 1) || !sameDate(e.GetSourceDate(), 2026, 5, w.day) || e.GetLegalEntityId() != us02.GetLegalEntityId() {
			t.Errorf("entry of May %d: posted on %v with source date %v in %s; want posted 2026-06-01, source 2026-05-%d, in US02", w.day,
				e.GetPostingDate(), e.GetSourceDate(), e.GetLegalEntityId(), w.day)
		}
		if got, want := lineTotals(t, e), map[string]string{"1200": w.wip, "4000": "-" + w.wip, "5000": w.labor, "2150": "-" + w.labor}; !sameMap(got, want) {
			t.Errorf("entry of May %d: lines %v, want %v", w.day, got, want)
		}
		if cs := listCandidates(t, env, bySource(w.id)); len(cs) != 1 || !sameDate(cs[0].GetSourceDate(), 2026, 5, w.day) || !moneyIs(cs[0].GetAmount(), w.wip) {
			t.Errorf("entry of May %d: candidates %v, want one of %s dated 2026-05-%d", w.day, cs, w.wip, w.day)
		}
	}
	checkTrialBalance(t, "US02 trial balance of 2026-05 (closed)", trialBalance(t, env, us02.GetLegalEntityId(), "2026-05"), "0.00", nil)
	checkTrialBalance(t, "US02 trial balance of 2026-06", trialBalance(t, env, us02.GetLegalEntityId(), "2026-06"), "840.00",
		map[string]string{"1200": "600.00", "4000": "-600.00", "5000": "240.00", "2150": "-240.00"})
	if k := billingKpis(t, env); k.GetEntriesRejectedClosedPeriod() != 3 || k.GetJournalEntries() != 2 {
		t.Errorf("billing KPIs after the roll-forward %v; want still 3 rejected entries and 2 journal entries", k)
	}
}

// lateApproval writes a time_entries.approved event for a new entry straight into
// <prefix>timeexpense.events, as a T&E tool's late delivery bypassing the time & expense
// service, and returns the entry's id.
func lateApproval(t testing.TB, env *harness.Env, resourceID string, fx *postingFixture, d *commonv1.Date, hours string) string {
	t.Helper()
	entry := &timeexpensev1.TimeEntry{EntryId: uuid.Must(uuid.NewV7()).String(), Kind: timeexpensev1.EntryKind_ENTRY_KIND_TIME,
		ResourceId: resourceID, ProjectId: fx.projectID, TaskId: fx.billable, WorkDate: d, Hours: hours, Billable: true,
		Description: "late delivery", ApprovalStatus: timeexpensev1.TimesheetStatus_TIMESHEET_STATUS_APPROVED, PostingStatus: stPending,
		Version: 1, CreateTime: timestamppb.Now(), ApproveTime: timestamppb.Now()}
	payload, err := anypb.New(&timeexpensev1.EntriesApproved{Entries: []*timeexpensev1.TimeEntry{entry}})
	if err != nil {
		t.Fatal(err)
	}
	envl := &commonv1.EventEnvelope{EventId: uuid.Must(uuid.NewV7()).String(), Type: "time_entries.approved",
		Subject: uuid.Must(uuid.NewV7()).String(), OccurredAt: timestamppb.Now(), CorrelationId: "e2e-late-" + uuid.NewString(),
		Producer: "timeexpense", Payload: payload}
	env.Sign("timeexpense.events", envl) // as if the time & expense service had published it
	raw, err := proto.Marshal(envl)
	if err != nil {
		t.Fatal(err)
	}
	rdb, prefix := env.Redis()
	if err := rdb.XAdd(context.Background(), &redis.XAddArgs{Stream: prefix + "timeexpense.events",
		Values: []any{"event_id", envl.GetEventId(), "type", envl.GetType(), "envelope", raw}}).Err(); err != nil {
		t.Fatal(err)
	}
	return entry.GetEntryId()
}
