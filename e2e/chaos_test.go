package e2e

import (
	"context"
	"fmt"
	"math/big"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/accrue/accrue/e2e/internal/harness"
	"github.com/accrue/accrue/internal/platform/redistest"
)

// The fault harness (`make chaos`; a short seeded run in `make test`). Knobs:
//
//	CHAOS_SEED     the run's seed (default: the clock); printed, so a run can be repeated
//	CHAOS_ENTRIES  distinct time entries to send (default 3000; make chaos: 12000)
//	CHAOS_FAULTS   a number of faults, or a comma-separated list of fault kinds (default 4:
//	               kill-billing, postgres-immediate, redis-wipe, redis-aof-restart)
//
// Fault kinds: kill-billing, kill-timeexpense, kill-project (kill -9, then restart),
// postgres-immediate (pg_ctl stop -m immediate, then start), redis-aof-restart (the server
// restarts and reloads its append-only file), redis-wipe (FLUSHALL: the broker forgets
// everything). A number of faults ≥ 6 uses every kind once (in a seeded order, the wipe never
// first) and then more billing kills; fewer uses the wipe and the first kinds of the default list.

// chaosRecoveryTimeout bounds the wait for recovery after each fault (CHAOS_RECOVERY_TIMEOUT,
// seconds; default 240): a pipeline that has not recovered by then fails the run.
var chaosRecoveryTimeout = time.Duration(envInt("CHAOS_RECOVERY_TIMEOUT", 240)) * time.Second

var chaosKinds = []string{"kill-billing", "postgres-immediate", "redis-wipe", "redis-aof-restart", "kill-timeexpense", "kill-project"}

