package app_test

import (
	"testing"

	"github.com/shopspring/decimal"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
	"github.com/accrue/accrue/services/billing/internal/suppliercost"
)

// A rule by the hours of a customer's projects: 1,000.00 over the customer's P1/P2/P3 (10/20/30
// h) → 166.67/333.33/500.00, nothing on another customer's P4 (40 h); P2's hours corrected to
// 30 h re-allocate it (the rule names no project, the customer's contract links them) →
// 142.86/428.57/428.57.
func TestSupplierLineSplitByHoursOfACustomersProjects(t *testing.T) {
	e := supplierEnv(t, legalentity.Reject)
	const customer, other = "01a22200-0000-7000-8000-0000000000c1", "01a22200-0000-7000-8000-0000000000c9"
	const p4, taskP4 = "01a22200-0000-7000-8000-0000000000b4", "01a22200-0000-7000-8000-0000000000d4"
	terms := e.Terms(billingtest.StandardCard()...)
	terms.CustomerID = other
	c2, _, err := e.UC.UpsertContract(e.Ctx, contract.ExternalRef{System: "crm", ObjectType: "Opportunity", ExternalID: "O2"}, 1, terms, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.UC.ApplyProject(e.Ctx, ledger.Project{ID: p4, LegalEntityID: e.LE.ID, ContractID: c2.ID,
		Tasks: map[string]ledger.Task{taskP4: {Billable: true, LineKey: "L1"}}}, "PROJECT_STATUS_ACTIVE", 2); err != nil {
		t.Fatal(err)
	}
	e.work(map[string]string{p1: "10", p2: "20", p3: "30"})
	e.post(ledger.Source{Type: ledger.SourceTime, ID: "te-p4-40", Version: 1, ResourceID: billingtest.Consult, ProjectID: p4, TaskID: taskP4,
		Date: billingtest.Day("2026-03-10"), Hours: decimal.NewFromInt(40), Billable: true})

	_, err = e.UC.UpsertAllocationRule(e.Ctx, e.LE.ID, suppliercost.Rule{Name: "nobody", Kind: suppliercost.ByHours,
		CustomerID: "01a22200-0000-7000-8000-0000000000cf"})
	wantReason(t, err, "ALLOCATION_RULE_INVALID")
	r, err := e.UC.UpsertAllocationRule(e.Ctx, e.LE.ID, suppliercost.Rule{Name: "customer-hours", Kind: suppliercost.ByHours, CustomerID: customer})
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != 1 || r.CustomerID != customer || len(r.Targets) != 0 {
		t.Fatalf("rule = %+v, want version 1 of the customer's, no targets", r)
	}
	l, _ := e.record(bill(billingtest.USD("1000.00"), "customer-hours"))
	e.allocate(l)
	e.wantCosts(map[string]string{p1: "166.67", p2: "333.33", p3: "500.00", p4: "0.00"})

	before := e.requests()
	rev := ledger.Source{Type: ledger.SourceTime, ID: "te-p2-R", Version: 1, ResourceID: billingtest.Consult, ProjectID: p2, TaskID: taskP2,
		Date: billingtest.Day("2026-03-10"), Hours: decimal.NewFromInt(-20), Billable: true, ReversesID: "te-" + p2 + "-20"}
	fix := ledger.Source{Type: ledger.SourceTime, ID: "te-p2-30", Version: 1, ResourceID: billingtest.Consult, ProjectID: p2, TaskID: taskP2,
		Date: billingtest.Day("2026-03-10"), Hours: decimal.NewFromInt(30), Billable: true}
	e.post(rev, fix)
	if got := e.requests() - before; got != 1 {
		t.Fatalf("re-allocation requests = %d, want 1", got)
	}
	if err := e.UC.AllocateSupplierLines(e.Ctx, []app.AllocationRequest{{LineID: l.ID, Version: l.Version, Reallocate: true}}); err != nil {
		t.Fatal(err)
	}
	e.wantCosts(map[string]string{p1: "142.86", p2: "428.57", p3: "428.57", p4: "0.00"})
	if got := e.payable(); got != "1000.00" {
		t.Errorf("accounts payable = %s, want 1000.00", got)
	}
	e.wantBalanced()
}

// Labor cost re-costed after allocation: the architect's cost rate raised from 70.00 to 110.00
// back to January moves P3's labor cost 700.00 → 1,100.00 (P1, P2 200.00 each), so 1,000.00 split
// by labor cost goes from 181.82/181.82/636.36 to 133.34/133.33/733.33 by reversal and re-posting,
// asked for by the re-costing itself.
func TestSupplierLineReallocatesWhenLaborIsRecosted(t *testing.T) {
	e := supplierEnv(t, legalentity.Reject)
	e.work(map[string]string{p1: "10", p2: "10"})
	e.post(ledger.Source{Type: ledger.SourceTime, ID: "te-p3-arch", Version: 1, ResourceID: billingtest.Architect, ProjectID: p3, TaskID: taskP3,
		Date: billingtest.Day("2026-03-10"), Hours: decimal.NewFromInt(10), Billable: true})
	e.rule("by-labor", suppliercost.ByLaborCost, p1, p2, p3)
	e.rule("by-hours", suppliercost.ByHours, p1, p2, p3)
	l, _ := e.record(bill(billingtest.USD("1000.00"), "by-labor"))
	e.allocate(l)
	e.wantCosts(map[string]string{p1: "181.82", p2: "181.82", p3: "636.36"})
	h := bill(billingtest.USD("300.00"), "by-hours")
	h.LineNo = 2
	h, _ = e.record(h)
	e.allocate(h)

	before := e.requests()
	if err := e.UC.ApplyCostRates(e.Ctx, billingtest.Architect, "ARCHITECT", 2, []ledger.CostRate{{Rate: billingtest.USD("110.00"),
		From: billingtest.Day("2026-01-01")}}); err != nil {
		t.Fatal(err)
	}
	// One request, for the labor-cost line: the hours did not change.
	if got := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM outbox WHERE event_type = $1 AND subject = $2`,
		billingv1.EventTypeSupplierCostAllocationRequested, l.ID); e.requests()-before != 1 || got != 2 {
		t.Fatalf("re-allocation requests = %d (%d of the labor-cost line, want 2 in all), want 1", e.requests()-before, got)
	}
	for i := 0; i < 2; i++ { // delivered twice: re-allocates once
		if err := e.UC.AllocateSupplierLines(e.Ctx, []app.AllocationRequest{{LineID: l.ID, Version: l.Version, Reallocate: true}}); err != nil {
			t.Fatal(err)
		}
	}
	// 300.00 by hours 10/10/10 → 100.00 each, unmoved; the labor-cost line moved.
	e.wantCosts(map[string]string{p1: "233.34", p2: "233.33", p3: "833.33"})
	if n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM journal_entries WHERE source_id = $1 AND reverses_id IS NOT NULL`, l.ID); n != 1 {
		t.Errorf("reversals of the labor-cost line = %d, want 1", n)
	}
	if got := e.payable(); got != "1300.00" {
		t.Errorf("accounts payable = %s, want 1300.00", got)
	}
	e.wantBalanced()
}
