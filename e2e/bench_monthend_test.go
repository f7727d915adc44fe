package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accrue/accrue/e2e/internal/harness"
)

// Month-end load shape. ACCRUE_BENCH_ENTRIES scales the file down for a quick look.
const (
	meProjects  = 2000
	meResources = 1000
	meDupRate   = 0.01
	meChunk     = 1000 // items per ImportApprovedEntries call
	meSenders   = 4    // concurrent callers
)

var meEntries = envInt("ACCRUE_BENCH_ENTRIES", 100000)

func envInt(key string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(key)); err == nil && v > 0 {
		return v
	}
	return def
}

type meProject struct{ id, task string }

// setupMonthEnd creates meProjects active T&M projects (CONSULTANT billed at 100.00) and
// meResources consultants costing 40.00/h, and waits until billing and time & expense hold the
// replicas they need.
func setupMonthEnd(tb testing.TB, env *harness.Env) ([]meProject, []string) {
	setupLegalEntity(tb, env)
	token := env.Token("projects:write")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for c := 0; c < 8; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				body := fmt.Sprintf(`{"crm_system":"bench","opportunity_id":"ME-%d","version":1,"name":"Month-end %d",
 "account":{"account_id":"MEA-%d","name":"Client %d","tax_profile":{"tax_id":"T","tax_region":"US-NY"}},
 "legal_entity_code":"US01","amount":{"amount":"500000.00","currency_code":"USD"},
 "start_date":{"year":2026,"month":1,"day":1},"end_date":{"year":2026,"month":12,"day":31},
 "service_lines":[{"line_key":"L1","service_line":"CONSULTING","amount":{"amount":"500000.00","currency_code":"USD"},
   "billing_method":"BILLING_METHOD_TIME_AND_MATERIALS","revenue_method":"REVENUE_METHOD_AS_DELIVERED",
   "rate_card":[{"role":"CONSULTANT","bill_rate":{"amount":"100.00","currency_code":"USD"},"effective_from":{"year":2026,"month":1,"day":1}}]}]}`, i, i, i, i)
				req, _ := http.NewRequest(http.MethodPost, env.URL("/v1/opportunities:convert"), strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := client.Do(req)
				if err != nil {
					tb.Errorf("convert %d: %v", i, err)
					continue
				}
				if resp.StatusCode != http.StatusCreated {
					tb.Errorf("convert %d: %d", i, resp.StatusCode)
				}
				resp.Body.Close()
			}
		}()
	}
	for i := 0; i < meProjects; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()

	rtoken := env.Token("resources:write", "costrates:write")
	var resources []string
	for i := 0; i < meResources; i++ {
		st, _, body := env.Do(http.MethodPost, "/v1/resources:upsert", fmt.Sprintf(`{"kind":"RESOURCE_KIND_EMPLOYEE","name":"Consultant %d",
			"email":"c%d@example.com","home_legal_entity_code":"US01","role":"CONSULTANT","weekly_capacity_hours":"40",
			"external_references":[{"system":"bench","object_type":"Worker","external_id":"W%d"}]}`, i, i, i),
			map[string]string{"Authorization": "Bearer " + rtoken})
		var r struct {
			Resource struct {
				ID string `json:"resource_id"`
			} `json:"resource"`
		}
		if st >= 300 || json.Unmarshal(body, &r) != nil {
			tb.Fatalf("resource %d: %d %s", i, st, body)
		}
		resources = append(resources, r.Resource.ID)
		st, _, body = env.Do(http.MethodPost, "/v1/resources/"+r.Resource.ID+"/cost-rates",
			`{"rate":{"amount":"40.00","currency_code":"USD"},"effective_from":{"year":2026,"month":1,"day":1}}`,
			map[string]string{"Authorization": "Bearer " + rtoken})
		if st >= 300 {
			tb.Fatalf("cost rate %d: %d %s", i, st, body)
		}
	}
	rows, err := env.DB("project").Query(context.Background(), `SELECT p.id::text, (SELECT t.id::text FROM tasks t WHERE t.project_id = p.id
		AND t.billable AND t.parent_task_id IS NOT NULL ORDER BY t.wbs_code LIMIT 1) FROM projects p WHERE p.status = 'ACTIVE' ORDER BY p.id`)
	if err != nil {
		tb.Fatal(err)
	}
	var projects []meProject
	for rows.Next() {
		var p meProject
		if err := rows.Scan(&p.id, &p.task); err != nil {
			tb.Fatal(err)
		}
		projects = append(projects, p)
	}
	rows.Close()
	if len(projects) != meProjects {
		tb.Fatalf("active projects = %d, want %d", len(projects), meProjects)
	}
	harness.Eventually(tb, 2*time.Minute, 250*time.Millisecond, func() error {
		rates := env.Count("billing", `SELECT count(DISTINCT resource_id) FROM cost_rate_replicas`)
		bp := env.Count("billing", `SELECT count(*) FROM project_replicas WHERE contract_id IS NOT NULL`)
		tp := env.Count("timeexpense", `SELECT count(*) FROM projects WHERE status = 'ACTIVE'`)
		tr := env.Count("timeexpense", `SELECT count(*) FROM resources`)
		if rates != meResources || bp != meProjects || tp != meProjects || tr != meResources {
			return fmt.Errorf("replicas: billing rates %d projects %d, time & expense projects %d resources %d", rates, bp, tp, tr)
		}
		return nil
	})
	return projects, resources
}

