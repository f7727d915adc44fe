package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
)

// Scale-out: three billing instances share one consumer group on the approved-entry stream
// while 2,400 approved entries (48 import calls of 50 entries, one event each; 1 h billable
// consultant time: 50.00 WIP, 20.00 labor cost) arrive. Mid-run one instance is killed (SIGKILL),
// a fourth is added, and another is killed; the survivors claim what the dead ones left pending.
// Every accepted entry is posted exactly once: the set of posted source ids equals the set of
// accepted entry ids, no source has two journal entries, and the ledger balances at
// WIP 2,400 × 50.00 = 120,000.00 and labor cost 2,400 × 20.00 = 48,000.00.
func TestBillingScalesOutExactlyOnce(t *testing.T) {
	t.Parallel()
	env := harness.Start(t, harness.WithInstances("billing", 3),
		// One event per posting transaction, so a kill can land between two of them; a claim
		// of a dead instance's pending entries after 1 s.
		harness.WithEnv("billing", "ACCRUE_POSTING_BATCH_EVENTS", "1"),
		harness.WithEnv("billing", "ACCRUE_CONSUMER_CLAIM_MIN_IDLE", "1s"))
	le := createLegalEntity(t, env, "US01", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT)
	fx := newPostingProject(t, env, le, "scale")
	ada := newPostingResource(t, env, le, "Ada Scale", "CONSULTANT", consultantCostRate)

	const perCall, calls = 50, 48
	const total = perCall * calls
	bodies := make([][]byte, calls)
	for c := range calls {
		items := make([]*timeexpensev1.ImportItem, perCall)
		for i := range perCall {
			n := c*perCall + i
			// 15 entries of 1 h per day from June 2, 2026: at most 15 h a day.
			d := time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n/15)
			items[i] = timeItem(withRef(timeIn(ada, fx.projectID, fx.billable, date(d.Year(), int(d.Month()), d.Day()), "1", true),
				fmt.Sprintf("SO-%04d", n)))
		}
		bodies[c] = restJSON(t, &timeexpensev1.ImportApprovedEntriesRequest{Items: items})
	}
	results := sendImportBodies(env, bodies)
	posted := func() int { return env.Count("billing", `SELECT count(*) FROM journal_entries`) }
	waitPostedAbove := func(n int) int {
		var now int
		harness.Eventually(t, 60*time.Second, 5*time.Millisecond, func() error {
			if now = posted(); now <= n {
				return fmt.Errorf("%d entries posted, waiting for more than %d", now, n)
			}
			return nil
		})
		return now
	}

	// The first posting, then a crash of billing-2, a fourth instance, a crash of billing-3.
	rdb, prefix := env.Redis()
	pendingOf := func(name string) int64 { // entries delivered to an instance and not acknowledged
		c, err := rdb.XPendingExt(context.Background(), &redis.XPendingExtArgs{Stream: prefix + "timeexpense.events", Group: "billing",
			Start: "-", End: "+", Count: 1000, Consumer: name + "-" + env.ID()}).Result()
		if err != nil {
			t.Fatal(err)
		}
		return int64(len(c))
	}
	first := waitPostedAbove(0)
	env.Kill("billing-2", syscall.SIGKILL)
	t.Logf("billing-2 killed with %d of %d entries posted, %d events pending on it", first, total, pendingOf("billing-2"))
	added := env.AddInstance("billing")
	if added != "billing-4" {
		t.Fatalf("the added instance is %s, want billing-4", added)
	}
	second := posted()
	if second < total {
		second = waitPostedAbove(second)
	}
	env.Kill("billing-3", syscall.SIGKILL)
	t.Logf("%s added; billing-3 killed with %d of %d entries posted, %d events pending on it", added, second, total, pendingOf("billing-3"))

	accepted := 0
	for range calls {
		r := <-results
		if r.err != nil || r.status != http.StatusOK {
			t.Fatalf("import call: %d %v", r.status, r.err)
		}
		accepted += int(r.accepted)
	}
	if accepted != total {
		t.Fatalf("the imports accepted %d entries, want %d", accepted, total)
	}
	took := harness.Eventually(t, 2*time.Minute, 100*time.Millisecond, func() error {
		if n := env.Count("timeexpense", `SELECT count(*) FROM time_entries WHERE posting_status = 'POSTED'`); n != total {
			return fmt.Errorf("%d of %d entries POSTED in time & expense", n, total)
		}
		return nil
	})
	t.Logf("all %d entries posted %s after the imports returned", total, took.Round(time.Millisecond))
	waitConsumed(t, env)

	// Every instance joined the one group (a consumer each), the dead ones included.
	consumers, err := rdb.XInfoConsumers(context.Background(), prefix+"timeexpense.events", "billing").Result()
	if err != nil {
		t.Fatal(err)
	}
	joined := map[string]bool{}
	for _, c := range consumers {
		joined[strings.TrimSuffix(c.Name, "-"+env.ID())] = true
	}
	for _, name := range []string{"billing", "billing-2", "billing-3", "billing-4"} {
		if !joined[name] {
			t.Errorf("%s is not a consumer of billing's group (consumers: %v)", name, joined)
		}
	}

	// Exactly once: posted sources = accepted entries, one journal entry and one result each.
	acceptedIDs := idSet(t, env, "timeexpense", `SELECT id::text FROM time_entries`)
	postedIDs := idSet(t, env, "billing", `SELECT source_id::text FROM journal_entries`)
	if len(acceptedIDs) != total {
		t.Errorf("%d time entries stored, want %d", len(acceptedIDs), total)
	}
	for id := range acceptedIDs {
		if !postedIDs[id] {
			t.Errorf("accepted entry %s has no journal entry", id)
		}
	}
	for id := range postedIDs {
		if !acceptedIDs[id] {
			t.Errorf("journal entry for %s, which time & expense never accepted", id)
		}
	}
	if n := env.Count("billing", `SELECT count(*) FROM journal_entries`); n != total {
		t.Errorf("%d journal entries, want %d (one per accepted entry)", n, total)
	}
	if n := env.Count("billing", `SELECT count(*) FROM (SELECT source_id FROM journal_entries GROUP BY source_id HAVING count(*) > 1) d`); n != 0 {
		t.Errorf("%d sources posted more than once", n)
	}
	if n := env.Count("billing", `SELECT count(*) FROM posting_results WHERE outcome = 'POSTED'`); n != total {
		t.Errorf("%d POSTED results, want %d", n, total)
	}
	if n := env.Count("billing", `SELECT count(*) FROM invoice_candidates`); n != total {
		t.Errorf("%d invoice candidates, want %d", n, total)
	}
	if n := env.Count("billing", `SELECT count(*) FROM (SELECT entry_id FROM journal_lines GROUP BY entry_id HAVING sum(debit) <> sum(credit)) x`); n != 0 {
		t.Errorf("%d unbalanced journal entries", n)
	}
	waitBillingAPI(t, env)
	checkTrialBalance(t, "trial balance after the scale-out run", trialBalance(t, env, le.GetLegalEntityId(), ""), "168000.00", map[string]string{
		"1200": "120000.00", "4000": "-120000.00", "5000": "48000.00", "2150": "-48000.00",
	})
}

type importCall struct {
	status   int
	accepted int32
	err      error
}

// sendImportBodies posts each body to /v1/time-entries:importApproved in turn, on a goroutine of
// its own (plain HTTP: the Env's helpers must stay on the test goroutine), and reports each call.
func sendImportBodies(env *harness.Env, bodies [][]byte) <-chan importCall {
	results := make(chan importCall, len(bodies))
	token := env.Token(timeApprove...)
	url := env.URL("/v1/time-entries:importApproved")
	go func() {
		client := &http.Client{Timeout: time.Minute}
		for _, b := range bodies {
			req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
			if err != nil {
				results <- importCall{err: err}
				continue
			}
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				results <- importCall{err: err}
				continue
			}
			var out struct {
				Accepted int32 `json:"accepted"`
			}
			err = json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
			results <- importCall{status: resp.StatusCode, accepted: out.Accepted, err: err}
		}
	}()
	return results
}

// idSet returns the first column of query's rows on a service's database as a set.
func idSet(t testing.TB, env *harness.Env, service, query string) map[string]bool {
	t.Helper()
	rows, err := env.DB(service).Query(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
