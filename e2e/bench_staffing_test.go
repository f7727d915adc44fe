package e2e

import (
	"context"
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

// BenchmarkStaffingForecast changes assignments at 200 per second for 15 s through the REST
// gateway and measures, for every change, the time from sending it to the project forecast
// reflecting it (the project service's plan row applied for that version). Target on 2 cores:
// p99 ≤ 1 s.
func BenchmarkStaffingForecast(b *testing.B) {
	const (
		projects  = 20
		resources = 200
		perRes    = 15 // assignments per resource
		rate      = 200
		seconds   = 15
	)
	env := harness.Start(b, harness.WithEnvAll("ACCRUE_LOG_LEVEL", "warn"))
	setupLegalEntity(b, env)
	ptoken := env.Token("projects:write")
	for i := 0; i < projects; i++ {
		st, _, body := env.Do(http.MethodPost, "/v1/opportunities:convert", fmt.Sprintf(`{"crm_system":"bench","opportunity_id":"ST-%d","version":1,"name":"Staffing %d",
 "account":{"account_id":"STA-%d","name":"Client %d","tax_profile":{"tax_id":"T","tax_region":"US-NY"}},
 "legal_entity_code":"US01","amount":{"amount":"900000.00","currency_code":"USD"},
 "start_date":{"year":2026,"month":1,"day":1},"end_date":{"year":2026,"month":12,"day":31},
 "service_lines":[{"line_key":"L1","service_line":"CONSULTING","amount":{"amount":"900000.00","currency_code":"USD"},
   "billing_method":"BILLING_METHOD_TIME_AND_MATERIALS","revenue_method":"REVENUE_METHOD_AS_DELIVERED",
   "rate_card":[{"role":"CONSULTANT","bill_rate":{"amount":"150.00","currency_code":"USD"},"effective_from":{"year":2026,"month":1,"day":1}}]}]}`, i, i, i, i),
			map[string]string{"Authorization": "Bearer " + ptoken})
		if st != http.StatusCreated {
			b.Fatalf("convert: %d %s", st, body)
		}
	}
	type proj struct{ id, task string }
	var ps []proj
	rows, err := env.DB("project").Query(context.Background(), `SELECT p.id::text, (SELECT t.id::text FROM tasks t WHERE t.project_id = p.id
		AND t.billable AND t.parent_task_id IS NOT NULL ORDER BY t.wbs_code LIMIT 1) FROM projects p ORDER BY p.id`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var p proj
		if err := rows.Scan(&p.id, &p.task); err != nil {
			b.Fatal(err)
		}
		ps = append(ps, p)
	}
	rows.Close()
	harness.Eventually(b, time.Minute, 100*time.Millisecond, func() error {
		if n := env.Count("resource", `SELECT count(*) FROM projects`); n != projects {
			return fmt.Errorf("resource service knows %d projects", n)
		}
		return nil
	})
	rtoken := env.Token("resources:write", "costrates:write")
	auth := map[string]string{"Authorization": "Bearer " + rtoken}
	type assignment struct {
		id      string
		version string
		input   string
	}
	var list []assignment
	for r := 0; r < resources; r++ {
		st, _, body := env.Do(http.MethodPost, "/v1/resources:upsert", fmt.Sprintf(`{"kind":"RESOURCE_KIND_EMPLOYEE","name":"R %d","email":"r%d@example.com",
			"home_legal_entity_code":"US01","role":"CONSULTANT","weekly_capacity_hours":"40","external_references":[{"system":"bench","object_type":"Worker","external_id":"S%d"}]}`, r, r, r), auth)
		var res struct {
			Resource struct {
				ID string `json:"resource_id"`
			} `json:"resource"`
		}
		if st >= 300 || json.Unmarshal(body, &res) != nil {
			b.Fatalf("resource: %d %s", st, body)
		}
		if st, _, body := env.Do(http.MethodPost, "/v1/resources/"+res.Resource.ID+"/cost-rates",
			`{"rate":{"amount":"55.00","currency_code":"USD"},"effective_from":{"year":2026,"month":1,"day":1}}`, auth); st >= 300 {
			b.Fatalf("rate: %d %s", st, body)
		}
		for k := 0; k < perRes; k++ {
			p := ps[(r+k)%len(ps)]
			month := 1 + k%11
			input := fmt.Sprintf(`"resource_id":"%s","project_id":"%s","task_id":"%s","start_date":{"year":2026,"month":%d,"day":1},`+
				`"end_date":{"year":2026,"month":%d,"day":28},"status":"ASSIGNMENT_STATUS_CONFIRMED"`, res.Resource.ID, p.id, p.task, month, month+1)
			st, _, body := env.Do(http.MethodPost, "/v1/assignments", "{"+input+`,"hours_per_week":"2"}`, auth)
			var a struct {
				Assignment struct {
					ID      string `json:"assignment_id"`
					Version string `json:"version"`
				} `json:"assignment"`
			}
			if st >= 300 || json.Unmarshal(body, &a) != nil {
				b.Fatalf("assignment: %d %s", st, body)
			}
			list = append(list, assignment{id: a.Assignment.ID, version: a.Assignment.Version, input: input})
		}
	}
	harness.Eventually(b, time.Minute, 100*time.Millisecond, func() error {
		if n := env.Count("project", `SELECT count(*) FROM assignment_plans`); n != len(list) {
			return fmt.Errorf("plans %d of %d", n, len(list))
		}
		return nil
	})

	// Each assignment changes once, at 200 changes/s, in an order that spreads the resources.
	rand.New(rand.NewSource(1)).Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
	total := rate * seconds
	if total > len(list) {
		total = len(list)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	sent := make([]time.Time, total)
	apiLat := make(latencies, total)
	var wg sync.WaitGroup
	next := time.Now()
	for i := 0; i < total; i++ {
		time.Sleep(time.Until(next))
		next = next.Add(time.Second / rate)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			a := list[i]
			body := fmt.Sprintf(`{"expected_version":"%s","assignment":{%s,"hours_per_week":"%d"}}`, a.version, a.input, 3+i%5)
			req, _ := http.NewRequest(http.MethodPut, env.URL("/v1/assignments/"+a.id), strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+rtoken)
			sent[i] = time.Now()
			resp, err := client.Do(req)
			apiLat[i] = time.Since(sent[i])
			if err != nil {
				b.Errorf("update: %v", err)
				return
			}
			if resp.StatusCode != http.StatusOK {
				b.Errorf("update: %d", resp.StatusCode)
			}
			resp.Body.Close()
		}(i)
	}
	wg.Wait()
	ids := make([]string, total)
	for i := range ids {
		ids[i] = list[i].id
	}
	applied := map[string]time.Time{}
	harness.Eventually(b, time.Minute, 50*time.Millisecond, func() error {
		rows, err := env.DB("project").Query(context.Background(), `SELECT assignment_id::text, applied_at FROM assignment_plans
			WHERE assignment_id = ANY($1::uuid[]) AND version >= 2`, ids)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var at time.Time
			if err := rows.Scan(&id, &at); err != nil {
				return err
			}
			applied[id] = at
		}
		if len(applied) < total {
			return fmt.Errorf("forecast reflects %d of %d changes", len(applied), total)
		}
		return nil
	})
	var lat latencies
	for i, id := range ids {
		lat = append(lat, max(applied[id].Sub(sent[i]), 0))
	}
	b.ReportMetric(ms(lat.pct(0.50)), "p50-change-to-forecast-ms")
	b.ReportMetric(ms(lat.pct(0.99)), "p99-change-to-forecast-ms")
	b.ReportMetric(ms(apiLat.pct(0.50)), "p50-api-ms")
	b.ReportMetric(ms(apiLat.pct(0.99)), "p99-api-ms")
	b.ReportMetric(float64(rate), "changes/s")
	pgCeil, redisCeil := ceilings(b, env)
	reportCeilings(b, pgCeil, redisCeil, float64(rate), "changes")
	b.ReportMetric(0, "ns/op")
}
