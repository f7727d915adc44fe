package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
)

var (
	supplierWrite = []string{"suppliercost:write"}
	supplierRead  = []string{"suppliercost:read"}
)

// recordSupplierLine posts a bill line over REST and returns the status and the answer.
func recordSupplierLine(t testing.TB, env *harness.Env, leID string, line *billingv1.SupplierBillLine) (int, []byte, *billingv1.RecordSupplierBillLineResponse) {
	t.Helper()
	st, _, body := env.Do(http.MethodPost, "/v1/legal-entities/"+leID+"/supplier-bill-lines", restJSON(t, &billingv1.RecordSupplierBillLineRequest{Line: line}),
		env.Bearer(supplierWrite, "Idempotency-Key", uuid.NewString()))
	var resp billingv1.RecordSupplierBillLineResponse
	if st/100 == 2 {
		decode(t, body, &resp)
	}
	return st, body, &resp
}

// A subcontractor bill line recorded over REST is allocated asynchronously by billing's
// allocation workers: 1,250.00 on the project (Dr 5200) against accounts payable (Cr 2000); the
// same line again changes nothing; an unknown project is refused with its reason; the KPI of cost
// awaiting allocation returns to 0.
func TestSupplierBillLineIsAllocatedAsynchronously(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	le := createLegalEntity(t, env, "US01", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT)
	fx := newPostingProject(t, env, le, "subco")
	line := &billingv1.SupplierBillLine{VendorId: "V-77", VendorName: "Subco Ltd", BillNumber: "INV-2026-31", LineNumber: 1,
		Amount: usd("1250.00"), BillDate: date(2026, 6, 30), ServiceStart: date(2026, 6, 1), ServiceEnd: date(2026, 6, 30),
		Description: "load testing", ProjectId: fx.projectID}
	st, body, resp := recordSupplierLine(t, env, le.GetLegalEntityId(), line)
	if st != http.StatusCreated || resp.GetOutcome() != billingv1.SupplierBillLineOutcome_SUPPLIER_BILL_LINE_OUTCOME_CREATED {
		t.Fatalf("record: %d %s, want 201 CREATED", st, body)
	}
	lineID := resp.GetLineId()
	var entries []*billingv1.JournalEntry
	harness.Eventually(t, 15*time.Second, 20*time.Millisecond, func() error {
		if entries = listJournal(t, env, bySource(lineID)); len(entries) != 1 {
			return fmt.Errorf("line %s has %d journal entries, want 1", lineID, len(entries))
		}
		return nil
	})
	if got := lineTotals(t, entries...); !sameMap(got, map[string]string{"5200": "1250.00", "2000": "-1250.00"}) {
		t.Errorf("allocation lines %v, want Dr 5200 1250.00 / Cr 2000 1250.00", got)
	}
	if st, body, again := recordSupplierLine(t, env, le.GetLegalEntityId(), line); st/100 != 2 ||
		again.GetOutcome() != billingv1.SupplierBillLineOutcome_SUPPLIER_BILL_LINE_OUTCOME_UNCHANGED {
		t.Errorf("the same line again: %d %s, want UNCHANGED", st, body)
	}
	bad := &billingv1.SupplierBillLine{VendorId: "V-77", BillNumber: "INV-2026-31", LineNumber: 2, Amount: usd("10.00"),
		BillDate: date(2026, 6, 30), ServiceStart: date(2026, 6, 1), ServiceEnd: date(2026, 6, 30), ProjectId: uuid.NewString()}
	if st, body, _ := recordSupplierLine(t, env, le.GetLegalEntityId(), bad); st != http.StatusPreconditionFailed && st != http.StatusBadRequest ||
		!strings.Contains(string(body), "SUPPLIER_COST_PROJECT_UNKNOWN") {
		t.Errorf("unknown project: %d %s, want a refusal with SUPPLIER_COST_PROJECT_UNKNOWN", st, body)
	}
	st, _, body = env.Do(http.MethodGet, "/v1/legal-entities/"+le.GetLegalEntityId()+"/supplier-cost-kpis", nil, env.Bearer(supplierRead))
	var k billingv1.GetSupplierCostKpisResponse
	if st != http.StatusOK {
		t.Fatalf("KPIs: %d %s", st, body)
	}
	decode(t, body, &k)
	if k.GetAwaitingCount() != 0 || len(k.GetAwaitingAmounts()) != 0 {
		t.Errorf("KPIs %v, want nothing awaiting allocation", &k)
	}
	if js := listJournal(t, env, bySource(lineID)); len(js) != 1 {
		t.Errorf("after the repeat the line has %d journal entries, want 1", len(js))
	}
}

