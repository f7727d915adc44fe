package e2e

import (
	"context"
	"fmt"
	"math/rand"
	"strconv"
	"testing"
	"time"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
)

// Scale-out shape: 20 projects and 20 consultants; 1 h entries from June 2, 2026, at most 15 per
// resource and day. ACCRUE_BENCH_SCALE_ENTRIES sets the entries per run.
const (
	soProjects  = 20
	soResources = 20
	soPerDay    = 15
)

var soEntries = envInt("ACCRUE_BENCH_SCALE_ENTRIES", 40000)

// BenchmarkScaleOut posts the same approved-entry load (ACCRUE_BENCH_SCALE_ENTRIES, default
// 40,000, in calls of 1,000 from 4 callers) through one billing instance, then through three on
// one consumer group, each on a fresh Accrue, and reports entries/s end to end (first call →
// last posting) and billing's own posting rate (first → last posting) for each, beside the same
// run's ceilings (pgbench single-row inserts, redis-benchmark XADD). The 3-instance run also
// reports its speed-up over the 1-instance run. Both fail unless every accepted entry is posted
// exactly once and the ledger balances. On a 2-core machine the instances share the same two
// cores with Postgres, Redis and the other services: expect no gain, and read the figure as the
// cost (or not) of coordination, not as the scaling of a real cluster.
func BenchmarkScaleOut(b *testing.B) {
	var oneInstance float64
	for _, n := range []int{1, 3} {
		b.Run("billing="+strconv.Itoa(n), func(b *testing.B) {
			e2e, posting := scaleOutRun(b, n)
			b.ReportMetric(e2e, "e2e-entries/s")
			b.ReportMetric(posting, "posting-entries/s")
			if n == 1 {
				oneInstance = e2e
			} else if oneInstance > 0 {
				b.ReportMetric(e2e/oneInstance, "speedup-vs-1-instance")
			}
			b.ReportMetric(0, "ns/op")
		})
	}
}

// scaleOutRun runs the load on a fresh Accrue with n billing instances and returns entries/s end
// to end and billing's posting rate.
func scaleOutRun(b *testing.B, n int) (e2eRate, postingRate float64) {
	env := harness.Start(b, harness.WithInstances("billing", n), harness.WithEnvAll("ACCRUE_LOG_LEVEL", "warn"),
		harness.WithEnvAll("ACCRUE_DB_MAX_CONNS", "8"))
	le := createLegalEntity(b, env, "US01", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT)
	var projects []meProject
	for i := range soProjects {
		fx := newPostingProject(b, env, le, fmt.Sprintf("so%d", i))
		projects = append(projects, meProject{id: fx.projectID, task: fx.billable})
	}
	var resources []string
	for i := range soResources {
		resources = append(resources, newPostingResource(b, env, le, fmt.Sprintf("Scale Consultant %d", i), "CONSULTANT", consultantCostRate))
	}
	if capacity := soResources * soPerDay * 200; soEntries > capacity {
		b.Fatalf("ACCRUE_BENCH_SCALE_ENTRIES=%d: at most %d", soEntries, capacity)
	}
	rng := rand.New(rand.NewSource(int64(n)))
	items := make([]meItem, soEntries)
	for i := range items {
		slot := i / soPerDay // soPerDay entries per resource-day, resource after resource
		d := time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC).AddDate(0, 0, slot/soResources)
		items[i] = meItem{ext: fmt.Sprintf("so%d-%d", n, i), resource: resources[slot%soResources],
			project: projects[rng.Intn(len(projects))], date: d.Format(time.DateOnly), hours: "1"}
	}
	rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	pgCeil, redisCeil := ceilings(b, env)
	billingCPU := func() time.Duration {
		var cpu time.Duration
		for i := 1; i <= n; i++ {
			name := "billing"
			if i > 1 {
				name += "-" + strconv.Itoa(i)
			}
			cpu += env.CPUTime(name)
		}
		return cpu
	}
	cpuBefore := billingCPU()

	start := time.Now()
	res := sendImports(b, env, env.Token("time:approve"), items, meChunk, meSenders, 0)
	waitPosted(b, env, soEntries, 10*time.Minute)
	var first, last time.Time
	if err := env.DB("billing").QueryRow(context.Background(), `SELECT min(updated_at), max(updated_at) FROM posting_results`).Scan(&first, &last); err != nil {
		b.Fatal(err)
	}
	journal := env.Count("billing", `SELECT count(*) FROM journal_entries`)
	distinct := env.Count("billing", `SELECT count(DISTINCT source_id) FROM journal_entries`)
	unbalanced := env.Count("billing", `SELECT count(*) FROM (SELECT entry_id FROM journal_lines GROUP BY entry_id HAVING sum(debit) <> sum(credit)) x`)
	if res.accepted != soEntries || res.rejected != 0 || journal != soEntries || distinct != soEntries || unbalanced != 0 {
		b.Fatalf("correctness gate: accepted %d (want %d), rejected %d, journal %d, distinct sources %d, unbalanced %d",
			res.accepted, soEntries, res.rejected, journal, distinct, unbalanced)
	}
	e2eRate = float64(soEntries) / last.Sub(start).Seconds()
	postingRate = float64(soEntries) / last.Sub(first).Seconds()
	reportCeilings(b, pgCeil, redisCeil, e2eRate, "e2e-entries")
	cpu := billingCPU() - cpuBefore
	b.ReportMetric(float64(cpu.Microseconds())/float64(soEntries), "billing-cpu-us/entry")
	b.Logf("%d billing instance(s): %d entries, %.0f entries/s end to end, billing posting %.0f entries/s, billing CPU %s",
		n, soEntries, e2eRate, postingRate, cpu.Round(time.Millisecond))
	return e2eRate, postingRate
}
