package e2e

import (
	"context"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
)

// A dropped event is found and re-driven by replay. Billing is stopped while an entry (8 h
// billable, WIP 400.00) is approved; its approval event is published and then deleted from the
// stream (XDEL) before billing read it, so the restarted billing never posts it. A dry run of
// POST /v1/ops/timeexpense/events:replay for the approval type lists that event and writes
// nothing; the replay re-publishes it and billing posts the entry once (WIP 400.00, one journal
// entry). A second replay of the same event (a new Idempotency-Key) changes nothing in billing.
func TestDroppedEventIsReplayed(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	le := createLegalEntity(t, env, "US01", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT)
	fx := newPostingProject(t, env, le, "replay")
	ada := newPostingResource(t, env, le, "Ada Lovelace", "CONSULTANT", consultantCostRate)
	ctx := context.Background()

	env.Kill("billing", syscall.SIGTERM)
	item := timeItem(withRef(timeIn(ada, fx.projectID, fx.billable, date(2026, 6, 1), "8", true), "REPLAY-1"))
	st, _, body := env.Do(http.MethodPost, "/v1/time-entries:importApproved",
		restJSON(t, &timeexpensev1.ImportApprovedEntriesRequest{Items: []*timeexpensev1.ImportItem{item}}), env.Bearer(timeApprove))
	if st != http.StatusOK {
		t.Fatalf("import: %d %s", st, body)
	}
	var imported timeexpensev1.ImportApprovedEntriesResponse
	decode(t, body, &imported)
	checkImportResults(t, &imported, 1)
	entryID := imported.GetResults()[0].GetEntryId()

	// The approval is published, then dropped from the stream before billing reads it.
	var eventID string
	harness.Eventually(t, 20*time.Second, 50*time.Millisecond, func() error {
		return env.DB("timeexpense").QueryRow(ctx, `SELECT event_id::text FROM outbox
			WHERE event_type = 'time_entries.approved' AND published_at IS NOT NULL`).Scan(&eventID)
	})
	rdb, prefix := env.Redis()
	stream := prefix + "timeexpense.events"
	var dropped int
	for _, e := range rdb.XRange(ctx, stream, "-", "+").Val() {
		if e.Values["event_id"] == eventID {
			dropped += int(rdb.XDel(ctx, stream, e.ID).Val())
		}
	}
	if dropped != 1 {
		t.Fatalf("deleted %d stream entries of event %s, want 1", dropped, eventID)
	}
	env.Restart("billing")
	waitBillingAPI(t, env)

	replay := func(key string, dry bool) *opsv1.ReplayEventsResponse {
		t.Helper()
		st, _, body := env.Do(http.MethodPost, "/v1/ops/timeexpense/events:replay",
			map[string]any{"eventType": "time_entries.approved", "dryRun": dry},
			env.Bearer([]string{"ops:read", "ops:write"}, "Idempotency-Key", key))
		if st != http.StatusOK {
			t.Fatalf("replay (dry run %v): %d %s", dry, st, body)
		}
		var resp opsv1.ReplayEventsResponse
		decode(t, body, &resp)
		return &resp
	}
	dry := replay("replay-dry-1", true)
	if len(dry.GetEvents()) != 1 || dry.GetEvents()[0].GetEventId() != eventID || dry.GetEvents()[0].GetSubject() == "" ||
		dry.GetMatchedCount() != 1 || dry.GetReplayedCount() != 0 {
		t.Fatalf("dry run = %v, want event %s listed and nothing replayed", dry, eventID)
	}
	if n := env.Count("timeexpense", `SELECT count(*) FROM outbox WHERE published_at IS NULL`); n != 0 {
		t.Errorf("the dry run put %d events back to publish, want 0", n)
	}
	if n := env.Count("billing", `SELECT count(*) FROM journal_entries WHERE source_id = $1`, entryID); n != 0 {
		t.Fatalf("billing has %d journal entries of the dropped entry before the replay, want 0", n)
	}

	if got := replay("replay-run-1", false); got.GetReplayedCount() != 1 {
		t.Fatalf("replay = %v, want 1 event replayed", got)
	}
	waitPostingStatus(t, env, stPosted, entryID)
	waitConsumed(t, env)
	if got := replay("replay-run-2", false); got.GetReplayedCount() != 1 {
		t.Fatalf("second replay = %v, want 1 event replayed", got)
	}
	harness.Eventually(t, 20*time.Second, 50*time.Millisecond, func() error {
		return env.DB("timeexpense").QueryRow(ctx, `SELECT 1 FROM outbox WHERE event_id = $1 AND published_at IS NOT NULL`, eventID).Scan(new(int))
	})
	waitConsumed(t, env)
	if n := env.Count("billing", `SELECT count(*) FROM journal_entries WHERE source_id = $1`, entryID); n != 1 {
		t.Errorf("billing has %d journal entries of the replayed entry, want 1", n)
	}
	for _, l := range trialBalance(t, env, le.GetLegalEntityId(), "").GetLines() {
		if l.GetAccountCode() == "1200" && l.GetBalance().GetAmount() != "400.00" {
			t.Errorf("WIP %s after two replays, want 400.00 (8 × 50.00, once)", l.GetBalance().GetAmount())
		}
	}
	if n := env.Count("timeexpense", `SELECT count(*) FROM audit_log WHERE action = 'outbox.replayed'`); n != 2 {
		t.Errorf("%d audit records of replays, want 2", n)
	}
}