type meItem struct {
	ext      string
	resource string
	project  meProject
	date     string
	hours    string
}

func (it meItem) json() string {
	d := strings.Split(it.date, "-")
	return fmt.Sprintf(`{"time":{"resource_id":"%s","project_id":"%s","task_id":"%s","work_date":{"year":%s,"month":%s,"day":%s},`+
		`"hours":"%s","billable":true,"external_reference":{"system":"bench","object_type":"TimeEntry","external_id":"%s"}}}`,
		it.resource, it.project.id, it.project.task, d[0], strings.TrimLeft(d[1], "0"), strings.TrimLeft(d[2], "0"), it.hours, it.ext)
}

// monthEndItems spreads n entries over the working days of June 2026 and the resources (at most
// 8 h per resource and day), skewing projects: 20 % of them get 80 % of the entries.
func monthEndItems(run string, n int, projects []meProject, resources []string, rng *rand.Rand) []meItem {
	var days []string
	for d := 1; d <= 30; d++ {
		t := time.Date(2026, 6, d, 0, 0, 0, 0, time.UTC)
		if t.Weekday() != time.Saturday && t.Weekday() != time.Sunday {
			days = append(days, t.Format(time.DateOnly))
		}
	}
	hot := len(projects) / 5
	items := make([]meItem, n)
	for i := range items {
		slot := i % (len(resources) * len(days)) // each resource-day gets entries in turn
		p := projects[hot+rng.Intn(len(projects)-hot)]
		if rng.Float64() < 0.8 {
			p = projects[rng.Intn(hot)]
		}
		items[i] = meItem{ext: fmt.Sprintf("%s-%d", run, i), resource: resources[slot%len(resources)], project: p,
			date: days[slot/len(resources)], hours: []string{"1.5", "2", "2.25"}[i%3]}
	}
	return items
}

