package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
)

// Supplier cost load shape. ACCRUE_BENCH_SUPPLIER_LINES scales it down for a quick look.
const (
	scProjects = 20
	scSenders  = 8
)

var scLines = envInt("ACCRUE_BENCH_SUPPLIER_LINES", 20000)

// BenchmarkSupplierCostAllocation: scLines bill lines of 100.00 recorded over REST by 8 callers,
// half split by approved hours across 20 projects (1 to 8 h each), half booked directly on one
// of them; timed from the first POST until billing's allocation workers have allocated every
// line. Reports allocated lines/s end to end beside the same run's pgbench single-row insert and
// XADD ceilings, and checks the ledger: subcontractor cost = accounts payable = lines × 100.00.
func BenchmarkSupplierCostAllocation(b *testing.B) {
	env := harness.Start(b)
	le := createLegalEntity(b, env, "US01", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT)
	var projects []*postingFixture
	for i := 0; i < scProjects; i++ {
		projects = append(projects, newPostingProject(b, env, le, fmt.Sprintf("sc%d", i)))
	}
	res := newPostingResource(b, env, le, "Bench Consultant", "CONSULTANT", consultantCostRate)
	var items []*timeexpensev1.ImportItem
	for i, p := range projects {
		items = append(items, timeItem(withRef(timeIn(res, p.projectID, p.billable, date(2026, 6, i+1), fmt.Sprint(i%8+1), true), fmt.Sprintf("SC-%d", i))))
	}
	mustImport(b, env, items...)
	harness.Eventually(b, time.Minute, 50*time.Millisecond, func() error {
		if n := env.Count("billing", `SELECT count(*) FROM posting_results WHERE source_type = 'time_entry' AND outcome = 'POSTED'`); n != scProjects {
			return fmt.Errorf("%d of %d time entries posted", n, scProjects)
		}
		return nil
	})
	var targets []string
	for _, p := range projects {
		targets = append(targets, fmt.Sprintf(`{"project_id":%q}`, p.projectID))
	}
	leID := le.GetLegalEntityId()
	st, _, body := env.Do(http.MethodPost, "/v1/legal-entities/"+leID+"/allocation-rules",
		`{"rule":{"name":"by-hours","kind":"ALLOCATION_RULE_KIND_HOURS","targets":[`+strings.Join(targets, ",")+`]}}`, env.Bearer(supplierWrite))
	if st/100 != 2 {
		b.Fatalf("allocation rule: %d %s", st, body)
	}
	pgCeil, redisCeil := ceilings(b, env)

	token := env.Token("suppliercost:write")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: scSenders}}
	url := env.URL("/v1/legal-entities/" + leID + "/supplier-bill-lines")
	b.ResetTimer()
	start := time.Now()
	jobs := make(chan int)
	var wg sync.WaitGroup
	for c := 0; c < scSenders; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				alloc := `"allocation_rule":"by-hours"`
				if i%2 == 1 {
					alloc = fmt.Sprintf(`"project_id":%q`, projects[i%scProjects].projectID)
				}
				body := fmt.Sprintf(`{"line":{"vendor_id":"V-%d","vendor_name":"Vendor %d","bill_number":"B-%d","line_number":1,
					"amount":{"amount":"100.00","currency_code":"USD"},"bill_date":{"year":2026,"month":6,"day":30},
					"service_start":{"year":2026,"month":6,"day":1},"service_end":{"year":2026,"month":6,"day":30},%s}}`, i%50, i%50, i, alloc)
				req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := client.Do(req)
				if err != nil {
					b.Errorf("line %d: %v", i, err)
					continue
				}
				if resp.StatusCode/100 != 2 {
					b.Errorf("line %d: %d", i, resp.StatusCode)
				}
				resp.Body.Close()
			}
		}()
	}
	for i := 0; i < scLines; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	recorded := time.Since(start)
	harness.Eventually(b, 15*time.Minute, 100*time.Millisecond, func() error {
		if n := env.Count("billing", `SELECT count(*) FROM supplier_bill_lines WHERE status = 'ALLOCATED'`); n != scLines {
			return fmt.Errorf("%d of %d lines allocated", n, scLines)
		}
		return nil
	})
	elapsed := time.Since(start)
	b.StopTimer()
	var cost, payable string
	if err := env.DB("billing").QueryRow(context.Background(), `SELECT
		(SELECT sum(debit - credit) FROM journal_lines WHERE account_code = '5200')::numeric(18,2)::text,
		(SELECT sum(credit - debit) FROM journal_lines WHERE account_code = '2000')::numeric(18,2)::text`).Scan(&cost, &payable); err != nil {
		b.Fatal(err)
	}
	if want := fmt.Sprintf("%d.00", 100*scLines); cost != want || payable != want {
		b.Fatalf("subcontractor cost %s, accounts payable %s; want both %s", cost, payable, want)
	}
	rate := float64(scLines) / elapsed.Seconds()
	b.ReportMetric(float64(scLines), "lines")
	b.ReportMetric(float64(scLines)/recorded.Seconds(), "recorded-lines/s")
	b.ReportMetric(rate, "allocated-lines/s")
	reportCeilings(b, pgCeil, redisCeil, rate, "allocated-line")
}
