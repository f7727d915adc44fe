package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/accrue/accrue/e2e/internal/harness"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
)

// Workflow 2 (staffing → cost forecast).

// staffedProject converts a deal with one T&M CONSULTING line (consultants billed at 150.00,
// the project running June and July 2026), waits until the resource service knows the project,
// and returns it with a billable task of the line.
func staffedProject(t *testing.T, env *harness.Env, name string) (*projectv1.Project, *projectv1.Task) {
	t.Helper()
	conv := mustConvert(t, env, tmOnlyOpportunity("006-"+name+"-"+env.ID(), "001-"+name+"-"+env.ID()), http.StatusCreated)
	if conv.GetProjectStatus() != projectv1.ProjectStatus_PROJECT_STATUS_ACTIVE || conv.GetTaskCount() != consultingTasks {
		t.Fatalf("conversion: %v, want an ACTIVE project with %d tasks", conv, consultingTasks)
	}
	p := getProject(t, env, conv.GetProject().GetId())
	waitForProjectInResource(t, env, p.GetProjectId(), len(p.GetTasks()))
	return p, billableLeafTask(t, p, "CONS-1")
}

// The 40 h/week assignment of June 8–19, 2026: ten working days of 8 hours.
var (
	june8  = date(2026, 6, 8)
	june15 = date(2026, 6, 15)
	june16 = date(2026, 6, 16)
	june19 = date(2026, 6, 19)
)

// waitForFinancials polls the project's financials until ok accepts them.
func waitForFinancials(t *testing.T, env *harness.Env, projectID string, ok func(f *projectv1.ProjectFinancials) error) *projectv1.ProjectFinancials {
	t.Helper()
	var f *projectv1.ProjectFinancials
	harness.Eventually(t, 10*time.Second, 50*time.Millisecond, func() error {
		f = getFinancials(t, env, projectID)
		return ok(f)
	})
	return f
}

// The hand-checked example of workflow 2. A consultant costs 60.00/h until June 15, 2026 and
// 66.00/h from June 16; she is staffed 40 h/week from Monday June 8 to Friday June 19 (10
// working days, 8 h a day) on a billable task of a T&M line billing consultants at 150.00/h:
//
//	June 8–12 and 15: 6 days × 8 h × 60.00 = 2880.00
//	June 16–19:       4 days × 8 h × 66.00 = 2112.00
//	planned cost                            = 4992.00 for 80 h
//	forecast revenue: 80 h × 150.00         = 12000.00 (the deal has no other line)
//	forecast margin:  12000.00 − 4992.00    = 7008.00, i.e. 58.40 % of revenue
func TestStaffingPlanIsCostedAndForecastAsHandChecked(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	createLegalEntityUS01(t, env)
	p, task := staffedProject(t, env, "staff")
	res := upsertResource(t, env, "Ada Lovelace", "W-ada-"+env.ID())
	setCostRate(t, env, res.GetResourceId(), "60.00", date(2026, 1, 1), june15)
	rates := setCostRate(t, env, res.GetResourceId(), "66.00", june16, nil)
	if len(rates.GetCurrent()) != 2 || rates.GetRecostedAssignments() != 0 {
		t.Fatalf("cost rates %v, want two periods and nothing to re-cost yet", rates)
	}

	resp := createAssignment(t, env, assignmentInput(res.GetResourceId(), p.GetProjectId(), task.GetTaskId(), june8, june19, "40"))
	a := resp.GetAssignment()
	if !resp.GetCreated() || len(resp.GetWarnings()) != 0 {
		t.Errorf("create: created %v, warnings %v; want created without warnings (40 h on 40 h capacity)", resp.GetCreated(), resp.GetWarnings())
	}
	if !sameDecimal(a.GetPlannedHours(), "80") || !moneyIs(a.GetPlannedCost(), "4992.00") || len(a.GetMissingRateDates()) != 0 || a.GetRole() != "CONSULTANT" {
		t.Errorf("assignment: %s h costing %v (missing %v, role %s); want 80 h costing 4992.00 USD as CONSULTANT", a.GetPlannedHours(), a.GetPlannedCost(),
			a.GetMissingRateDates(), a.GetRole())
	}
	if len(a.GetPeriods()) != 1 || !sameDecimal(a.GetPeriods()[0].GetHours(), "80") || !moneyIs(a.GetPeriods()[0].GetCost(), "4992.00") {
		t.Errorf("plan periods %v, want June 2026: 80 h, 4992.00 USD", a.GetPeriods())
	}
	if len(a.GetSegments()) != 1 || !sameDecimal(a.GetSegments()[0].GetHoursPerDay(), "8") {
		t.Errorf("plan segments %v, want one run of 8 h a day", a.GetSegments())
	}
	st, _, body := env.Do(http.MethodGet, "/v1/assignments/"+a.GetAssignmentId(), nil, env.Bearer(resourcesReadCost))
	var got resourcev1.GetAssignmentResponse
	decode(t, body, &got)
	if st != http.StatusOK || !moneyIs(got.GetAssignment().GetPlannedCost(), "4992.00") {
		t.Errorf("GET assignment: %d %v, want planned cost 4992.00", st, got.GetAssignment())
	}

	f := waitForFinancials(t, env, p.GetProjectId(), func(f *projectv1.ProjectFinancials) error {
		if !moneyIs(f.GetPlannedCost(), "4992.00") || !moneyIs(f.GetForecastRevenue(), "12000.00") {
			return fmt.Errorf("financials: planned cost %v, forecast revenue %v", f.GetPlannedCost(), f.GetForecastRevenue())
		}
		return nil
	})
	if !moneyIs(f.GetForecastMargin(), "7008.00") || f.GetForecastMarginPercent() != "58.40" || !sameDecimal(f.GetPlannedHours(), "80") ||
		!sameDecimal(f.GetPlannedBillableHours(), "80") || f.GetAssignmentsMissingCostRates() != 0 || !sameDecimal(f.GetBillableHoursMissingBillRate(), "0") {
		t.Errorf("financials %v; want margin 7008.00 (58.40 %%), 80 planned and billable hours, nothing missing", f)
	}
	if !moneyIs(f.GetBudget().GetRevenue(), "24000.00") || f.GetStatus() != projectv1.ProjectStatus_PROJECT_STATUS_ACTIVE {
		t.Errorf("financials budget %v, status %s; want revenue 24000.00, ACTIVE", f.GetBudget(), f.GetStatus())
	}

	// Cost rates are never logged, by any process.
	if leaks := secretLeaks(env, "60.00", "66.00"); len(leaks) > 0 {
		t.Errorf("cost rates appear in the logs (%d lines), first: %s", len(leaks), leaks[0])
	}
}