// chaosFaultPlan turns CHAOS_FAULTS into the faults to inject, in order.
func chaosFaultPlan(t *testing.T, spec string, rng *rand.Rand) []string {
	t.Helper()
	if spec == "" {
		spec = "4"
	}
	n, err := strconv.Atoi(spec)
	if err != nil {
		var plan []string
		for _, k := range strings.Split(spec, ",") {
			k = strings.TrimSpace(k)
			if !contains(chaosKinds, k) {
				t.Fatalf("chaos: unknown fault kind %q in CHAOS_FAULTS (kinds: %s)", k, strings.Join(chaosKinds, ", "))
			}
			plan = append(plan, k)
		}
		return plan
	}
	if n < 6 {
		plan := append([]string(nil), chaosKinds[:max(n, 1)]...)
		if !contains(plan, "redis-wipe") {
			plan[len(plan)-1] = "redis-wipe"
		}
		rng.Shuffle(len(plan), func(i, j int) { plan[i], plan[j] = plan[j], plan[i] })
		return plan
	}
	plan := append([]string(nil), chaosKinds...)
	for len(plan) < n {
		plan = append(plan, "kill-billing")
	}
	rng.Shuffle(len(plan), func(i, j int) { plan[i], plan[j] = plan[j], plan[i] })
	if plan[0] == "redis-wipe" { // let the pipeline carry some load before the broker forgets it
		plan[0], plan[1] = plan[1], plan[0]
	}
	return plan
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// faultResult is what one fault cost.
type faultResult struct {
	kind      string
	at        time.Duration // since the load started
	recovered time.Duration // fault → flowing again and the backlog drained (waitRecovered)
	note      string
}

// TestChaos drives steady time & expense load through the gateway (1 % duplicate deliveries)
// against the harness's own Postgres and Redis while it kills and restarts services, crashes
// Postgres, restarts Redis and wipes it once; then the correctness gate (chaosGate). It prints
// the recovery time after each fault, the time from the wipe to fully repaired, and the accept
// → posted percentiles under faults.
func TestChaos(t *testing.T) {
	pg, rs := privateServers(t)
	seed := int64(envInt("CHAOS_SEED", int(time.Now().UnixNano()%1_000_000)))
	entries := envInt("CHAOS_ENTRIES", 3000)
	rng := rand.New(rand.NewSource(seed))
	plan := chaosFaultPlan(t, os.Getenv("CHAOS_FAULTS"), rng)
	t.Logf("chaos: CHAOS_SEED=%d CHAOS_ENTRIES=%d CHAOS_FAULTS=%s", seed, entries, strings.Join(plan, ","))

	// A restarted service finds the entries its killed predecessor left pending at once.
	env := harness.Start(t, harness.WithEnvAll("ACCRUE_CONSUMER_CLAIM_MIN_IDLE", "2s"),
		harness.WithEnvAll("ACCRUE_LOG_LEVEL", "info"))
	for _, s := range harness.Services {
		env.DB(s) // the pools exist before the faults (DB fails the test when it cannot create one)
	}
	fx := setupChaos(t, env, 8, 40)
	deliveries, dups := chaosItems(entries, 0.01, fx, rng)

	// The load lasts about ten seconds per fault (at least 30 s); the faults are spread over it.
	const chunk = 20
	span := max(30*time.Second, time.Duration(len(plan))*10*time.Second)
	pace := span * chunk / time.Duration(len(deliveries))
	load := &chaosLoad{}
	token := env.Token("time:approve")
	loadDone := make(chan struct{})
	start := time.Now()
	go func() { defer close(loadDone); load.send(env, token, deliveries, chunk, 4, pace) }()
	t.Logf("chaos: %d deliveries (%d entries + %d duplicates) in calls of %d every %s over ~%s",
		len(deliveries), entries, dups, chunk, pace.Round(time.Millisecond), span.Round(time.Second))

	var results []faultResult
	var wipe wipeResult
	for i, kind := range plan {
		time.Sleep(time.Until(start.Add(span * time.Duration(i+1) / time.Duration(len(plan)+1))))
		at := time.Now()
		note := injectFault(t, env, pg, rs, kind)
		rec, ok := waitRecovered(env, at, time.Now(), loadDone, chaosRecoveryTimeout)
		if !ok {
			t.Fatalf("chaos: %s at %s: the pipeline did not recover within %s (%s)", kind, at.Sub(start).Round(time.Millisecond),
				chaosRecoveryTimeout, drainState(env, at))
		}
		r := faultResult{kind: kind, at: at.Sub(start), recovered: rec, note: note}
		if kind == "redis-wipe" {
			wipe = waitRepaired(t, env, at)
			r.note = fmt.Sprintf("fully repaired after %s (%s)", wipe.repaired.Round(time.Millisecond), wipe)
		}
		results = append(results, r)
		t.Logf("chaos: fault %d/%d %-18s at %6s: recovered in %s %s", i+1, len(plan), kind, r.at.Round(time.Millisecond),
			rec.Round(time.Millisecond), r.note)
	}
	<-loadDone
	if _, ok := waitDrained(env, time.Now(), chaosRecoveryTimeout); !ok {
		t.Fatalf("chaos: the backlog did not drain within %s after the load (%s)", chaosRecoveryTimeout, drainState(env, time.Now()))
	}

	g := chaosGate(t, env, fx, deliveries, load)
	t.Logf("chaos: load: %d distinct entries accepted, %d duplicate answers (%d duplicate deliveries sent), %d rejected, %d calls retried",
		load.accepted, load.duplicates, dups, load.rejected, load.retried)
	t.Logf("chaos: gate: %s", g)
	t.Logf("chaos: accept → posted under faults over %d entries: p50 %.0f ms, p99 %.0f ms, max %.0f ms",
		len(g.latency), ms(g.latency.pct(0.50)), ms(g.latency.pct(0.99)), ms(g.latency.pct(1)))
	for _, r := range results {
		t.Logf("chaos: recovery %-18s %8s %s", r.kind, r.recovered.Round(time.Millisecond), r.note)
	}
	t.Logf("chaos: summary: seed %d, %d entries, %d faults, wipe → fully repaired %s, p99 %.0f ms",
		seed, entries, len(plan), wipe.repaired.Round(time.Millisecond), ms(g.latency.pct(0.99)))
}

// injectFault injects one fault and brings the faulty component back; it returns a note.
func injectFault(t *testing.T, env *harness.Env, pg *pgServer, rs *redistest.Server, kind string) string {
	t.Helper()
	switch kind {
	case "kill-billing", "kill-timeexpense", "kill-project":
		name := strings.TrimPrefix(kind, "kill-")
		inFlight := awaitInFlight(env, name)
		env.Kill(name, syscall.SIGKILL)
		begin := time.Now()
		env.Restart(name)
		return fmt.Sprintf("(kill -9 with %d events in flight; ready again after %s)", inFlight, time.Since(begin).Round(time.Millisecond))
	case "postgres-immediate":
		inFlight := awaitInFlight(env, "billing")
		pg.StopImmediate()
		begin := time.Now()
		pg.Start()
		return fmt.Sprintf("(pg_ctl stop -m immediate with %d events in billing's hands; accepting again after %s)", inFlight,
			time.Since(begin).Round(time.Millisecond))
	case "redis-aof-restart":
		begin := time.Now()
		rs.Restart()
		return fmt.Sprintf("(restarted, AOF reloaded, answering after %s)", time.Since(begin).Round(time.Millisecond))
	case "redis-wipe":
		rdb, _ := env.Redis()
		if err := rdb.FlushAll(context.Background()).Err(); err != nil {
			t.Fatalf("chaos: FLUSHALL: %v", err)
		}
		return "(FLUSHALL)"
	}
	t.Fatalf("chaos: unknown fault %q", kind)
	return ""
}

// chaosInput is the stream and group whose pending entries are the events a service is applying.
var chaosInput = map[string][2]string{
	"billing":     {"timeexpense.events", "billing"},
	"timeexpense": {"billing.events", "timeexpense"},
	"project":     {"billing.events", "project"},
}

// awaitInFlight waits (up to 3 s) until the service holds delivered, unacknowledged events, so
// that the fault lands in the middle of an apply, and returns how many it held (0: it was idle).
func awaitInFlight(env *harness.Env, service string) int64 {
	rdb, prefix := env.Redis()
	in := chaosInput[service]
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if p, err := rdb.XPending(context.Background(), prefix+in[0], in[1]).Result(); err == nil && p.Count > 0 {
			return p.Count
		}
		time.Sleep(time.Millisecond)
	}
	return 0
}

