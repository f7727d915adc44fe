package app_test

import (
	"testing"

	"github.com/shopspring/decimal"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
	"github.com/accrue/accrue/services/billing/internal/suppliercost"
)

// Three projects of the fixture's contract: P1 is billingtest.Project.
const (
	p1, p2, p3 = billingtest.Project, "01a22200-0000-7000-8000-0000000000b2", "01a22200-0000-7000-8000-0000000000b3"
	taskP2     = "01a22200-0000-7000-8000-0000000000d2"
	taskP3     = "01a22200-0000-7000-8000-0000000000d3"
)

var taskOf = map[string]string{p1: billingtest.TaskBill, p2: taskP2, p3: taskP3}

// supplierEnv is billing with the three projects on the fixture's contract.
func supplierEnv(t *testing.T, policy legalentity.ClosedPeriodPolicy) env {
	e := newEnv(t, policy)
	c := e.WithProject(e.Terms(billingtest.StandardCard()...))
	for _, p := range []string{p2, p3} {
		if err := e.UC.ApplyProject(e.Ctx, ledger.Project{ID: p, LegalEntityID: e.LE.ID, ContractID: c.ID,
			Tasks: map[string]ledger.Task{taskOf[p]: {Billable: true, LineKey: "L1"}}}, "PROJECT_STATUS_ACTIVE", 2); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// work posts hours of the consultant (cost 20.00/h) on each project on 2026-03-10.
func (e env) work(hoursByProject map[string]string) {
	e.T.Helper()
	var sources []ledger.Source
	for p, h := range hoursByProject {
		sources = append(sources, ledger.Source{Type: ledger.SourceTime, ID: "te-" + p + "-" + h, Version: 1, ResourceID: billingtest.Consult,
			ProjectID: p, TaskID: taskOf[p], Date: billingtest.Day("2026-03-10"), Hours: decimal.RequireFromString(h), Billable: true})
	}
	e.post(sources...)
}

func (e env) rule(name string, kind suppliercost.RuleKind, projects ...string) suppliercost.Rule {
	e.T.Helper()
	r := suppliercost.Rule{Name: name, Kind: kind}
	for _, p := range projects {
		r.Targets = append(r.Targets, suppliercost.Target{ProjectID: p})
	}
	r, err := e.UC.UpsertAllocationRule(e.Ctx, e.LE.ID, r)
	if err != nil {
		e.T.Fatal(err)
	}
	return r
}

// bill is line 1 of bill B-100 of vendor V-7, dated 2026-03-31 for March 2026.
func bill(a money.Amount, rule string) suppliercost.Line {
	return suppliercost.Line{VendorID: "V-7", VendorName: "Subco Ltd", BillNumber: "B-100", LineNo: 1, Amount: a,
		BillDate: billingtest.Day("2026-03-31"), PeriodStart: billingtest.Day("2026-03-01"), PeriodEnd: billingtest.Day("2026-03-31"),
		Description: "subcontracted testing", RuleName: rule}
}

func (e env) record(l suppliercost.Line) (suppliercost.Line, suppliercost.Outcome) {
	e.T.Helper()
	got, out, err := e.UC.RecordSupplierBillLine(e.Ctx, e.LE.ID, l)
	if err != nil {
		e.T.Fatal(err)
	}
	return got, out
}

func (e env) allocate(l suppliercost.Line) {
	e.T.Helper()
	if err := e.UC.AllocateSupplierLines(e.Ctx, []app.AllocationRequest{{LineID: l.ID, Version: l.Version}}); err != nil {
		e.T.Fatal(err)
	}
}

// costOn is debits − credits of subcontractor cost on a project; payable the credit balance of
// accounts payable.
func (e env) costOn(project string) string {
	return billingtest.Scalar[string](e.Env, `SELECT COALESCE(sum(debit - credit), 0)::numeric(18,2)::text FROM journal_lines
		WHERE account_code = $1 AND project_id = $2`, ledger.SubcontractorCost, project)
}

func (e env) payable() string {
	return billingtest.Scalar[string](e.Env, `SELECT COALESCE(sum(credit - debit), 0)::numeric(18,2)::text FROM journal_lines WHERE account_code = $1`,
		ledger.AccountsPayable)
}

func (e env) requests() int64 {
	return billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM outbox WHERE event_type = $1`, billingv1.EventTypeSupplierCostAllocationRequested)
}

func (e env) wantCosts(want map[string]string) {
	e.T.Helper()
	for p, w := range want {
		if got := e.costOn(p); got != w {
			e.T.Errorf("subcontractor cost on %s = %s, want %s", p, got, w)
		}
	}
}

func (e env) wantBalanced() {
	e.T.Helper()
	if d := billingtest.Scalar[string](e.Env, `SELECT (sum(debit) - sum(credit))::text FROM journal_lines`); decimal.RequireFromString(d).Sign() != 0 {
		e.T.Errorf("ledger out of balance by %s", d)
	}
}

// 1,000.00 split by approved hours 10/20/30 → 166.67/333.33/500.00; posted once however often
// asked; a new amount for the same key reverses and re-posts, never edits.
func TestSupplierLineSplitByHoursPostsOnceAndCorrectsByReversal(t *testing.T) {
	e := supplierEnv(t, legalentity.Reject)
	e.work(map[string]string{p1: "10", p2: "20", p3: "30"})
	e.rule("by-hours", suppliercost.ByHours, p1, p2, p3)

	l, out := e.record(bill(billingtest.USD("1000.00"), "by-hours"))
	if out != suppliercost.Created || l.Version != 1 || e.requests() != 1 {
		t.Fatalf("record = %s v%d with %d requests, want CREATED v1 with 1", out, l.Version, e.requests())
	}
	k, err := e.UC.SupplierCostKPIs(e.Ctx, e.LE.ID)
	if err != nil {
		t.Fatal(err)
	}
	if k.Awaiting != 1 || len(k.Amounts) != 1 || k.Amounts[0].String() != "1000.00 USD" {
		t.Fatalf("KPIs before allocation = %+v, want 1 line of 1000.00 USD", k)
	}
	for i := 0; i < 3; i++ { // the same request delivered three times
		e.allocate(l)
	}
	e.wantCosts(map[string]string{p1: "166.67", p2: "333.33", p3: "500.00"})
	if got := e.payable(); got != "1000.00" {
		t.Errorf("accounts payable = %s, want 1000.00", got)
	}
	if n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM journal_entries WHERE source_id = $1`, l.ID); n != 1 {
		t.Errorf("entries of the line = %d, want 1", n)
	}
	if k, _ := e.UC.SupplierCostKPIs(e.Ctx, e.LE.ID); k.Awaiting != 0 {
		t.Errorf("awaiting after allocation = %d, want 0", k.Awaiting)
	}

	if again, out := e.record(bill(billingtest.USD("1000.00"), "by-hours")); out != suppliercost.Unchanged || again.Version != 1 || e.requests() != 1 {
		t.Fatalf("same line again = %s v%d, %d requests; want UNCHANGED v1, 1 request", out, again.Version, e.requests())
	}
	l2, out := e.record(bill(billingtest.USD("1200.00"), "by-hours"))
	if out != suppliercost.Corrected || l2.Version != 2 || l2.ID != l.ID {
		t.Fatalf("new amount = %s v%d, want CORRECTED v2 of the same line", out, l2.Version)
	}
	e.allocate(l)  // the stale request of version 1: nothing
	e.allocate(l2) // 1,200.00 by 10/20/30 → 200.00/400.00/600.00
	e.allocate(l2)
	e.wantCosts(map[string]string{p1: "200.00", p2: "400.00", p3: "600.00"})
	if got := e.payable(); got != "1200.00" {
		t.Errorf("accounts payable = %s, want 1200.00", got)
	}
	if n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM journal_entries WHERE source_id = $1`, l.ID); n != 3 {
		t.Errorf("entries of the line = %d, want 3 (original, reversal, new)", n)
	}
	if n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM journal_entries r JOIN journal_entries o ON o.id = r.reverses_id
		WHERE o.source_id = $1 AND o.source_version = 1`, l.ID); n != 1 {
		t.Errorf("reversals of version 1 = %d, want 1", n)
	}
	e.wantBalanced()
}