// An assignment planned on days without a cost rate is flagged (missing dates, the KPI gauge,
// an exception, the rate-missing list, the project's count) and, once the rate is set, re-costed
// with no other action: the flag, the gauge and the exception clear and the forecast follows.
func TestMissingCostRateIsFlaggedThenRecostedAutomatically(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	createLegalEntityUS01(t, env)
	p, task := staffedProject(t, env, "norate")
	res := upsertResource(t, env, "Grace Hopper", "W-grace-"+env.ID())
	setCostRate(t, env, res.GetResourceId(), "60.00", date(2026, 1, 1), june15)

	resp := createAssignment(t, env, assignmentInput(res.GetResourceId(), p.GetProjectId(), task.GetTaskId(), june8, june19, "40"))
	a := resp.GetAssignment()
	var missing []string
	for _, d := range a.GetMissingRateDates() {
		missing = append(missing, fmt.Sprintf("%04d-%02d-%02d", d.GetYear(), d.GetMonth(), d.GetDay()))
	}
	if strings.Join(missing, ",") != "2026-06-16,2026-06-17,2026-06-18,2026-06-19" || a.GetPlannedCost() != nil || !sameDecimal(a.GetPlannedHours(), "80") {
		t.Fatalf("assignment without a rate after June 15: missing %v, cost %v, %s h; want June 16–19 missing, no cost, 80 h",
			missing, a.GetPlannedCost(), a.GetPlannedHours())
	}
	id := a.GetAssignmentId()

	listMissing := func() *resourcev1.ListAssignmentsResponse {
		t.Helper()
		st, _, body := env.Do(http.MethodGet, "/v1/assignments?rate_missing_only=true", nil, env.Bearer(resourcesReadCost))
		if st != http.StatusOK {
			t.Fatalf("list rate-missing assignments: %d: %s", st, body)
		}
		var l resourcev1.ListAssignmentsResponse
		decode(t, body, &l)
		return &l
	}
	if l := listMissing(); l.GetTotalCount() != 1 || len(l.GetAssignments()) != 1 || l.GetAssignments()[0].GetAssignmentId() != id {
		t.Errorf("rate-missing list: total %d %v, want just %s", l.GetTotalCount(), l.GetAssignments(), id)
	}
	exc := findException(listExceptions(t, env, "resource", "kind=assignment.costing"), "assignment.costing", id)
	if exc == nil || exc.GetStatus() != opsv1.ExceptionStatus_EXCEPTION_STATUS_OPEN || exc.GetReason() != "RATE_MISSING_FOR_DATE" || exc.GetEntityType() != "assignment" {
		t.Fatalf("costing exception %v, want OPEN RATE_MISSING_FOR_DATE about assignment %s", exc, id)
	}
	if strings.Contains(exc.GetMessage(), "60.00") {
		t.Errorf("the exception message shows a cost rate: %q", exc.GetMessage())
	}
	gauge := func(want string) time.Duration {
		t.Helper()
		return harness.Eventually(t, 12*time.Second, 200*time.Millisecond, func() error {
			if v, ok := metricValue(t, env, "resource", "accrue_assignments_missing_cost_rates"); !ok || !sameDecimal(v, want) {
				return fmt.Errorf("accrue_assignments_missing_cost_rates = %q (present %v), want %s", v, ok, want)
			}
			return nil
		})
	}
	t.Logf("the missing-rates gauge showed 1 after %s", gauge("1").Round(time.Millisecond))
	waitForFinancials(t, env, p.GetProjectId(), func(f *projectv1.ProjectFinancials) error {
		if f.GetAssignmentsMissingCostRates() != 1 || !moneyIs(f.GetPlannedCost(), "0.00") || !moneyIs(f.GetForecastRevenue(), "12000.00") {
			return fmt.Errorf("financials: %d assignments missing rates, planned cost %v, revenue %v", f.GetAssignmentsMissingCostRates(),
				f.GetPlannedCost(), f.GetForecastRevenue())
		}
		return nil
	})

	// The rate arrives; nothing else is done.
	set := setCostRate(t, env, res.GetResourceId(), "66.00", june16, nil)
	if set.GetRecostedAssignments() != 1 {
		t.Errorf("setting the missing rate re-costed %d assignments, want 1", set.GetRecostedAssignments())
	}
	st, _, body := env.Do(http.MethodGet, "/v1/assignments/"+id, nil, env.Bearer(resourcesReadCost))
	var got resourcev1.GetAssignmentResponse
	decode(t, body, &got)
	if g := got.GetAssignment(); st != http.StatusOK || !moneyIs(g.GetPlannedCost(), "4992.00") || len(g.GetMissingRateDates()) != 0 || g.GetVersion() != 2 {
		t.Errorf("assignment after the rate arrived: %d %v; want version 2 costing 4992.00 with no missing dates", st, g)
	}
	st, _, body = env.Do(http.MethodGet, "/v1/ops/resource/exceptions/"+exc.GetExceptionId(), nil, env.Bearer(opsRead))
	var e opsv1.GetExceptionResponse
	decode(t, body, &e)
	if st != http.StatusOK || e.GetException().GetStatus() != opsv1.ExceptionStatus_EXCEPTION_STATUS_RESOLVED {
		t.Errorf("costing exception after the rate arrived: %d %v, want RESOLVED", st, e.GetException())
	}
	if l := listMissing(); l.GetTotalCount() != 0 {
		t.Errorf("rate-missing list after the rate arrived: total %d, want 0", l.GetTotalCount())
	}
	t.Logf("the missing-rates gauge returned to 0 after %s", gauge("0").Round(time.Millisecond))
	f := waitForFinancials(t, env, p.GetProjectId(), func(f *projectv1.ProjectFinancials) error {
		if f.GetAssignmentsMissingCostRates() != 0 || !moneyIs(f.GetPlannedCost(), "4992.00") {
			return fmt.Errorf("financials: %d assignments missing rates, planned cost %v", f.GetAssignmentsMissingCostRates(), f.GetPlannedCost())
		}
		return nil
	})
	if !moneyIs(f.GetForecastMargin(), "7008.00") || f.GetForecastMarginPercent() != "58.40" {
		t.Errorf("forecast margin %v (%s %%), want 7008.00 (58.40 %%)", f.GetForecastMargin(), f.GetForecastMarginPercent())
	}
	if n := env.Count("resource", `SELECT count(*) FROM outbox WHERE event_type = 'assignment.changed' AND subject = $1`, id); n != 2 {
		t.Errorf("%d assignment.changed events for the assignment, want 2 (created, re-costed)", n)
	}
}