// A EUR bill line on the USD legal entity with no EUR→USD rate for its date parks
// (FX_RATE_MISSING, counted as parked in the KPI); setting the rate — nothing else — gets it
// allocated at that rate: 1,250.00 EUR × 1.1 = 1,375.00 USD on the project.
func TestForeignCurrencySupplierLineWaitsForItsRate(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	le := createLegalEntity(t, env, "US01", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT)
	fx := newPostingProject(t, env, le, "subfx")
	line := &billingv1.SupplierBillLine{VendorId: "V-EU", VendorName: "Subco GmbH", BillNumber: "R-9", LineNumber: 1,
		Amount: &commonv1.Money{Amount: "1250.00", CurrencyCode: "EUR"}, BillDate: date(2026, 6, 30), ServiceStart: date(2026, 6, 1),
		ServiceEnd: date(2026, 6, 30), ProjectId: fx.projectID}
	st, body, resp := recordSupplierLine(t, env, le.GetLegalEntityId(), line)
	if st != http.StatusCreated {
		t.Fatalf("record: %d %s", st, body)
	}
	harness.Eventually(t, 15*time.Second, 20*time.Millisecond, func() error {
		if n := env.Count("billing", `SELECT count(*) FROM supplier_bill_lines WHERE id = $1 AND status = 'PARKED' AND status_reason = 'FX_RATE_MISSING'`,
			resp.GetLineId()); n != 1 {
			return fmt.Errorf("line %s not parked for its rate yet", resp.GetLineId())
		}
		return nil
	})
	st, _, body = env.Do(http.MethodGet, "/v1/legal-entities/"+le.GetLegalEntityId()+"/supplier-cost-kpis", nil, env.Bearer(supplierRead))
	var k billingv1.GetSupplierCostKpisResponse
	decode(t, body, &k)
	if st != http.StatusOK || k.GetParkedCount() != 1 || k.GetAwaitingCount() != 1 {
		t.Errorf("KPIs %d %v, want 1 awaiting, 1 parked", st, &k)
	}
	rate := &billingv1.SetExchangeRateRequest{FromCurrency: "EUR", ToCurrency: "USD", RateDate: date(2026, 6, 30), Rate: "1.1"}
	if st, _, body := env.Do(http.MethodPost, "/v1/exchange-rates", restJSON(t, rate), env.Bearer(billingWrite)); st/100 != 2 {
		t.Fatalf("set rate: %d %s", st, body)
	}
	set := time.Now()
	var entries []*billingv1.JournalEntry
	harness.Eventually(t, 15*time.Second, 20*time.Millisecond, func() error {
		if entries = listJournal(t, env, bySource(resp.GetLineId())); len(entries) != 1 {
			return fmt.Errorf("line has %d journal entries, want 1", len(entries))
		}
		return nil
	})
	t.Logf("allocated %s after the rate was set", time.Since(set).Round(time.Millisecond))
	// Posted within a second of the rate (the entry's own commit time, not this test's polling).
	if n := env.Count("billing", `SELECT count(*) FROM journal_entries WHERE source_id = $1 AND created_at < $2`, resp.GetLineId(),
		set.Add(time.Second)); n != 1 {
		t.Errorf("the line was not allocated within a second of SetExchangeRate")
	}
	if got := lineTotals(t, entries...); !sameMap(got, map[string]string{"5200": "1375.00", "2000": "-1375.00"}) {
		t.Errorf("allocation lines %v, want Dr 5200 1375.00 / Cr 2000 1375.00 (USD)", got)
	}
}

