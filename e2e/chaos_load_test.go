package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accrue/accrue/e2e/internal/harness"
)

// The fault harness's fixture and load: a legal entity, a few T&M projects (consultants billed at
// 100.00/h) and consultants costing 40.00/h; approved time imported at a steady pace through the
// gateway, 1 % of the items delivered a second time.

const (
	chaosBillRate = "100.00"
	chaosCostRate = "40.00"
)

type chaosFixture struct {
	leID      string
	projects  []meProject
	resources []string
}

// setupChaos creates the fixture and waits until billing and time & expense hold the replicas
// the postings need.
func setupChaos(t *testing.T, env *harness.Env, projects, resources int) chaosFixture {
	t.Helper()
	setupLegalEntity(t, env)
	var fx chaosFixture
	if err := env.DB("billing").QueryRow(t.Context(), `SELECT id::text FROM legal_entities WHERE code = 'US01'`).Scan(&fx.leID); err != nil {
		t.Fatalf("chaos: the legal entity: %v", err)
	}
	ptoken := env.Bearer([]string{"projects:write"})
	for i := range projects {
		body := fmt.Sprintf(`{"crm_system":"chaos","opportunity_id":"CH-%d","version":1,"name":"Chaos %d",
 "account":{"account_id":"CHA-%d","name":"Client %d","tax_profile":{"tax_id":"T","tax_region":"US-NY"}},
 "legal_entity_code":"US01","amount":{"amount":"5000000.00","currency_code":"USD"},
 "start_date":{"year":2026,"month":1,"day":1},"end_date":{"year":2026,"month":12,"day":31},
 "service_lines":[{"line_key":"L1","service_line":"CONSULTING","amount":{"amount":"5000000.00","currency_code":"USD"},
   "billing_method":"BILLING_METHOD_TIME_AND_MATERIALS","revenue_method":"REVENUE_METHOD_AS_DELIVERED",
   "rate_card":[{"role":"CONSULTANT","bill_rate":{"amount":"%s","currency_code":"USD"},"effective_from":{"year":2026,"month":1,"day":1}}]}]}`,
			i, i, i, i, chaosBillRate)
		if st, _, b := env.Do(http.MethodPost, "/v1/opportunities:convert", body, ptoken); st != http.StatusCreated {
			t.Fatalf("chaos: convert %d: %d %s", i, st, b)
		}
	}
	rtoken := env.Bearer([]string{"resources:write", "costrates:write"})
	for i := range resources {
		st, _, body := env.Do(http.MethodPost, "/v1/resources:upsert", fmt.Sprintf(`{"kind":"RESOURCE_KIND_EMPLOYEE","name":"Consultant %d",
			"email":"chaos%d@example.com","home_legal_entity_code":"US01","role":"CONSULTANT","weekly_capacity_hours":"40",
			"external_references":[{"system":"chaos","object_type":"Worker","external_id":"W%d"}]}`, i, i, i), rtoken)
		var r struct {
			Resource struct {
				ID string `json:"resource_id"`
			} `json:"resource"`
		}
		if st >= 300 || json.Unmarshal(body, &r) != nil {
			t.Fatalf("chaos: resource %d: %d %s", i, st, body)
		}
		fx.resources = append(fx.resources, r.Resource.ID)
		if st, _, body = env.Do(http.MethodPost, "/v1/resources/"+r.Resource.ID+"/cost-rates",
			`{"rate":{"amount":"`+chaosCostRate+`","currency_code":"USD"},"effective_from":{"year":2026,"month":1,"day":1}}`, rtoken); st >= 300 {
			t.Fatalf("chaos: cost rate %d: %d %s", i, st, body)
		}
	}
	rows, err := env.DB("project").Query(t.Context(), `SELECT p.id::text, (SELECT t.id::text FROM tasks t WHERE t.project_id = p.id
		AND t.billable AND t.parent_task_id IS NOT NULL ORDER BY t.wbs_code LIMIT 1) FROM projects p WHERE p.status = 'ACTIVE' ORDER BY p.id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var p meProject
		if err := rows.Scan(&p.id, &p.task); err != nil {
			t.Fatal(err)
		}
		fx.projects = append(fx.projects, p)
	}
	rows.Close()
	if len(fx.projects) != projects {
		t.Fatalf("chaos: %d active projects, want %d", len(fx.projects), projects)
	}
	harness.Eventually(t, 2*time.Minute, 100*time.Millisecond, func() error {
		rates := env.Count("billing", `SELECT count(DISTINCT resource_id) FROM cost_rate_replicas`)
		bp := env.Count("billing", `SELECT count(*) FROM project_replicas WHERE contract_id IS NOT NULL`)
		tp := env.Count("timeexpense", `SELECT count(*) FROM projects WHERE status = 'ACTIVE'`)
		tl := env.Count("timeexpense", `SELECT count(*) FROM legal_entities`)
		if rates != resources || bp != projects || tp != projects || tl != 1 {
			return fmt.Errorf("replicas: billing rates %d projects %d, time & expense projects %d legal entities %d", rates, bp, tp, tl)
		}
		return nil
	})
	return fx
}

// chaosItem is one approved time entry as the T&E tool sends it.
type chaosItem struct {
	ext, resource, date, hours string
	project                    meProject
}

func (it chaosItem) json() string {
	d := strings.Split(it.date, "-")
	return fmt.Sprintf(`{"time":{"resource_id":"%s","project_id":"%s","task_id":"%s","work_date":{"year":%s,"month":%s,"day":%s},`+
		`"hours":"%s","billable":true,"external_reference":{"system":"chaos","object_type":"TimeEntry","external_id":"%s"}}}`,
		it.resource, it.project.id, it.project.task, d[0], strings.TrimLeft(d[1], "0"), strings.TrimLeft(d[2], "0"), it.hours, it.ext)
}

// chaosItems returns n distinct entries spread over the resources and the weekdays of 2026 (at
// most a few hours per resource and day), then the deliveries to send: every entry once, and
// dupRate of them a second time, later, as a T&E tool that re-sends does.
func chaosItems(n int, dupRate float64, fx chaosFixture, rng *rand.Rand) (deliveries []chaosItem, dups int) {
	var days []string
	for d := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC); d.Year() == 2026; d = d.AddDate(0, 0, 1) {
		if d.Weekday() != time.Saturday && d.Weekday() != time.Sunday {
			days = append(days, d.Format(time.DateOnly))
		}
	}
	r := len(fx.resources)
	for i := range n {
		slot := i % (r * len(days))
		deliveries = append(deliveries, chaosItem{ext: fmt.Sprintf("CH-%06d", i), resource: fx.resources[slot%r],
			project: fx.projects[rng.Intn(len(fx.projects))], date: days[slot/r], hours: []string{"1.5", "2", "2.25"}[i%3]})
		// After every 1/dupRate-th entry, a second delivery of an entry sent about 100 deliveries (a
		// few calls) or more before.
		if every := int(1 / dupRate); i%every == every-1 {
			deliveries = append(deliveries, deliveries[rng.Intn(max(1, len(deliveries)-100))])
			dups++
		}
	}
	return deliveries, dups
}

// chaosLoad counts what the import calls answered.
type chaosLoad struct {
	mu                             sync.Mutex
	accepted, duplicates, rejected int
	retried                        int      // calls sent again (503, 409, 5xx, transport errors)
	failed                         []string // calls that never got an answer
	rejections                     []string
	lastSent                       time.Time
}

// send posts deliveries in calls of chunk items, one call starting every pace, from senders
// concurrent callers. A call the service asks to retry (409, 503, 5xx) or that lost its
// connection is sent again with backoff for up to three minutes, as a T&E tool does: the
// entries' external references make the retry safe (an entry already stored answers DUPLICATE).
func (l *chaosLoad) send(env *harness.Env, token string, deliveries []chaosItem, chunk, senders int, pace time.Duration) {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
	jobs := make(chan []chaosItem)
	var wg sync.WaitGroup
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for items := range jobs {
				l.call(client, env, token, items)
			}
		}()
	}
	next := time.Now()
	for i := 0; i < len(deliveries); i += chunk {
		time.Sleep(time.Until(next))
		next = next.Add(pace)
		jobs <- deliveries[i:min(i+chunk, len(deliveries))]
	}
	close(jobs)
	wg.Wait()
	l.mu.Lock()
	l.lastSent = time.Now()
	l.mu.Unlock()
}

func (l *chaosLoad) call(client *http.Client, env *harness.Env, token string, items []chaosItem) {
	var b bytes.Buffer
	b.WriteString(`{"items":[`)
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(it.json())
	}
	b.WriteString(`]}`)
	deadline := time.Now().Add(3 * time.Minute)
	var last string
	for attempt := 0; time.Now().Before(deadline); attempt++ {
		if attempt > 0 {
			l.mu.Lock()
			l.retried++
			l.mu.Unlock()
			time.Sleep(min(time.Duration(100<<min(attempt, 5))*time.Millisecond, 2*time.Second))
		}
		req, _ := http.NewRequest(http.MethodPost, env.URL("/v1/time-entries:importApproved"), bytes.NewReader(b.Bytes()))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			last = err.Error()
			continue
		}
		var out struct {
			Results []struct {
				Outcome string `json:"outcome"`
				Reason  string `json:"reason"`
			} `json:"results"`
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode == http.StatusConflict || resp.StatusCode >= 500 || err != nil {
			last = fmt.Sprintf("%d %v", resp.StatusCode, err)
			continue
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if resp.StatusCode != http.StatusOK || len(out.Results) != len(items) {
			l.failed = append(l.failed, fmt.Sprintf("%d: %d results of %d", resp.StatusCode, len(out.Results), len(items)))
			return
		}
		for _, r := range out.Results {
			switch r.Outcome {
			case "IMPORT_OUTCOME_ACCEPTED":
				l.accepted++
			case "IMPORT_OUTCOME_DUPLICATE":
				l.duplicates++
			default:
				l.rejected++
				l.rejections = append(l.rejections, r.Reason)
			}
		}
		return
	}
	l.mu.Lock()
	l.failed = append(l.failed, last)
	l.mu.Unlock()
}
