package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/accrue/accrue/e2e/internal/harness"
)

// latencies summarises request durations.
type latencies []time.Duration

func (l latencies) pct(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := append(latencies(nil), l...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(p * float64(len(s)-1))
	return s[i]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// opportunityJSON is a closed-won deal with its own account and parent account, a T&M line and a
// fixed-fee training line.
func opportunityJSON(id string) string {
	return fmt.Sprintf(`{"crm_system":"salesforce","opportunity_id":"OPP-%[1]s","version":1,"name":"Deal %[1]s",
 "account":{"account_id":"ACC-%[1]s","name":"Account %[1]s","currency_code":"USD","tax_profile":{"tax_id":"T-%[1]s","tax_region":"US-CA"}},
 "parent_accounts":[{"account_id":"PAR-%[1]s","name":"Parent %[1]s"}],
 "legal_entity_code":"US01","amount":{"amount":"150000.00","currency_code":"USD"},
 "start_date":{"year":2026,"month":12,"day":1},"end_date":{"year":2027,"month":5,"day":31},
 "manager_id":"W-1","manager_name":"PM",
 "service_lines":[
  {"line_key":"L1","service_line":"IMPLEMENTATION","amount":{"amount":"120000.00","currency_code":"USD"},"budget_hours":"800",
   "billing_method":"BILLING_METHOD_TIME_AND_MATERIALS","revenue_method":"REVENUE_METHOD_AS_DELIVERED",
   "rate_card":[{"role":"CONSULTANT","bill_rate":{"amount":"150.00","currency_code":"USD"},"effective_from":{"year":2026,"month":1,"day":1}}]},
  {"line_key":"L2","service_line":"TRAINING","amount":{"amount":"30000.00","currency_code":"USD"},
   "billing_method":"BILLING_METHOD_FIXED_FEE","revenue_method":"REVENUE_METHOD_STRAIGHT_LINE",
   "service_start":{"year":2027,"month":3,"day":1},"service_end":{"year":2027,"month":5,"day":31}}]}`, id)
}

// setupLegalEntity creates US01 and waits until the project service's replica knows it.
func setupLegalEntity(tb testing.TB, env *harness.Env) {
	st, _, body := env.Do(http.MethodPost, "/v1/legal-entities", `{"code":"US01","name":"Accrue US","functional_currency":"USD",
		"country_code":"US","closed_period_policy":"CLOSED_PERIOD_POLICY_REJECT"}`, env.Bearer([]string{"billing:write"}))
	if st != http.StatusCreated && st != http.StatusOK {
		tb.Fatalf("legal entity: %d %s", st, body)
	}
	harness.Eventually(tb, 10*time.Second, 50*time.Millisecond, func() error {
		if env.Count("project", `SELECT count(*) FROM legal_entities WHERE code = 'US01'`) != 1 {
			return fmt.Errorf("legal entity not replicated yet")
		}
		return nil
	})
}

// convertOnce converts a fresh opportunity and returns how long the call took.
func convertOnce(tb testing.TB, client *http.Client, env *harness.Env, token, id string) (time.Duration, bool) {
	req, _ := http.NewRequest(http.MethodPost, env.URL("/v1/opportunities:convert"), bytes.NewBufferString(opportunityJSON(id)))
	req.Header.Set("Authorization", "Bearer "+token)
	t0 := time.Now()
	resp, err := client.Do(req)
	d := time.Since(t0)
	if err != nil {
		tb.Errorf("convert: %v", err)
		return d, false
	}
	if resp.StatusCode != http.StatusCreated {
		tb.Errorf("convert: status %d", resp.StatusCode)
	}
	resp.Body.Close()
	return d, true
}

// convertLoad sends n conversions of fresh opportunities from clients concurrent clients and
// returns the latency of each.
func convertLoad(tb testing.TB, env *harness.Env, token, run string, n, clients int) (latencies, time.Duration) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var mu sync.Mutex
	var out latencies
	jobs := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if d, ok := convertOnce(tb, client, env, token, fmt.Sprintf("%s-%d", run, i)); ok {
					mu.Lock()
					out = append(out, d)
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return out, time.Since(start)
}

// usage is what the system has used so far: CPU time of the Accrue processes, of Postgres and
// of Redis; context switches of the whole machine (the benchmark runs alone); and the time the
// conversion's stages spent in their servers.
type usage struct {
	cpu      map[string]time.Duration
	switches int64
	server   map[string]float64 // stage → seconds
}

// convertStages are the synchronous stages of a conversion: the series of each stage's server
// time (summed by the Prometheus histograms), and the process serving it.
var convertStages = []struct{ name, process, series string }{
	{"gateway", harness.Gateway, `accrue_gateway_request_seconds_sum{route="/v1/opportunities"}`},
	{"project", "project", `accrue_grpc_server_handling_seconds_sum{method="/accrue.project.v1.ProjectService/ConvertOpportunity"}`},
	{"customer", "customer", `accrue_grpc_server_handling_seconds_sum{method="/accrue.customer.v1.CustomerService/UpsertCustomerHierarchy"}`},
	{"billing", "billing", `accrue_grpc_server_handling_seconds_sum{method="/accrue.billing.v1.ContractService/UpsertContract"}`},
}

func usageOf(tb testing.TB, env *harness.Env) usage {
	u := usage{cpu: map[string]time.Duration{"postgres": harness.CPUTimeOf("postgres"), "redis": harness.CPUTimeOf("redis-server")},
		switches: harness.ContextSwitches(), server: map[string]float64{}}
	for _, p := range []string{"customer", "project", "resource", "timeexpense", "billing", "gateway"} {
		u.cpu["accrue"] += env.CPUTime(p)
	}
	for _, st := range convertStages {
		url := "http://" + env.MetricsAddr(st.process) + "/metrics"
		v, _ := scrapeSeries(tb, url, st.series)
		u.server[st.name], _ = strconv.ParseFloat(v, 64)
	}
	return u
}

// reportUsage reports, per conversion, the CPU time (synchronous and asynchronous work
// together: on 2 cores the latency at 1 client is bounded by it as much as by round trips), the
// machine's context switches, and the mean time each synchronous stage spent in its server
// (billing's is two calls: the check of the contract, then its creation; a stage's time
// includes the stages it calls).
func reportUsage(b *testing.B, before, after usage, conversions int) {
	n := float64(conversions)
	for _, k := range []string{"accrue", "postgres", "redis"} {
		b.ReportMetric(ms(after.cpu[k]-before.cpu[k])/n, "cpu-ms/conversion-"+k)
	}
	b.ReportMetric(float64(after.switches-before.switches)/n, "ctx-switches/conversion")
	for _, st := range convertStages {
		b.ReportMetric((after.server[st.name]-before.server[st.name])*1000/n, "server-ms/conversion-"+st.name)
	}
}

// BenchmarkConvertOpportunity measures ConvertOpportunity through the REST gateway (new deals:
// account + parent account upserted, contract created in billing, project with 12 tasks
// created and activated) at 1 and 16 concurrent clients. Target on 2 cores: p50 ≤ 5 ms and
// p99 ≤ 25 ms at 1 client.
func BenchmarkConvertOpportunity(b *testing.B) {
	env := harness.Start(b, harness.WithEnvAll("ACCRUE_LOG_LEVEL", "info"), harness.WithEnvAll("ACCRUE_DB_MAX_CONNS", "12"))
	setupLegalEntity(b, env)
	token := env.Token("projects:write")
	convertLoad(b, env, token, "warm", 50, 1)
	pgCeil, redisCeil := ceilings(b, env)
	for _, c := range []struct{ clients, n int }{{1, 400}, {16, 1600}} {
		b.Run(fmt.Sprintf("clients=%d", c.clients), func(b *testing.B) {
			var all latencies
			var wall time.Duration
			before := usageOf(b, env)
			for i := 0; i < b.N; i++ {
				l, w := convertLoad(b, env, token, fmt.Sprintf("c%d-%d", c.clients, i), c.n, c.clients)
				all, wall = append(all, l...), wall+w
			}
			time.Sleep(time.Second) // the events of the last conversions are applied
			b.ReportMetric(ms(all.pct(0.50)), "p50-ms")
			b.ReportMetric(ms(all.pct(0.99)), "p99-ms")
			b.ReportMetric(float64(len(all))/wall.Seconds(), "conversions/s")
			reportCeilings(b, pgCeil, redisCeil, float64(len(all))/wall.Seconds(), "conversions")
			reportUsage(b, before, usageOf(b, env), len(all))
			b.ReportMetric(0, "ns/op")
		})
	}
	// One client sending a deal every 40 ms: a conversion on a system with nothing else to do,
	// for comparison with the closed loop above, where the next deal follows at once.
	b.Run("clients=1/every=40ms", func(b *testing.B) {
		client := &http.Client{}
		var all latencies
		before := usageOf(b, env)
		for i := 0; i < b.N; i++ {
			for j := 0; j < 150; j++ {
				time.Sleep(40 * time.Millisecond)
				if d, ok := convertOnce(b, client, env, token, fmt.Sprintf("paced-%d-%d", i, j)); ok {
					all = append(all, d)
				}
			}
		}
		time.Sleep(time.Second)
		b.ReportMetric(ms(all.pct(0.50)), "p50-ms")
		b.ReportMetric(ms(all.pct(0.99)), "p99-ms")
		reportCeilings(b, pgCeil, redisCeil, float64(len(all))/(150*40e-3*float64(b.N)), "conversions")
		reportUsage(b, before, usageOf(b, env), len(all))
		b.ReportMetric(0, "ns/op")
	})
}