// A line split by approved hours 1/2/3 h (1,000.00 → 166.67 / 333.33 / 500.00) is re-allocated
// when another hour is approved on the second project (1/3/3 h → 142.86 / 428.57 / 428.57): the
// first entry reversed, a new one posted, the ledger balanced — with no call but the time import.
func TestSupplierLineIsReallocatedWhenApprovedHoursChange(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	le := createLegalEntity(t, env, "US01", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT)
	var ps []*postingFixture
	for i := 0; i < 3; i++ {
		ps = append(ps, newPostingProject(t, env, le, fmt.Sprintf("realloc%d", i)))
	}
	res := newPostingResource(t, env, le, "Rita Realloc", "CONSULTANT", consultantCostRate)
	var items []*timeexpensev1.ImportItem
	for i, p := range ps {
		items = append(items, timeItem(withRef(timeIn(res, p.projectID, p.billable, date(2026, 6, i+1), fmt.Sprint(i+1), true), fmt.Sprintf("RA-%d", i))))
	}
	mustImport(t, env, items...)
	posted := func(n int) {
		harness.Eventually(t, 15*time.Second, 20*time.Millisecond, func() error {
			if got := env.Count("billing", `SELECT count(*) FROM posting_results WHERE source_type = 'time_entry' AND outcome = 'POSTED'`); got != n {
				return fmt.Errorf("%d of %d time entries posted", got, n)
			}
			return nil
		})
	}
	posted(3)
	rule := fmt.Sprintf(`{"rule":{"name":"by-hours","kind":"ALLOCATION_RULE_KIND_HOURS","targets":[{"project_id":%q},{"project_id":%q},{"project_id":%q}]}}`,
		ps[0].projectID, ps[1].projectID, ps[2].projectID)
	if st, _, body := env.Do(http.MethodPost, "/v1/legal-entities/"+le.GetLegalEntityId()+"/allocation-rules", rule, env.Bearer(supplierWrite)); st/100 != 2 {
		t.Fatalf("rule: %d %s", st, body)
	}
	line := &billingv1.SupplierBillLine{VendorId: "V-RA", BillNumber: "RA-1", LineNumber: 1, Amount: usd("1000.00"), BillDate: date(2026, 6, 30),
		ServiceStart: date(2026, 6, 1), ServiceEnd: date(2026, 6, 30), AllocationRule: "by-hours"}
	if st, body, _ := recordSupplierLine(t, env, le.GetLegalEntityId(), line); st != http.StatusCreated {
		t.Fatalf("record: %d %s", st, body)
	}
	costs := func(want ...string) {
		t.Helper()
		harness.Eventually(t, 15*time.Second, 20*time.Millisecond, func() error {
			for i, p := range ps {
				var got string
				if err := env.DB("billing").QueryRow(context.Background(), `SELECT COALESCE(sum(debit - credit), 0)::numeric(18,2)::text
					FROM journal_lines WHERE account_code = '5200' AND project_id = $1`, p.projectID).Scan(&got); err != nil {
					return err
				}
				if got != want[i] {
					return fmt.Errorf("project %d: subcontractor cost %s, want %s", i+1, got, want[i])
				}
			}
			return nil
		})
	}
	costs("166.67", "333.33", "500.00")
	mustImport(t, env, timeItem(withRef(timeIn(res, ps[1].projectID, ps[1].billable, date(2026, 6, 4), "1", true), "RA-3")))
	posted(4)
	costs("142.86", "428.57", "428.57")
	if n := env.Count("billing", `SELECT count(*) FROM journal_entries WHERE source_type = 'supplier_bill_line_reversal'`); n != 1 {
		t.Errorf("reversals = %d, want 1", n)
	}
	if n := env.Count("billing", `SELECT count(*) FROM journal_entries WHERE source_type = 'supplier_bill_line'`); n != 2 {
		t.Errorf("allocations = %d, want 2", n)
	}
}

// A billable 1,000.00 subcontractor line on the project (contract line IMPL-1, 10 % expense
// markup) becomes an open invoice candidate of 1,100.00 (quantity 1 at 1,000.00, source type
// supplier_cost), and the project's financials show it: actual cost 1,000.00 all of it
// subcontractor, actual revenue 1,100.00, margin 100.00 (9.09 %).
func TestBillableSupplierLineIsInvoicedAndCostsTheProject(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	le := createLegalEntity(t, env, "US01", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT)
	fx := newPostingProject(t, env, le, "subbill")
	line := &billingv1.SupplierBillLine{VendorId: "V-78", VendorName: "Freelance Co", BillNumber: "F-12", LineNumber: 1,
		Amount: usd("1000.00"), BillDate: date(2026, 6, 30), ServiceStart: date(2026, 6, 1), ServiceEnd: date(2026, 6, 30),
		Description: "pen test", ProjectId: fx.projectID, Billable: true}
	if st, body, _ := recordSupplierLine(t, env, le.GetLegalEntityId(), line); st != http.StatusCreated {
		t.Fatalf("record: %d %s", st, body)
	}
	var cs []*billingv1.InvoiceCandidate
	harness.Eventually(t, 15*time.Second, 20*time.Millisecond, func() error {
		cs = nil
		for _, c := range listCandidates(t, env, byProject(fx.projectID)) {
			if c.GetSourceType() == "supplier_cost" {
				cs = append(cs, c)
			}
		}
		if len(cs) != 1 {
			return fmt.Errorf("%d supplier cost candidates on the project, want 1", len(cs))
		}
		return nil
	})
	c := cs[0]
	if c.GetAmount().GetAmount() != "1100.00" || c.GetUnitPrice().GetAmount() != "1000.00" || !sameDecimal(c.GetQuantity(), "1") ||
		!sameDecimal(c.GetMarkupPercent(), "10") || c.GetStatus() != billingv1.CandidateStatus_CANDIDATE_STATUS_OPEN || c.GetContractLineKey() != "IMPL-1" {
		t.Errorf("candidate %v, want OPEN 1 × 1000.00 + 10 %% = 1100.00 on IMPL-1", c)
	}
	harness.Eventually(t, 15*time.Second, 20*time.Millisecond, func() error {
		f := getFinancials(t, env, fx.projectID)
		if !sameDecimal(f.GetActualSubcontractorCost().GetAmount(), "1000") || !sameDecimal(f.GetActualCost().GetAmount(), "1000") ||
			!sameDecimal(f.GetActualRevenue().GetAmount(), "1100") || !sameDecimal(f.GetActualMargin().GetAmount(), "100") ||
			f.GetActualMarginPercent() != "9.09" {
			return fmt.Errorf("financials: cost %v (subcontractor %v), revenue %v, margin %v (%s %%); want 1000 (1000), 1100, 100 (9.09 %%)",
				f.GetActualCost(), f.GetActualSubcontractorCost(), f.GetActualRevenue(), f.GetActualMargin(), f.GetActualMarginPercent())
		}
		return nil
	})
}