// BenchmarkMonthEnd sends a month-end file of 100,000 approved time entries over 2,000 projects
// (20 % of the projects get 80 % of the entries) with 1 % duplicate deliveries through the batch
// API, and measures until every entry is posted: accepted/s, end-to-end entries/s (first accept
// → last posted), Postgres rows and commits per entry, peak RSS per process; then the accept →
// posted latency at a sustained 1,000 entries/s. It fails unless accepted = posted, nothing is
// posted twice and the ledger balances. Targets on 2 cores: ≥ 5,000 entries/s end to end, p99
// ≤ 1 s at 1,000/s, ≤ 150 MB RSS per process.
func BenchmarkMonthEnd(b *testing.B) {
	env := harness.Start(b, harness.WithEnvAll("ACCRUE_LOG_LEVEL", "warn"), harness.WithEnvAll("ACCRUE_DB_MAX_CONNS", "8"),
		harness.WithEnvAll("ACCRUE_PPROF", "1"))
	projects, resources := setupMonthEnd(b, env)
	token := env.Token("time:approve")
	rng := rand.New(rand.NewSource(1))

	pgCeil, redisCeil := ceilings(b, env)
	items := monthEndItems("me", meEntries, projects, resources, rng)
	dups := make([]meItem, int(meDupRate*float64(meEntries)))
	for i := range dups {
		dups[i] = items[rng.Intn(len(items))]
	}
	all := append(append([]meItem(nil), items...), dups...)
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })

	before := stats(b, env)
	// ACCRUE_BENCH_PROFILE=<dir> keeps CPU profiles of billing and time & expense for the run.
	if dir := os.Getenv("ACCRUE_BENCH_PROFILE"); dir != "" {
		for _, p := range []string{"billing", "timeexpense"} {
			go func() {
				resp, err := http.Get("http://" + env.MetricsAddr(p) + "/debug/pprof/profile?seconds=15")
				if err != nil {
					return
				}
				defer resp.Body.Close()
				f, err := os.Create(dir + "/" + p + ".prof")
				if err == nil {
					_, _ = io.Copy(f, resp.Body)
					f.Close()
				}
			}()
		}
	}
	start := time.Now()
	res := sendImports(b, env, token, all, meChunk, meSenders, 0)
	acceptSecs := time.Since(start).Seconds()
	waitPosted(b, env, meEntries, 10*time.Minute)
	var lastPosted time.Time
	if err := env.DB("billing").QueryRow(context.Background(), `SELECT max(updated_at) FROM posting_results`).Scan(&lastPosted); err != nil {
		b.Fatal(err)
	}
	e2eSecs := lastPosted.Sub(start).Seconds()
	after := stats(b, env)

	// Correctness gate.
	posted := env.Count("billing", `SELECT count(*) FROM posting_results WHERE outcome = 'POSTED'`)
	journal := env.Count("billing", `SELECT count(*) FROM journal_entries`)
	distinct := env.Count("billing", `SELECT count(DISTINCT (source_type, source_id, source_version)) FROM journal_entries`)
	unbalanced := env.Count("billing", `SELECT count(*) FROM (SELECT entry_id FROM journal_lines GROUP BY entry_id HAVING sum(debit) <> sum(credit)) x`)
	var tbDebit, tbCredit string
	if err := env.DB("billing").QueryRow(context.Background(), `SELECT sum(debit)::text, sum(credit)::text FROM account_balances`).Scan(&tbDebit, &tbCredit); err != nil {
		b.Fatal(err)
	}
	if res.accepted != meEntries || res.duplicates != len(dups) || res.rejected != 0 || posted != meEntries || journal != meEntries ||
		distinct != meEntries || unbalanced != 0 || tbDebit != tbCredit {
		b.Fatalf("correctness gate: accepted %d (want %d), duplicates %d (want %d), rejected %d, posted %d, journal %d, distinct %d, unbalanced %d, trial balance %s/%s",
			res.accepted, meEntries, res.duplicates, len(dups), res.rejected, posted, journal, distinct, unbalanced, tbDebit, tbCredit)
	}
	var rows, commits int64
	for s, a := range after {
		rows += a.rows - before[s].rows
		commits += a.commits - before[s].commits
	}

	// Sustained 1,000 entries/s: 100-entry calls every 100 ms for 20 s.
	steady := monthEndItems("steady", 20000, projects, resources, rng)
	for i := range steady {
		steady[i].date = strings.Replace(steady[i].date, "2026-06", "2026-07", 1) // keep daily totals ≤ 24 h
	}
	sres := sendImports(b, env, token, steady, 100, 2, 100*time.Millisecond)
	waitPosted(b, env, meEntries+len(steady), 5*time.Minute)
	ids := make([]string, 0, len(sres.acceptedAt))
	for id := range sres.acceptedAt {
		ids = append(ids, id)
	}
	// Accepted: when time & expense stored the entry; posted: when billing wrote its result.
	pat := postedAt(b, env, ids)
	acc := acceptedAt(b, env, ids)
	var lat latencies
	for _, id := range ids {
		if p, ok := pat[id]; ok {
			lat = append(lat, p.Sub(acc[id]))
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })

	b.ReportMetric(float64(meEntries)/acceptSecs, "accepted/s")
	b.ReportMetric(float64(meEntries)/e2eSecs, "e2e-entries/s")
	b.ReportMetric(ms(lat.pct(0.50)), "p50-accept-to-posted-ms")
	b.ReportMetric(ms(lat.pct(0.99)), "p99-accept-to-posted-ms")
	b.ReportMetric(float64(rows)/float64(meEntries), "pg-rows/entry")
	b.ReportMetric(float64(commits)/float64(meEntries), "pg-commits/entry")
	reportCeilings(b, pgCeil, redisCeil, float64(meEntries)/e2eSecs, "e2e-entries")
	b.ReportMetric(0, "ns/op")
	for _, p := range []string{"gateway", "customer", "project", "resource", "timeexpense", "billing"} {
		b.ReportMetric(env.PeakRSSMiB(p), "rss-MiB-"+p)
	}
	b.Logf("month-end: %d entries (+%d duplicate deliveries) accepted in %.1fs, all posted %.1fs after the first accept; "+
		"steady 1,000/s: p50 %.0f ms p99 %.0f ms over %d entries", meEntries, len(dups), acceptSecs, e2eSecs,
		ms(lat.pct(0.5)), ms(lat.pct(0.99)), len(lat))
}
