package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/accrue/accrue/e2e/internal/harness"
)

// BenchmarkWebhookRateLimit floods the gateway with 1,000 signed webhook deliveries per second
// from one source (Salesforce changes that need no action) for 6 s, under the default per-source
// limit (50/s, burst 100), while another source (a CRM on the canonical route) converts a new deal
// every 100 ms. It reports the other source's latency p50/p99 alone and during the flood, how
// many flood deliveries were admitted and how many refused with 429, and the same run's ceilings
// (pgbench single-row inserts, redis-benchmark XADD, measured after the flood). It fails if the other source sees any
// refusal, or the flooding source gets more through than its bucket allows.
func BenchmarkWebhookRateLimit(b *testing.B) {
	const (
		seconds     = 6
		floodRate   = 1000
		victimEvery = 100 * time.Millisecond
		rate, burst = 50, 100
	)
	env := harness.Start(b, harness.WithEnvAll("ACCRUE_LOG_LEVEL", "info"),
		harness.WithEnv(harness.Gateway, "ACCRUE_RATE_LIMIT_WEBHOOK_RPS", fmt.Sprint(rate)),
		harness.WithEnv(harness.Gateway, "ACCRUE_RATE_LIMIT_WEBHOOK_BURST", fmt.Sprint(burst)))
	setupLegalEntity(b, env)

	const floodPath = "/webhooks/salesforce/salesforce/opportunities"
	floodBody := bytes.Replace(salesforceClosedWon(uuid.NewString(), "006FLOOD", "001FLOOD", time.Now().UnixMilli()),
		[]byte(`"StageName":"Closed Won"`), []byte(`"StageName":"Negotiation/Review"`), 1)
	floodHeaders := env.WebhookHeadersFor(floodPath, "salesforce", floodBody, time.Time{})
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}

	const victimPath = "/webhooks/crm/hubspot/opportunities"
	var victimFailures []string
	victim := func(run string, n int) latencies {
		var out latencies
		next := time.Now()
		for i := range n {
			time.Sleep(time.Until(next))
			next = next.Add(victimEvery)
			body := []byte(fmt.Sprintf(`{"event_id":%q,"opportunity":%s}`, uuid.NewString(), opportunityJSON(fmt.Sprintf("%s-%d", run, i))))
			req, _ := newRequest(env, http.MethodPost, victimPath, body, env.WebhookHeadersFor(victimPath, "hubspot", body, time.Time{}))
			t0 := time.Now()
			resp, err := client.Do(req)
			d := time.Since(t0)
			if err != nil {
				victimFailures = append(victimFailures, err.Error())
				continue
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				victimFailures = append(victimFailures, resp.Status)
				continue
			}
			out = append(out, d)
		}
		return out
	}
	victim("warm", 20)

	var alone, flooded, refusedLat latencies
	var f floodCounts
	for i := 0; i < b.N; i++ {
		alone = append(alone, victim(fmt.Sprintf("alone%d", i), seconds*int(time.Second/victimEvery))...)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, l := flood(client, env.URL(floodPath), floodBody, floodHeaders, floodRate, seconds*time.Second)
			f.add(c)
			refusedLat = append(refusedLat, l...)
		}()
		flooded = append(flooded, victim(fmt.Sprintf("flood%d", i), seconds*int(time.Second/victimEvery))...)
		wg.Wait()
	}
	pgCeil, redisCeil := ceilings(b, env)
	if len(victimFailures) > 0 {
		b.Errorf("the other source got %d failures (want none): %v", len(victimFailures), victimFailures[:min(5, len(victimFailures))])
	}
	if f.limited == 0 {
		b.Errorf("no flood delivery was refused with 429: %+v", f)
	}
	if most := burst + rate*seconds*b.N*11/10; f.admitted > most {
		b.Errorf("%d flood deliveries admitted, over the %d the bucket allows", f.admitted, most)
	}
	b.ReportMetric(ms(alone.pct(0.50)), "other-p50-ms-alone")
	b.ReportMetric(ms(alone.pct(0.99)), "other-p99-ms-alone")
	b.ReportMetric(ms(flooded.pct(0.50)), "other-p50-ms-flood")
	b.ReportMetric(ms(flooded.pct(0.99)), "other-p99-ms-flood")
	b.ReportMetric(float64(f.sent)/float64(seconds*b.N), "flood-sent/s")
	b.ReportMetric(float64(f.admitted), "flood-admitted")
	b.ReportMetric(float64(f.limited), "flood-429s")
	b.ReportMetric(float64(f.other), "flood-other")
	b.ReportMetric(float64(f.unsent), "flood-unsent")
	b.ReportMetric(ms(refusedLat.pct(0.50)), "flood-429-p50-ms")
	b.ReportMetric(pgCeil, "ceiling-pg-inserts/s")
	b.ReportMetric(redisCeil, "ceiling-redis-xadd/s")
	b.ReportMetric(0, "ns/op")
}

// floodCounts are the answers a flood got: admitted (200, the change needed no action),
// limited (429 RATE_LIMITED), other answers, and requests the load generator could not send in
// time (all its workers busy).
type floodCounts struct{ sent, admitted, limited, other, unsent int }

func (f *floodCounts) add(g floodCounts) {
	f.sent, f.admitted, f.limited, f.other, f.unsent = f.sent+g.sent, f.admitted+g.admitted, f.limited+g.limited, f.other+g.other, f.unsent+g.unsent
}

// flood posts body to url at perSecond for d (open loop: 10 ms ticks of perSecond/100 requests,
// 64 workers; a request finding every worker busy is not sent) and returns the counts and the
// latency of the 429 answers.
func flood(client *http.Client, url string, body []byte, headers map[string]string, perSecond int, d time.Duration) (floodCounts, latencies) {
	var mu sync.Mutex
	var c floodCounts
	var refused latencies
	jobs := make(chan struct{}, perSecond/10)
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				for k, v := range headers {
					req.Header.Set(k, v)
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				lat := time.Since(t0)
				mu.Lock()
				c.sent++
				switch {
				case err != nil:
					c.other++
				case resp.StatusCode == http.StatusOK:
					c.admitted++
				case resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != "":
					c.limited++
					refused = append(refused, lat)
				default:
					c.other++
				}
				mu.Unlock()
				if err == nil {
					resp.Body.Close()
				}
			}
		}()
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for end := time.Now().Add(d); time.Now().Before(end); <-tick.C {
		for range perSecond / 100 {
			select {
			case jobs <- struct{}{}:
			default:
				mu.Lock()
				c.unsent++
				mu.Unlock()
			}
		}
	}
	close(jobs)
	wg.Wait()
	return c, refused
}