// waitRecovered waits until the pipeline flows again after a fault at `at` whose component was
// back at `back`: every entry accepted before the fault is posted (drained), and an entry
// accepted after `back` is posted too (unless the load has ended). It returns how long after the
// fault that happened.
func waitRecovered(env *harness.Env, at, back time.Time, loadDone <-chan struct{}, timeout time.Duration) (time.Duration, bool) {
	for {
		if drained(env, at) && (isDone(loadDone) || postedSince(env, back)) {
			return time.Since(at), true
		}
		if time.Since(at) > timeout {
			return 0, false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func isDone(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// postedSince reports whether an entry accepted after `back` is POSTED in time & expense.
func postedSince(env *harness.Env, back time.Time) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var ok bool
	err := env.DB("timeexpense").QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM time_entries WHERE ext_system = 'chaos'
		AND created_at > $1 AND posting_status = 'POSTED')`, back).Scan(&ok)
	return err == nil && ok
}

// waitDrained waits until every entry accepted before at is POSTED in time & expense (billing
// posted it and the result came back) and the project service's actual hours cover all of them;
// it returns how long after at that happened. Queries that fail (Postgres restarting) count as
// not drained yet.
func waitDrained(env *harness.Env, at time.Time, timeout time.Duration) (time.Duration, bool) {
	for {
		if drained(env, at) {
			return time.Since(at), true
		}
		if time.Since(at) > timeout {
			return 0, false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func drained(env *harness.Env, at time.Time) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var open int
	var hours, actual string
	if err := env.DB("timeexpense").QueryRow(ctx, `SELECT count(*) FILTER (WHERE posting_status <> 'POSTED'), COALESCE(sum(hours), 0)::text
		FROM time_entries WHERE ext_system = 'chaos' AND created_at <= $1`, at).Scan(&open, &hours); err != nil || open > 0 {
		return false
	}
	if err := env.DB("project").QueryRow(ctx, `SELECT COALESCE(sum(actual_hours), 0)::text FROM project_actuals`).Scan(&actual); err != nil {
		return false
	}
	h, _ := new(big.Rat).SetString(hours)
	a, _ := new(big.Rat).SetString(actual)
	return h != nil && a != nil && a.Cmp(h) >= 0
}

// drainState says what is still missing (for a failure message).
func drainState(env *harness.Env, at time.Time) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var st string
	err := env.DB("timeexpense").QueryRow(ctx, `SELECT string_agg(posting_status || ' ' || n, ', ') FROM (SELECT posting_status, count(*) n
		FROM time_entries WHERE ext_system = 'chaos' AND created_at <= $1 GROUP BY 1) x`, at).Scan(&st)
	var actual string
	err2 := env.DB("project").QueryRow(ctx, `SELECT COALESCE(sum(actual_hours), 0)::text FROM project_actuals`).Scan(&actual)
	return fmt.Sprintf("time & expense: %s (%v); project actual hours %s (%v)", st, err, actual, err2)
}