// Assignments are checked against the resource service's replica of the project: an unknown
// project, a task of another project and dates outside the project are refused with their
// reasons and write nothing; overbooking a week is accepted with an OVERBOOKED warning under the
// default policy.
func TestAssignmentsAreCheckedAgainstTheirProject(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	createLegalEntityUS01(t, env)
	pa, taskA := staffedProject(t, env, "proj-a")
	convB := mustConvert(t, env, opportunity("006-proj-b-"+env.ID(), "001-proj-b-"+env.ID(), 100), http.StatusCreated)
	pb := getProject(t, env, convB.GetProject().GetId())
	waitForProjectInResource(t, env, pb.GetProjectId(), len(pb.GetTasks()))
	taskB := billableLeafTask(t, pb, "IMPL-1")
	res := upsertResource(t, env, "Alan Turing", "W-alan-"+env.ID())
	setCostRate(t, env, res.GetResourceId(), "60.00", date(2026, 1, 1), nil)
	rid := res.GetResourceId()

	for _, c := range []struct {
		name   string
		in     *resourcev1.AssignmentInput
		reason string
	}{
		{"unknown project", assignmentInput(rid, uuid.Must(uuid.NewV7()).String(), taskA.GetTaskId(), june8, june19, "20"), "PROJECT_NOT_FOUND"},
		{"task of another project", assignmentInput(rid, pa.GetProjectId(), taskB.GetTaskId(), june8, june19, "20"), "TASK_NOT_IN_PROJECT"},
		{"dates outside the project", assignmentInput(rid, pa.GetProjectId(), taskA.GetTaskId(), date(2026, 7, 27), date(2026, 8, 7), "20"),
			"ASSIGNMENT_OUTSIDE_PROJECT_DATES"},
		{"starts before the project", assignmentInput(rid, pa.GetProjectId(), taskA.GetTaskId(), date(2026, 5, 25), june8, "20"),
			"ASSIGNMENT_OUTSIDE_PROJECT_DATES"},
	} {
		st, hdr, body := postAssignment(t, env, c.in)
		expectProblem(t, c.name, http.StatusBadRequest, c.reason, st, hdr, body)
	}
	if n := env.Count("resource", `SELECT count(*) FROM assignments`); n != 0 {
		t.Errorf("%d assignments after the refusals, want 0", n)
	}
	if n := env.Count("resource", `SELECT count(*) FROM outbox WHERE event_type = 'assignment.changed'`); n != 0 {
		t.Errorf("%d assignment.changed events after the refusals, want 0", n)
	}

	// 30 h on project A and 30 h on project B in the week of June 8, for 40 h of capacity.
	first := createAssignment(t, env, assignmentInput(rid, pa.GetProjectId(), taskA.GetTaskId(), june8, date(2026, 6, 12), "30"))
	if len(first.GetWarnings()) != 0 {
		t.Errorf("first 30 h: warnings %v, want none", first.GetWarnings())
	}
	second := createAssignment(t, env, assignmentInput(rid, pb.GetProjectId(), taskB.GetTaskId(), june8, date(2026, 6, 12), "30"))
	if w := second.GetWarnings(); len(w) != 1 || !strings.HasPrefix(w[0], "OVERBOOKED") || !strings.Contains(w[0], "2026-06-08") {
		t.Errorf("second 30 h: warnings %q, want one OVERBOOKED warning for the week of 2026-06-08", w)
	}
	if !moneyIs(second.GetAssignment().GetPlannedCost(), "1800.00") { // 5 days × 6 h × 60.00
		t.Errorf("second assignment costs %v, want 1800.00 USD (30 h × 60.00)", second.GetAssignment().GetPlannedCost())
	}
	if n := env.Count("resource", `SELECT count(*) FROM assignments WHERE resource_id = $1`, rid); n != 2 {
		t.Errorf("%d assignments, want 2 (the warning does not refuse)", n)
	}
}

