package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
)

// Exactly once, end to end. One approved entry (8 h billable, consultant: WIP 8 × 50.00 =
// 400.00, labor cost 8 × 20.00 = 160.00) is delivered five times at once by the T&E tool: one
// import accepts it, four report it DUPLICATE. Its approval event is then re-published four times
// at the stream level (the same envelope, as an outbox relay that crashed between XADD and marking
// the row would) and once more under a new event id (the entry itself delivered again): billing
// still has one journal entry for it and WIP stays 400.00. Finally billing is killed (SIGKILL)
// while a month-end import of 3,000 entries (1 h billable each: 50.00 WIP, 20.00 cost) is being
// posted, and restarted: every accepted entry is posted exactly once and the ledger balances at
// WIP 400.00 + 3,000 × 50.00 = 150,400.00 and labor cost 160.00 + 3,000 × 20.00 = 60,160.00.
func TestApprovedEntryIsPostedExactlyOnce(t *testing.T) {
	t.Parallel()
	// One posting event per billing transaction, so a crash can land between two of them; a
	// restarted billing drains its own pending entries at once.
	env := harness.Start(t, harness.WithEnv("billing", "ACCRUE_POSTING_BATCH_EVENTS", "1"),
		harness.WithEnv("billing", "ACCRUE_CONSUMER_CLAIM_MIN_IDLE", "1s"))
	le := createLegalEntity(t, env, "US01", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT)
	fx := newPostingProject(t, env, le, "once")
	ada := newPostingResource(t, env, le, "Ada Lovelace", "CONSULTANT", consultantCostRate)
	ctx := context.Background()

	// 1. The same item in five concurrent import calls.
	item := timeItem(withRef(timeIn(ada, fx.projectID, fx.billable, date(2026, 6, 1), "8", true), "ONCE-1"))
	body := restJSON(t, &timeexpensev1.ImportApprovedEntriesRequest{Items: []*timeexpensev1.ImportItem{item}})
	headers := env.Bearer(timeApprove)
	answers := concurrently(5, func(int) (*http.Request, error) {
		return newRequest(env, http.MethodPost, "/v1/time-entries:importApproved", body, headers)
	})
	outcomes := map[timeexpensev1.ImportOutcome]int{}
	entryIDs := map[string]bool{}
	for i, a := range answers {
		if a.err != nil || a.status != http.StatusOK {
			t.Fatalf("import %d: %d %v: %s", i, a.status, a.err, a.body)
		}
		var resp timeexpensev1.ImportApprovedEntriesResponse
		decode(t, a.body, &resp)
		checkImportResults(t, &resp, 1)
		r := resp.GetResults()[0]
		outcomes[r.GetOutcome()]++
		entryIDs[r.GetEntryId()] = true
		if r.GetExternalId() != "ONCE-1" {
			t.Errorf("import %d: result names external id %q, want ONCE-1", i, r.GetExternalId())
		}
	}
	if outcomes[timeexpensev1.ImportOutcome_IMPORT_OUTCOME_ACCEPTED] != 1 || outcomes[timeexpensev1.ImportOutcome_IMPORT_OUTCOME_DUPLICATE] != 4 ||
		len(entryIDs) != 1 {
		t.Fatalf("five deliveries: outcomes %v naming %d entries; want one ACCEPTED and four DUPLICATE of one entry", outcomes, len(entryIDs))
	}
	var entryID string
	for id := range entryIDs {
		entryID = id
	}
	if n := env.Count("timeexpense", `SELECT count(*) FROM time_entries WHERE ext_id = 'ONCE-1'`); n != 1 {
		t.Errorf("%d time entries hold external id ONCE-1, want 1", n)
	}
	if n := env.Count("timeexpense", `SELECT count(*) FROM outbox WHERE event_type = 'time_entries.approved'`); n != 1 {
		t.Fatalf("%d time_entries.approved events, want 1 (the duplicates publish nothing)", n)
	}
	waitPostingStatus(t, env, stPosted, entryID)
	wip := func() string {
		t.Helper()
		for _, l := range trialBalance(t, env, le.GetLegalEntityId(), "").GetLines() {
			if l.GetAccountCode() == "1200" {
				return l.GetBalance().GetAmount()
			}
		}
		t.Fatal("no WIP line (1200) in the trial balance")
		return ""
	}
	if w := wip(); w != "400.00" {
		t.Fatalf("WIP after the first posting %s, want 400.00 (8 × 50.00)", w)
	}

	// 2. The approval event delivered again at the stream level: the outbox row's envelope four
	// more times, and the same entries once under a fresh event id.
	var eventID, eventType string
	var raw []byte
	if err := env.DB("timeexpense").QueryRow(ctx, `SELECT event_id::text, event_type, envelope FROM outbox
		WHERE event_type = 'time_entries.approved'`).Scan(&eventID, &eventType, &raw); err != nil {
		t.Fatalf("the approval's outbox row: %v", err)
	}
	var envl commonv1.EventEnvelope
	if err := proto.Unmarshal(raw, &envl); err != nil {
		t.Fatalf("the approval's envelope: %v", err)
	}
	var approved timeexpensev1.EntriesApproved
	if err := envl.GetPayload().UnmarshalTo(&approved); err != nil || len(approved.GetEntries()) != 1 || approved.GetEntries()[0].GetEntryId() != entryID {
		t.Fatalf("the approval event carries %v (%v), want entry %s", approved.GetEntries(), err, entryID)
	}
	rdb, prefix := env.Redis()
	stream := prefix + "timeexpense.events"
	for range 4 {
		if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []any{"event_id", eventID, "type", eventType, "envelope", raw}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	again := proto.Clone(&envl).(*commonv1.EventEnvelope)
	again.EventId, again.OccurredAt = uuid.Must(uuid.NewV7()).String(), timestamppb.Now()
	env.Sign("timeexpense.events", again) // a re-wrap by the producer itself: only business uniqueness stops it
	rawAgain, err := proto.Marshal(again)
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []any{"event_id", again.GetEventId(), "type", eventType, "envelope", rawAgain}}).Err(); err != nil {
		t.Fatal(err)
	}
	waitConsumed(t, env)
	if n, err := rdb.XLen(ctx, stream).Result(); err != nil || n != 6 {
		t.Errorf("%s holds %d entries (%v), want 6 (the approval, four copies, one re-wrap)", stream, n, err)
	}
	if js := listJournal(t, env, bySource(entryID)); len(js) != 1 {
		t.Errorf("%d journal entries for entry %s after six deliveries, want 1", len(js), entryID)
	}
	if n := env.Count("billing", `SELECT count(*) FROM posting_results WHERE source_id = $1`, entryID); n != 1 {
		t.Errorf("%d posting results for entry %s, want 1", n, entryID)
	}
	if n := env.Count("billing", `SELECT count(*) FROM invoice_candidates WHERE source_id = $1`, entryID); n != 1 {
		t.Errorf("%d invoice candidates for entry %s, want 1", n, entryID)
	}
	if w := wip(); w != "400.00" {
		t.Errorf("WIP after the re-deliveries %s, want 400.00 unchanged", w)
	}
	if k := billingKpis(t, env); k.GetJournalEntries() != 1 {
		t.Errorf("billing KPI journal_entries %d, want 1", k.GetJournalEntries())
	}

	// 3. A month-end import of 3,000 entries (6 calls of 500, one event each), with billing
	// killed as soon as the first of them are posted.
	const perCall, calls = 500, 6
	const total = perCall * calls
	bodies := make([][]byte, calls)
	for c := range calls {
		items := make([]*timeexpensev1.ImportItem, perCall)
		for i := range perCall {
			n := c*perCall + i
			// 15 entries of 1 h per day from June 2, 2026: at most 15 h a day.
			d := time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n/15)
			items[i] = timeItem(withRef(timeIn(ada, fx.projectID, fx.billable, date(d.Year(), int(d.Month()), d.Day()), "1", true),
				fmt.Sprintf("ME-%04d", n)))
		}
		bodies[c] = restJSON(t, &timeexpensev1.ImportApprovedEntriesRequest{Items: items})
	}
	type callResult struct {
		status   int
		accepted int32
		err      error
	}
	results := make(chan callResult, calls)
	token := env.Token(timeApprove...)
	go func() { // plain HTTP: the Env's helpers must stay on the test goroutine
		client := &http.Client{Timeout: time.Minute}
		for _, b := range bodies {
			req, err := http.NewRequest(http.MethodPost, env.URL("/v1/time-entries:importApproved"), bytes.NewReader(b))
			if err != nil {
				results <- callResult{err: err}
				continue
			}
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				results <- callResult{err: err}
				continue
			}
			var out struct {
				Accepted int32 `json:"accepted"`
			}
			err = json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
			results <- callResult{status: resp.StatusCode, accepted: out.Accepted, err: err}
		}
	}()
	posted := func() int {
		return env.Count("billing", `SELECT count(*) FROM journal_entries WHERE source_id <> $1`, entryID)
	}
	var atKill int
	harness.Eventually(t, 60*time.Second, 2*time.Millisecond, func() error {
		if atKill = posted(); atKill == 0 {
			return fmt.Errorf("none of the month-end entries posted yet")
		}
		return nil
	})
	env.Kill("billing", syscall.SIGKILL)
	atKill = posted() // what the dead process committed
	accepted := 0
	for range calls {
		r := <-results
		if r.err != nil || r.status != http.StatusOK {
			t.Fatalf("month-end import call: %d %v", r.status, r.err)
		}
		accepted += int(r.accepted)
	}
	if accepted != total {
		t.Fatalf("the month-end import accepted %d entries, want %d", accepted, total)
	}
	t.Logf("billing killed with %d of %d month-end entries posted", atKill, total)
	if atKill >= total {
		t.Logf("note: every entry was posted before the kill landed; the restart below then only re-reads")
	}

	env.Restart("billing")
	took := harness.Eventually(t, 90*time.Second, 100*time.Millisecond, func() error {
		if n := env.Count("timeexpense", `SELECT count(*) FROM time_entries WHERE posting_status = 'POSTED'`); n != total+1 {
			return fmt.Errorf("%d of %d entries POSTED in time & expense", n, total+1)
		}
		return nil
	})
	t.Logf("all %d entries posted %s after the restart", total+1, took.Round(time.Millisecond))
	waitConsumed(t, env)
	waitBillingAPI(t, env)

	if n := env.Count("billing", `SELECT count(*) FROM journal_entries`); n != total+1 {
		t.Errorf("%d journal entries, want %d (one per accepted entry)", n, total+1)
	}
	if n := env.Count("billing", `SELECT count(DISTINCT source_id) FROM journal_entries`); n != total+1 {
		t.Errorf("%d distinct sources in the journal, want %d: a source was posted twice", n, total+1)
	}
	if n := env.Count("billing", `SELECT count(*) FROM invoice_candidates`); n != total+1 {
		t.Errorf("%d invoice candidates, want %d", n, total+1)
	}
	if n := env.Count("billing", `SELECT count(*) FROM posting_results WHERE outcome = 'POSTED'`); n != total+1 {
		t.Errorf("%d POSTED results, want %d", n, total+1)
	}
	checkTrialBalance(t, "trial balance after the crash", trialBalance(t, env, le.GetLegalEntityId(), ""), "210560.00", map[string]string{
		"1200": "150400.00", "4000": "-150400.00", "5000": "60160.00", "2150": "-60160.00",
	})
	k := billingKpis(t, env)
	if k.GetJournalEntries() != total+1 || len(k.GetUnbilledTime()) != 1 || !moneyIs(k.GetUnbilledTime()[0], "150400.00") {
		t.Errorf("billing KPIs %v; want %d journal entries and 150400.00 USD unbilled", k, total+1)
	}
}
