package e2e

import (
	"context"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/accrue/accrue/e2e/internal/harness"
	"github.com/accrue/accrue/internal/platform/outbox"
)

// The fault harness's verdicts: the broker repair after the wipe, and the correctness gate.

// wipeResult is how the services noticed and repaired the wipe.
type wipeResult struct {
	detected, repaired time.Duration // wipe → first broker loss exception; → all of them resolved
	streams            int           // streams found to have lost entries
	republished        int64         // outbox rows put back to publish
}

func (w wipeResult) String() string {
	return fmt.Sprintf("detected after %s on %d streams, %d events re-published", w.detected.Round(time.Millisecond), w.streams, w.republished)
}

// waitRepaired waits until every service that lost stream entries in the wipe at `at` recorded the
// loss (a BROKER_DATA_LOST exception) and resolved it (every row re-published), and the
// pipeline has drained everything accepted before the wipe.
func waitRepaired(t *testing.T, env *harness.Env, at time.Time) wipeResult {
	t.Helper()
	var w wipeResult
	deadline := at.Add(chaosRecoveryTimeout)
	for {
		w = wipeResult{}
		var first, last time.Time
		open, found := 0, 0
		for _, s := range harness.Services {
			rows, err := env.DB(s).Query(context.Background(), `SELECT status, created_at, updated_at,
				COALESCE((convert_from(payload, 'UTF8')::jsonb->>'entries')::bigint, 0) FROM exceptions
				WHERE kind = $1 AND reason = $2 AND created_at >= $3`, outbox.BrokerLossKind, outbox.ReasonBrokerLoss, at)
			if err != nil {
				t.Fatalf("chaos: broker loss exceptions of %s: %v", s, err)
			}
			for rows.Next() {
				var status string
				var created, updated time.Time
				var n int64
				if err := rows.Scan(&status, &created, &updated, &n); err != nil {
					t.Fatal(err)
				}
				found++
				w.republished += n
				if status == "OPEN" {
					open++
				}
				if first.IsZero() || created.Before(first) {
					first = created
				}
				if updated.After(last) {
					last = updated
				}
			}
			rows.Close()
		}
		w.streams = found
		if found > 0 && open == 0 && drained(env, at) {
			w.detected = first.Sub(at)
			w.repaired = max(last.Sub(at), time.Since(at))
			return w
		}
		if time.Now().After(deadline) {
			t.Fatalf("chaos: %s after the wipe: %d broker loss exceptions, %d open; %s", chaosRecoveryTimeout, found, open, drainState(env, at))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// gateResult is what the gate measured.
type gateResult struct {
	entries    int
	hours      string
	debit      string
	exceptions []string // every exception of the run, by service, kind, reason and status
	latency    latencies
}

func (g gateResult) String() string {
	return fmt.Sprintf("%d entries (%s h) posted exactly once, ledger balanced at %s USD each side; exceptions: %s",
		g.entries, g.hours, g.debit, strings.Join(g.exceptions, "; "))
}

// chaosGate checks what a user cares about after the faults: every accepted entry posted exactly
// once (by source id), every journal entry balanced, the trial balance at zero with the amounts
// the hours call for, the return paths exact (time & expense posting status, project actuals =
// ledger), nothing pending or undelivered in any consumer group, and no open exception.
func chaosGate(t *testing.T, env *harness.Env, fx chaosFixture, deliveries []chaosItem, load *chaosLoad) gateResult {
	t.Helper()
	ctx := context.Background()
	load.mu.Lock()
	defer load.mu.Unlock()
	if len(load.failed) > 0 || load.rejected > 0 {
		t.Errorf("chaos gate: %d import calls failed (%v), %d items rejected (%v)", len(load.failed), load.failed, load.rejected, load.rejections)
	}
	distinct := map[string]bool{}
	for _, d := range deliveries {
		distinct[d.ext] = true
	}
	n := len(distinct)
	var g gateResult
	g.entries = n
	if load.accepted+load.duplicates != len(deliveries) {
		t.Errorf("chaos gate: %d accepted + %d duplicate answers, want %d (one per delivery)", load.accepted, load.duplicates, len(deliveries))
	}

	// Accepted = posted, by source id, nothing twice.
	te := env.Count("timeexpense", `SELECT count(*) FROM time_entries WHERE ext_system = 'chaos'`)
	tePosted := env.Count("timeexpense", `SELECT count(*) FROM time_entries WHERE ext_system = 'chaos' AND posting_status = 'POSTED'`)
	if err := env.DB("timeexpense").QueryRow(ctx, `SELECT sum(hours)::text FROM time_entries WHERE ext_system = 'chaos'`).Scan(&g.hours); err != nil {
		t.Fatal(err)
	}
	posted := env.Count("billing", `SELECT count(*) FROM posting_results WHERE outcome = 'POSTED'`)
	other := env.Count("billing", `SELECT count(*) FROM posting_results WHERE outcome <> 'POSTED'`)
	journal := env.Count("billing", `SELECT count(*) FROM journal_entries`)
	sources := env.Count("billing", `SELECT count(DISTINCT source_id) FROM journal_entries`)
	if te != n || tePosted != n || posted != n || other != 0 || journal != n || sources != n {
		t.Errorf("chaos gate: %d distinct entries sent; time & expense holds %d (%d POSTED); billing: %d POSTED results, %d other, "+
			"%d journal entries over %d sources; want %d everywhere and 0 other", n, te, tePosted, posted, other, journal, sources, n)
	}
	missing := env.Count("billing", `SELECT count(*) FROM posting_results r WHERE outcome = 'POSTED'
		AND NOT EXISTS (SELECT 1 FROM journal_entries j WHERE j.source_id = r.source_id)`)
	if missing != 0 {
		t.Errorf("chaos gate: %d POSTED results without their journal entry", missing)
	}

	// Every entry balanced; the trial balance zero, at hours × the rates.
	unbalanced := env.Count("billing", `SELECT count(*) FROM (SELECT entry_id FROM journal_lines GROUP BY entry_id HAVING sum(debit) <> sum(credit)) x`)
	if unbalanced != 0 {
		t.Errorf("chaos gate: %d journal entries do not balance", unbalanced)
	}
	h := rat(g.hours)
	wip := new(big.Rat).Mul(h, rat(chaosBillRate))
	cost := new(big.Rat).Mul(h, rat(chaosCostRate))
	g.debit = new(big.Rat).Add(wip, cost).FloatString(2)
	checkTrialBalance(t, "chaos gate: trial balance", trialBalance(t, env, fx.leID, ""), g.debit, map[string]string{
		"1200": wip.FloatString(2), "4000": new(big.Rat).Neg(wip).FloatString(2),
		"5000": cost.FloatString(2), "2150": new(big.Rat).Neg(cost).FloatString(2),
	})

	// Project actuals = the ledger, project by project.
	ledger := map[string][3]string{}
	rows, err := env.DB("billing").Query(ctx, `SELECT project_id::text,
		COALESCE(sum(debit - credit) FILTER (WHERE account_code = '5000'), 0)::text,
		COALESCE(sum(credit - debit) FILTER (WHERE account_code = '4000'), 0)::text FROM journal_lines
		WHERE project_id IS NOT NULL GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var p, c, r string
		if err := rows.Scan(&p, &c, &r); err != nil {
			t.Fatal(err)
		}
		ledger[p] = [3]string{"", c, r}
	}
	rows.Close()
	rows, err = env.DB("timeexpense").Query(ctx, `SELECT project_id::text, sum(hours)::text FROM time_entries WHERE ext_system = 'chaos' GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var p, hrs string
		if err := rows.Scan(&p, &hrs); err != nil {
			t.Fatal(err)
		}
		l := ledger[p]
		l[0] = hrs
		ledger[p] = l
	}
	rows.Close()
	rows, err = env.DB("project").Query(ctx, `SELECT project_id::text, actual_hours::text, actual_cost::text, actual_revenue::text FROM project_actuals`)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for rows.Next() {
		var p string
		var a [3]string
		if err := rows.Scan(&p, &a[0], &a[1], &a[2]); err != nil {
			t.Fatal(err)
		}
		l := ledger[p]
		for i := range a {
			if rat(a[i]).Cmp(rat(l[i])) != 0 {
				t.Errorf("chaos gate: project %s actuals (hours, cost, revenue) %v, ledger and time & expense say %v", p, a, l)
				break
			}
		}
		seen++
	}
	rows.Close()
	if seen != len(ledger) {
		t.Errorf("chaos gate: project actuals for %d projects, the ledger has %d", seen, len(ledger))
	}

	checkStreamsDelivered(t, env)
	g.exceptions = checkExceptions(t, env)

	// Accept → posted: when time & expense stored the entry, when billing posted it.
	acc := acceptedAt(t, env, entryIDs(t, env))
	pat := postedAt(t, env, entryIDs(t, env))
	for id, a := range acc {
		if p, ok := pat[id]; ok {
			g.latency = append(g.latency, p.Sub(a))
		}
	}
	sort.Slice(g.latency, func(i, j int) bool { return g.latency[i] < g.latency[j] })
	return g
}

// entryIDs returns the ids of the run's time entries.
func entryIDs(t *testing.T, env *harness.Env) []string {
	t.Helper()
	rows, err := env.DB("timeexpense").Query(context.Background(), `SELECT id::text FROM time_entries WHERE ext_system = 'chaos'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// checkStreamsDelivered checks every consumer group of every stream of the Env: nothing pending
// (PEL empty) and nothing undelivered (its last delivered id is the stream's last id).
func checkStreamsDelivered(t *testing.T, env *harness.Env) {
	t.Helper()
	ctx := context.Background()
	rdb, prefix := env.Redis()
	keys, err := rdb.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	groups := 0
	for _, k := range keys {
		if typ, _ := rdb.Type(ctx, k).Result(); typ != "stream" {
			continue
		}
		info, err := rdb.XInfoStream(ctx, k).Result()
		if err != nil {
			t.Fatalf("chaos gate: XINFO STREAM %s: %v", k, err)
		}
		gs, err := rdb.XInfoGroups(ctx, k).Result()
		if err != nil {
			t.Fatalf("chaos gate: XINFO GROUPS %s: %v", k, err)
		}
		for _, g := range gs {
			groups++
			if g.Pending != 0 || idLess(g.LastDeliveredID, info.LastGeneratedID) {
				t.Errorf("chaos gate: group %s of %s: %d pending, last delivered %s of %s (lag %d)", g.Name, k, g.Pending,
					g.LastDeliveredID, info.LastGeneratedID, g.Lag)
			}
		}
	}
	if groups == 0 {
		t.Errorf("chaos gate: no consumer groups under %s*", prefix)
	}
}

// idLess compares two stream entry ids ("ms-seq").
func idLess(a, b string) bool {
	am, as, _ := strings.Cut(a, "-")
	bm, bs, _ := strings.Cut(b, "-")
	ami, _ := strconv.ParseUint(am, 10, 64)
	bmi, _ := strconv.ParseUint(bm, 10, 64)
	if ami != bmi {
		return ami < bmi
	}
	asi, _ := strconv.ParseUint(as, 10, 64)
	bsi, _ := strconv.ParseUint(bs, 10, 64)
	return asi < bsi
}

// checkExceptions lists every exception of every service and fails on any still open: after
// the drain, each one must have been resolved by the service itself (a broker loss repaired, a
// transient dead letter retried). It returns them grouped for the report.
func checkExceptions(t *testing.T, env *harness.Env) []string {
	t.Helper()
	var out []string
	for _, s := range harness.Services {
		rows, err := env.DB(s).Query(context.Background(), `SELECT kind, reason, status, count(*), string_agg(DISTINCT resolved_by, ',')
			FROM exceptions GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var kind, reason, status, by string
			var n int
			if err := rows.Scan(&kind, &reason, &status, &n, &by); err != nil {
				t.Fatal(err)
			}
			line := fmt.Sprintf("%s %s/%s %s ×%d", s, kind, reason, status, n)
			if by != "" {
				line += " by " + by
			}
			out = append(out, line)
			if status == "OPEN" {
				t.Errorf("chaos gate: %d open exceptions on %s: %s %s", n, s, kind, reason)
			}
		}
		rows.Close()
	}
	if len(out) == 0 {
		out = []string{"none"}
	}
	return out
}