// Under ACCRUE_OVERBOOKING=reject an assignment that would overbook a week is refused
// (RESOURCE_OVERBOOKED) and writes nothing; one that fits is still accepted.
func TestOverbookingRefusedUnderRejectPolicy(t *testing.T) {
	t.Parallel()
	env := harness.Start(t, harness.WithEnv("resource", "ACCRUE_OVERBOOKING", "reject"))
	createLegalEntityUS01(t, env)
	p, task := staffedProject(t, env, "reject")
	res := upsertResource(t, env, "Edsger Dijkstra", "W-edsger-"+env.ID())
	rid := res.GetResourceId()
	week := func(from *commonv1.Date, hours string) *resourcev1.AssignmentInput {
		return assignmentInput(rid, p.GetProjectId(), task.GetTaskId(), from, date(2026, 6, int(from.GetDay())+4), hours)
	}
	first := createAssignment(t, env, week(june8, "30"))
	before := env.Count("resource", `SELECT count(*) FROM outbox`)

	st, hdr, body := postAssignment(t, env, week(june8, "30"))
	p2 := expectProblem(t, "second 30 h in the week of June 8", http.StatusBadRequest, "RESOURCE_OVERBOOKED", st, hdr, body)
	if !strings.Contains(p2.Detail, "2026-06-08") {
		t.Errorf("refusal detail %q does not name the week of 2026-06-08", p2.Detail)
	}
	if n := env.Count("resource", `SELECT count(*) FROM assignments`); n != 1 {
		t.Errorf("%d assignments after the refusal, want 1", n)
	}
	if n := env.Count("resource", `SELECT count(*) FROM outbox`); n != before {
		t.Errorf("%d outbox rows after the refusal, want %d", n, before)
	}

	// The week after has room.
	next := createAssignment(t, env, week(june15, "30"))
	if len(next.GetWarnings()) != 0 || next.GetAssignment().GetAssignmentId() == first.GetAssignment().GetAssignmentId() {
		t.Errorf("30 h in the week of June 15: %v, want a new assignment without warnings", next)
	}
}