// 100.00 split by equal labor cost (10 h × 20.00 on each project) → 33.34/33.33/33.33.
func TestSupplierLineSplitByLaborCostLargestRemainder(t *testing.T) {
	e := supplierEnv(t, legalentity.Reject)
	e.work(map[string]string{p1: "10", p2: "10", p3: "10"})
	e.rule("by-labor", suppliercost.ByLaborCost, p1, p2, p3)
	l, _ := e.record(bill(billingtest.USD("100.00"), "by-labor"))
	e.allocate(l)
	e.wantCosts(map[string]string{p1: "33.34", p2: "33.33", p3: "33.33"})
	if got := e.payable(); got != "100.00" {
		t.Errorf("accounts payable = %s, want 100.00", got)
	}
	e.wantBalanced()
}

// Bad lines are refused with a stable reason and nothing is written.
func TestSupplierLineRejections(t *testing.T) {
	e := supplierEnv(t, legalentity.Reject)
	if err := e.UC.ApplyProject(e.Ctx, ledger.Project{ID: p3, LegalEntityID: e.LE.ID}, "PROJECT_STATUS_CLOSED", 3); err != nil {
		t.Fatal(err)
	}
	if _, err := e.UC.SetPeriod(e.Ctx, e.LE.ID, "2026-02", true); err != nil {
		t.Fatal(err)
	}
	direct := func(project string) suppliercost.Line {
		l := bill(billingtest.USD("10.00"), "")
		l.ProjectID = project
		return l
	}
	febLine := direct(p1)
	febLine.BillDate = billingtest.Day("2026-02-27")
	for _, c := range []struct {
		name, reason string
		line         suppliercost.Line
	}{
		{"unknown project", "SUPPLIER_COST_PROJECT_UNKNOWN", direct("01a22200-0000-7000-8000-0000000000ff")},
		{"closed project", "SUPPLIER_COST_PROJECT_CLOSED", direct(p3)},
		{"unknown currency", money.ReasonUnknownCurrency, bill(money.Amount{Value: decimal.NewFromInt(10), Currency: "XYZ"}, "by-hours")},
		{"period closed", "SUPPLIER_COST_PERIOD_CLOSED", febLine},
		{"missing rule", "ALLOCATION_RULE_MISSING", bill(billingtest.USD("10.00"), "no-such-rule")},
		{"no project, no rule", "ALLOCATION_RULE_MISSING", bill(billingtest.USD("10.00"), "")},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := e.UC.RecordSupplierBillLine(e.Ctx, e.LE.ID, c.line)
			wantReason(t, err, c.reason)
		})
	}
	if n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM supplier_bill_lines`); n != 0 || e.requests() != 0 {
		t.Errorf("%d lines and %d requests written, want none", n, e.requests())
	}
	bad := suppliercost.Rule{Name: "shares", Kind: suppliercost.FixedShares, Targets: []suppliercost.Target{
		{ProjectID: p1, Percent: decimal.RequireFromString("50")}, {ProjectID: p2, Percent: decimal.RequireFromString("49.99")}}}
	_, err := e.UC.UpsertAllocationRule(e.Ctx, e.LE.ID, bad)
	wantReason(t, err, "ALLOCATION_RULE_INVALID")
}

// A EUR bill on the USD legal entity with no rate parks (FX_RATE_MISSING); SetExchangeRate
// re-drives it and it posts at that rate.
func TestSupplierLineParksForMissingRateUntilSet(t *testing.T) {
	e := supplierEnv(t, legalentity.Reject)
	l := bill(billingtest.EUR("1000.00"), "")
	l.ProjectID, l.TaskID = p1, billingtest.TaskBill
	l, _ = e.record(l)
	e.allocate(l)
	if st := billingtest.Scalar[string](e.Env, `SELECT status || '/' || status_reason FROM supplier_bill_lines WHERE id = $1`, l.ID); st != "PARKED/FX_RATE_MISSING" {
		t.Fatalf("line = %s, want PARKED/FX_RATE_MISSING", st)
	}
	if k, _ := e.UC.SupplierCostKPIs(e.Ctx, e.LE.ID); k.Parked != 1 || k.Awaiting != 1 {
		t.Fatalf("KPIs = %+v, want 1 awaiting, 1 parked", k)
	}
	if n := e.openSupplierExceptions(); n != 1 {
		t.Fatalf("open supplier_cost.parked exceptions = %d, want 1", n)
	}
	before := e.requests()
	if err := e.UC.SetExchangeRate(e.Ctx, ledger.ExchangeRate{From: "EUR", To: "USD", Date: billingtest.Day("2026-03-31"),
		Rate: decimal.RequireFromString("1.1")}); err != nil {
		t.Fatal(err)
	}
	if e.requests() != before+1 {
		t.Fatalf("SetExchangeRate wrote %d allocation requests, want 1", e.requests()-before)
	}
	e.allocate(l) // the re-driven request
	e.wantCosts(map[string]string{p1: "1100.00"})
	if n := e.openSupplierExceptions(); n != 0 {
		t.Errorf("open supplier_cost.parked exceptions after allocation = %d, want 0", n)
	}
	if got := e.payable(); got != "1100.00" {
		t.Errorf("accounts payable = %s USD, want 1100.00", got)
	}
	e.wantBalanced()
}

// Hours on P2 corrected from 20 h to 30 h after allocation: the posting of the correction asks
// for a re-allocation, which reverses the entry and posts 10/30/30 h → 142.86/428.57/428.57.
func TestSupplierLineReallocatesWhenHoursChange(t *testing.T) {
	e := supplierEnv(t, legalentity.Reject)
	e.work(map[string]string{p1: "10", p2: "20", p3: "30"})
	e.rule("by-hours", suppliercost.ByHours, p1, p2, p3)
	l, _ := e.record(bill(billingtest.USD("1000.00"), "by-hours"))
	e.allocate(l)
	e.wantCosts(map[string]string{p1: "166.67", p2: "333.33", p3: "500.00"})

	before := e.requests()
	rev := ledger.Source{Type: ledger.SourceTime, ID: "te-p2-R", Version: 1, ResourceID: billingtest.Consult, ProjectID: p2, TaskID: taskP2,
		Date: billingtest.Day("2026-03-10"), Hours: decimal.NewFromInt(-20), Billable: true, ReversesID: "te-" + p2 + "-20"}
	fix := ledger.Source{Type: ledger.SourceTime, ID: "te-p2-30", Version: 1, ResourceID: billingtest.Consult, ProjectID: p2, TaskID: taskP2,
		Date: billingtest.Day("2026-03-10"), Hours: decimal.NewFromInt(30), Billable: true}
	e.post(rev, fix)
	if got := e.requests() - before; got != 1 {
		t.Fatalf("re-allocation requests = %d, want 1", got)
	}
	for i := 0; i < 2; i++ { // delivered twice: re-allocates once
		if err := e.UC.AllocateSupplierLines(e.Ctx, []app.AllocationRequest{{LineID: l.ID, Version: l.Version, Reallocate: true}}); err != nil {
			t.Fatal(err)
		}
	}
	e.wantCosts(map[string]string{p1: "142.86", p2: "428.57", p3: "428.57"})
	if got := e.payable(); got != "1000.00" {
		t.Errorf("accounts payable = %s, want 1000.00", got)
	}
	if n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM journal_entries WHERE source_id = $1`, l.ID); n != 3 {
		t.Errorf("entries of the line = %d, want 3 (original, its reversal, re-allocation)", n)
	}
	if n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM journal_entries WHERE source_id = $1 AND reverses_id IS NOT NULL`, l.ID); n != 1 {
		t.Errorf("reversals = %d, want 1", n)
	}
	e.wantBalanced()
}

func (e env) openSupplierExceptions() int64 {
	e.T.Helper()
	n, err := e.Queue.CountOpen(e.Ctx, app.KindSupplierParked, "")
	if err != nil {
		e.T.Fatal(err)
	}
	return n
}
