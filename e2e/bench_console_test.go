package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"testing"
	"time"

	"github.com/accrue/accrue/e2e/internal/harness"
)

// consoleBenchExceptions is how many open exceptions the console benchmark seeds (spread evenly
// over the five services); ACCRUE_BENCH_CONSOLE_EXCEPTIONS scales it.
var consoleBenchExceptions = envInt("ACCRUE_BENCH_CONSOLE_EXCEPTIONS", 10000)

// BenchmarkConsoleAPI10kExceptions: with 10,000 open exceptions seeded directly in the five
// services' databases, the console's API calls (the merged exception list: first page, next page,
// a reason filter, an age filter, grouped by key; KPIs; streams; a trace) are timed one after the
// other, 30 rounds. Reports p50 and p99 latency (the target is p99 ≤ 200 ms) and the calls/s
// beside the same run's pgbench single-row insert and XADD ceilings.
func BenchmarkConsoleAPI10kExceptions(b *testing.B) {
	env := harness.Start(b)
	per := consoleBenchExceptions / len(harness.Services)
	for _, s := range harness.Services {
		if _, err := env.DB(s).Exec(context.Background(), `INSERT INTO exceptions
			(id, kind, reason, message, entity_type, entity_id, correlation_id, dedupe_key, status, attempts, created_at, updated_at)
			SELECT gen_random_uuid(), 'bench.seeded', (ARRAY['RATE_MISSING_FOR_DATE','BILLING_UNAVAILABLE','PERIOD_CLOSED','TAX_PROFILE_MISSING','EVENT_INVALID'])[1 + i % 5],
				'seeded for the console benchmark', 'entity', 'e-' || (i % 700), 'corr-' || i, $1 || ':' || i, 'OPEN', 1,
				now() - make_interval(secs => i * 7), now() - make_interval(secs => i * 7)
			FROM generate_series(1, $2) AS i`, s, per); err != nil {
			b.Fatal(err)
		}
	}
	if n := env.Count("billing", `SELECT count(*) FROM exceptions WHERE status = 'OPEN'`); n < per {
		b.Fatalf("billing has %d open exceptions, want at least %d", n, per)
	}
	pgCeil, redisCeil := ceilings(b, env)
	token := env.Token("ops:read")
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) (time.Duration, []byte) {
		req, _ := http.NewRequest(http.MethodGet, env.URL(path), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatalf("GET %s: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		return took, body
	}
	// The first page must be the 50 newest of all 10,000, merged across services.
	_, body := get("/v1/ops/console/exceptions?page_size=50")
	var first struct {
		Exceptions []struct {
			Service string `json:"service"`
		} `json:"exceptions"`
		Next string `json:"next_page_token"`
	}
	if err := json.Unmarshal(body, &first); err != nil || len(first.Exceptions) != 50 || first.Next == "" {
		b.Fatalf("first page: %d exceptions, next %q (%v)", len(first.Exceptions), first.Next, err)
	}
	services := map[string]int{}
	for _, e := range first.Exceptions {
		services[e.Service]++
	}
	if len(services) != len(harness.Services) {
		b.Fatalf("first page from %v, want all five services (seeded with the same times)", services)
	}
	calls := []string{
		"/v1/ops/console/exceptions?page_size=50",
		"/v1/ops/console/exceptions?page_size=50&page_token=" + url.QueryEscape(first.Next),
		"/v1/ops/console/exceptions?page_size=50&reason=PERIOD_CLOSED&service=billing,timeexpense",
		"/v1/ops/console/exceptions?page_size=50&older_than=6h",
		"/v1/ops/console/exceptions?page_size=200&group_by=key",
		"/v1/ops/console/kpis",
		"/v1/ops/console/streams",
		"/v1/ops/console/trace?key=e-42",
	}
	const rounds = 30
	var lat []time.Duration
	b.ResetTimer()
	start := time.Now()
	for range rounds {
		for _, c := range calls {
			d, _ := get(c)
			lat = append(lat, d)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
	p50, p99 := p(0.50), p(0.99)
	rate := float64(len(lat)) / elapsed.Seconds()
	b.ReportMetric(float64(consoleBenchExceptions), "open-exceptions")
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(rate, "console-calls/s")
	reportCeilings(b, pgCeil, redisCeil, rate, "console-call")
	if p99 > 200*time.Millisecond {
		b.Errorf("p99 %s over %d console calls, want ≤ 200ms", p99, len(lat))
	}
	fmt.Printf("console API with %d open exceptions: p50 %s, p99 %s over %d calls\n", consoleBenchExceptions, p50, p99, len(lat))
}
