package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/services/project/internal/financials"
	"github.com/accrue/accrue/services/project/internal/project"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func day(s string) civil.Date {
	d, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// contract is the replica of the opportunity's contract: consultants at rate on the
// time-and-materials line IMPL-1, and the fixed-fee line TRN-1.
func contract(id string, version int64, rate string) financials.Contract {
	return financials.Contract{ID: id, Version: version, Lines: []financials.ContractLine{
		{Key: "IMPL-1", BillingMethod: financials.TimeAndMaterials, Amount: dec("80000.00"), Currency: "USD",
			Rates: []financials.BillRate{{Role: "CONSULTANT", Rate: dec(rate), From: day("2026-01-01")}}},
		{Key: "TRN-1", BillingMethod: "FIXED_FEE", Amount: dec("20000.00"), Currency: "USD"},
	}}
}

// plan is version v of an assignment of role on task, hoursPerDay on the working days from..to.
func plan(id, projectID, taskID, role string, v int64, from, to, hoursPerDay, planned string) financials.Plan {
	return financials.Plan{AssignmentID: id, ProjectID: projectID, TaskID: taskID, Role: role, Status: "CONFIRMED",
		Segments:     []financials.Segment{{From: day(from), To: day(to), HoursPerDay: dec(hoursPerDay)}},
		PlannedHours: dec(planned), Version: v, SourceTime: time.Now()}
}

func taskNamed(t *testing.T, p project.Project, name string) string {
	t.Helper()
	for _, k := range p.Tasks {
		if k.Name == name {
			return k.ID
		}
	}
	t.Fatalf("project has no task %q", name)
	return ""
}

func economics(t *testing.T, e *env, projectID string) financials.Economics {
	t.Helper()
	f, err := e.uc.Financials(context.Background(), projectID)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Staffing plans are forecast at the contract's bill rates: hours on billable tasks of the
// time-and-materials line earn the role's rate, a role without a rate is flagged, fixed-fee work
// earns the line's amount once, non-billable work earns nothing. New rates re-price the
// forecast; stale contract or plan versions change nothing; a cancelled plan drops out.
func TestForecastPricesPlansAtTheContractsRates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	conv, err := e.uc.Convert(ctx, opportunity("006F", 1))
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.uc.GetProject(ctx, conv.Project.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.uc.ApplyContract(ctx, contract(p.ContractID, 1, "150.00")); err != nil {
		t.Fatal(err)
	}
	design, pm, delivery := taskNamed(t, p, "Design"), taskNamed(t, p, "Project management"), taskNamed(t, p, "Delivery")
	a1 := uuid.NewString()
	for _, pl := range []financials.Plan{
		plan(a1, p.ID, design, "CONSULTANT", 1, "2026-06-01", "2026-06-05", "8", "40"),                // 40h × 150.00
		plan(uuid.NewString(), p.ID, design, "DESIGNER", 1, "2026-06-08", "2026-06-09", "4", "8"),     // no rate: 8h flagged
		plan(uuid.NewString(), p.ID, delivery, "CONSULTANT", 1, "2026-09-01", "2026-09-01", "8", "8"), // fixed fee
		plan(uuid.NewString(), p.ID, pm, "CONSULTANT", 1, "2026-06-01", "2026-06-01", "8", "8"),       // not billable
	} {
		if err := e.uc.ApplyPlan(ctx, pl); err != nil {
			t.Fatal(err)
		}
	}
	f := economics(t, e, p.ID)
	if !f.PlannedHours.Equal(dec("64")) || !f.PlannedBillableHours.Equal(dec("56")) || !f.ForecastRevenue.Equal(dec("26000")) ||
		!f.MissingBillRateHours.Equal(dec("8")) {
		t.Fatalf("economics: planned %s h (%s billable), forecast revenue %s, %s h missing a rate; want 64 (56), 26000 (6000 + the 20000 fee), 8",
			f.PlannedHours, f.PlannedBillableHours, f.ForecastRevenue, f.MissingBillRateHours)
	}

	if err := e.uc.ApplyContract(ctx, contract(p.ContractID, 2, "160.00")); err != nil {
		t.Fatal(err)
	}
	if err := e.uc.ApplyContract(ctx, contract(p.ContractID, 1, "150.00")); err != nil { // stale: ignored
		t.Fatal(err)
	}
	if f := economics(t, e, p.ID); !f.ForecastRevenue.Equal(dec("26400")) {
		t.Fatalf("forecast revenue %s after the rate rose to 160.00, want 26400", f.ForecastRevenue)
	}

	cancelled := plan(a1, p.ID, design, "CONSULTANT", 2, "2026-06-01", "2026-06-05", "8", "40")
	cancelled.Status = financials.Cancelled
	if err := e.uc.ApplyPlan(ctx, cancelled); err != nil {
		t.Fatal(err)
	}
	if err := e.uc.ApplyPlan(ctx, plan(a1, p.ID, design, "CONSULTANT", 1, "2026-06-01", "2026-06-05", "8", "40")); err != nil { // stale
		t.Fatal(err)
	}
	if f := economics(t, e, p.ID); !f.ForecastRevenue.Equal(dec("20000")) || !f.PlannedBillableHours.Equal(dec("16")) || !f.PlannedHours.Equal(dec("24")) {
		t.Fatalf("after cancelling: forecast %s, %s billable of %s planned hours; want 20000, 16 of 24", f.ForecastRevenue, f.PlannedBillableHours, f.PlannedHours)
	}
}

// Work staffed while the project waits for its contract has no rate yet; the activation prices
// it at the contract's rates.
func TestActivationPricesWorkStaffedBeforeTheContract(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pending := pendingConversion(t, e, opportunity("006G", 1))
	p, err := e.uc.GetProject(ctx, pending.Project.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.uc.ApplyPlan(ctx, plan(uuid.NewString(), p.ID, taskNamed(t, p, "Design"), "CONSULTANT", 1, "2026-06-01", "2026-06-05", "8", "40")); err != nil {
		t.Fatal(err)
	}
	if f := economics(t, e, p.ID); !f.ForecastRevenue.IsZero() || !f.MissingBillRateHours.Equal(dec("40")) {
		t.Fatalf("before the contract: forecast %s, %s h missing a rate; want 0 and 40", f.ForecastRevenue, f.MissingBillRateHours)
	}
	// Billing creates the contract; its replica arrives before the activation retry runs.
	contractID := uuid.NewString()
	e.billing.contracts["006G"] = &billingv1.Contract{ContractId: contractID, Version: 1, SourceVersion: 1}
	e.billing.setDown(false)
	if err := e.uc.ApplyContract(ctx, contract(contractID, 1, "150.00")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.queue.Retry(ctx, pending.ExceptionID, "tester"); err != nil {
		t.Fatal(err)
	}
	if f := economics(t, e, p.ID); !f.ForecastRevenue.Equal(dec("26000")) || !f.MissingBillRateHours.IsZero() || f.Status != project.Active {
		t.Fatalf("after activation: %s, forecast %s, %s h missing a rate; want ACTIVE, 26000 (6000 + the fee), 0", f.Status, f.ForecastRevenue, f.MissingBillRateHours)
	}
}
