package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
)

// Workflow 3 (approved time & expense → posting): the fixture and the helpers of the posting
// tests.

// Scopes of the time & expense API.
var (
	timeWrite   = []string{"time:write"}
	timeApprove = []string{"time:approve"}
	timeRead    = []string{"time:read"}
)

// Posting statuses of time entries.
const (
	stPending  = timeexpensev1.PostingStatus_POSTING_STATUS_PENDING
	stPosted   = timeexpensev1.PostingStatus_POSTING_STATUS_POSTED
	stRejected = timeexpensev1.PostingStatus_POSTING_STATUS_REJECTED_CLOSED_PERIOD
	stParked   = timeexpensev1.PostingStatus_POSTING_STATUS_PARKED_RATE_MISSING
	stReversed = timeexpensev1.PostingStatus_POSTING_STATUS_REVERSED
)

// Bill rates of the posting fixture's rate card and cost rates of its resources (per hour).
const (
	consultantBillRate = "50.00"
	architectBillRate  = "90.00"
	consultantCostRate = "20.00"
	architectCostRate  = "70.00"
)

// postingFixture is an ACTIVE project of a legal entity, billed time and materials (consultants
// at 50.00/h, architects at 90.00/h from 2026-01-01, expenses rebilled with a 10 % markup), with
// a billable and a non-billable task, and resources known to billing with their cost rates.
type postingFixture struct {
	le          *billingv1.LegalEntity
	projectID   string
	contractID  string
	taskCount   int
	billable    string // a billable leaf task of line IMPL-1
	nonBillable string // "Project management", not billable
}

// createLegalEntity creates a USD legal entity with the given closed-period policy and waits
// until the project service (conversions check it) and the time & expense service (entries are
// checked against its policy) know it.
func createLegalEntity(t testing.TB, env *harness.Env, code string, policy billingv1.ClosedPeriodPolicy) *billingv1.LegalEntity {
	t.Helper()
	in := &billingv1.LegalEntityInput{Code: code, Name: "Accrue Consulting " + code, FunctionalCurrency: "USD", CountryCode: "US",
		TaxRegistration: "US-12-3456789", ClosedPeriodPolicy: policy}
	st, _, body := env.Do(http.MethodPost, "/v1/legal-entities", restJSON(t, in), env.Bearer(billingWrite))
	if st != http.StatusCreated {
		t.Fatalf("POST /v1/legal-entities %s: %d, want 201: %s", code, st, body)
	}
	var resp billingv1.CreateLegalEntityResponse
	decode(t, body, &resp)
	le := resp.GetLegalEntity()
	wantPolicy := strings.TrimPrefix(policy.String(), "CLOSED_PERIOD_POLICY_")
	harness.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
		if n := env.Count("project", `SELECT count(*) FROM legal_entities WHERE code = $1`, code); n != 1 {
			return fmt.Errorf("the project service's legal entity replica has %d %s rows", n, code)
		}
		if n := env.Count("timeexpense", `SELECT count(*) FROM legal_entities WHERE id = lower($1) AND closed_period_policy = $2`,
			le.GetLegalEntityId(), wantPolicy); n != 1 {
			return fmt.Errorf("the time & expense service does not know %s with policy %s yet", code, wantPolicy)
		}
		return nil
	})
	return le
}

// postingOpportunity is a closed-won deal of 200,000.00 USD signed by legal entity leCode with one
// IMPLEMENTATION line billed time and materials: consultants at 50.00/h and architects at 90.00/h
// from 2026-01-01, expenses rebilled with a 10 % markup. The project runs April to December 2026.
func postingOpportunity(oppID, acct, leCode string) *projectv1.Opportunity {
	o := opportunity(oppID, acct, 100)
	o.Name = "Umbrella analytics rollout"
	o.LegalEntityCode = leCode
	o.Amount = usd("200000.00")
	o.StartDate, o.EndDate = date(2026, 4, 1), date(2026, 12, 31)
	o.ServiceLines = []*projectv1.OpportunityServiceLine{{LineKey: "IMPL-1", ServiceLine: "IMPLEMENTATION",
		Description: "Analytics rollout", Amount: usd("200000.00"), BudgetHours: "2000", ExpenseMarkupPercent: "10",
		BillingMethod: billingv1.BillingMethod_BILLING_METHOD_TIME_AND_MATERIALS, RevenueMethod: billingv1.RevenueMethod_REVENUE_METHOD_AS_DELIVERED,
		RateCard: []*billingv1.RateCardEntry{
			{Role: "CONSULTANT", BillRate: usd(consultantBillRate), EffectiveFrom: date(2026, 1, 1)},
			{Role: "ARCHITECT", BillRate: usd(architectBillRate), EffectiveFrom: date(2026, 1, 1)},
		}}}
	return o
}

// newPostingProject converts postingOpportunity for le into an ACTIVE project and waits until the
// time & expense service (entry validation) and billing (posting) hold its replica with its tasks
// and contract.
func newPostingProject(t testing.TB, env *harness.Env, le *billingv1.LegalEntity, name string) *postingFixture {
	t.Helper()
	return newPostingProjectOf(t, env, le, name, postingOpportunity("006-"+name+"-"+env.ID(), "001-"+name+"-"+env.ID(), le.GetCode()))
}

// newPostingProjectOf is newPostingProject for a given opportunity (with a line IMPL-1).
func newPostingProjectOf(t testing.TB, env *harness.Env, le *billingv1.LegalEntity, name string, opp *projectv1.Opportunity) *postingFixture {
	t.Helper()
	conv := mustConvert(t, env, opp, http.StatusCreated)
	if conv.GetProjectStatus() != projectv1.ProjectStatus_PROJECT_STATUS_ACTIVE || conv.GetContract().GetId() == "" {
		t.Fatalf("conversion of %s: %v, want an ACTIVE project with a contract", name, conv)
	}
	p := getProject(t, env, conv.GetProject().GetId())
	fx := &postingFixture{le: le, projectID: p.GetProjectId(), contractID: conv.GetContract().GetId(), taskCount: len(p.GetTasks())}
	fx.billable = billableLeafTask(t, p, "IMPL-1").GetTaskId()
	for _, task := range p.GetTasks() {
		if !task.GetBillable() && task.GetParentTaskId() != "" {
			fx.nonBillable = task.GetTaskId()
		}
	}
	if fx.nonBillable == "" {
		t.Fatalf("project %s has no non-billable task: %v", fx.projectID, p.GetTasks())
	}
	harness.Eventually(t, 15*time.Second, 20*time.Millisecond, func() error {
		if n := env.Count("timeexpense", `SELECT count(*) FROM projects WHERE id = $1 AND status = 'ACTIVE'`, fx.projectID); n != 1 {
			return fmt.Errorf("the time & expense service does not know project %s as ACTIVE yet", fx.projectID)
		}
		if n := env.Count("timeexpense", `SELECT count(*) FROM project_tasks WHERE project_id = $1`, fx.projectID); n != fx.taskCount {
			return fmt.Errorf("the time & expense service knows %d of the %d tasks", n, fx.taskCount)
		}
		if n := env.Count("billing", `SELECT count(*) FROM project_replicas WHERE project_id = $1 AND contract_id = $2`,
			fx.projectID, fx.contractID); n != 1 {
			return fmt.Errorf("billing does not know project %s with contract %s yet", fx.projectID, fx.contractID)
		}
		if n := env.Count("billing", `SELECT count(*) FROM task_replicas WHERE project_id = $1`, fx.projectID); n != fx.taskCount {
			return fmt.Errorf("billing knows %d of the %d tasks", n, fx.taskCount)
		}
		return nil
	})
	return fx
}

// newPostingResource creates an employee of le with role and, unless costRate is empty, an
// open-ended cost rate from 2026-01-01, and waits until billing's replica has the role and the
// rate, and until the time & expense service knows the resource.
func newPostingResource(t testing.TB, env *harness.Env, le *billingv1.LegalEntity, name, role, costRate string) string {
	t.Helper()
	in := &resourcev1.ResourceInput{Kind: resourcev1.ResourceKind_RESOURCE_KIND_EMPLOYEE, Name: name,
		Email: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.com", HomeLegalEntityCode: le.GetCode(), Location: "Austin, TX",
		Role: role, WeeklyCapacityHours: "40", UtilizationTargetPercent: "75", Status: resourcev1.ResourceStatus_RESOURCE_STATUS_ACTIVE,
		ExternalReferences: []*commonv1.ExternalReference{{System: "workday", ObjectType: "Worker", ExternalId: "W-" + strings.ReplaceAll(name, " ", "") + "-" + env.ID()}}}
	st, _, body := env.Do(http.MethodPost, "/v1/resources:upsert", restJSON(t, in), env.Bearer(resourcesWrite))
	if st != http.StatusCreated {
		t.Fatalf("POST /v1/resources:upsert %s: %d, want 201: %s", name, st, body)
	}
	var resp resourcev1.UpsertResourceResponse
	decode(t, body, &resp)
	id := resp.GetResource().GetResourceId()
	if costRate != "" {
		setCostRate(t, env, id, costRate, date(2026, 1, 1), nil)
	}
	harness.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
		if n := env.Count("billing", `SELECT count(*) FROM resource_replicas WHERE resource_id = $1 AND role = $2`, id, role); n != 1 {
			return fmt.Errorf("billing does not know %s as %s yet", name, role)
		}
		if n := env.Count("timeexpense", `SELECT count(*) FROM resources WHERE id = $1`, id); n != 1 {
			return fmt.Errorf("the time & expense service does not know %s yet", name)
		}
		if costRate != "" {
			if n := env.Count("billing", `SELECT count(*) FROM cost_rate_replicas WHERE resource_id = $1 AND rate = $2::numeric`, id, costRate); n != 1 {
				return fmt.Errorf("billing does not know the cost rate of %s yet", name)
			}
		}
		return nil
	})
	return id
}

// utilization reads a resource's utilization of June 2026 (one period).
func juneUtilization(t testing.TB, env *harness.Env, resourceID string) *resourcev1.UtilizationPeriod {
	t.Helper()
	q := url.Values{"from.year": {"2026"}, "from.month": {"6"}, "from.day": {"1"}, "to.year": {"2026"}, "to.month": {"6"}, "to.day": {"30"}}
	path := "/v1/resources/" + resourceID + "/utilization?" + q.Encode()
	st, _, body := env.Do(http.MethodGet, path, nil, env.Bearer(resourcesRead))
	if st != http.StatusOK {
		t.Fatalf("GET %s: %d: %s", path, st, body)
	}
	var resp resourcev1.GetUtilizationResponse
	decode(t, body, &resp)
	if len(resp.GetPeriods()) != 1 {
		t.Fatalf("utilization of June 2026: %d periods, want 1: %s", len(resp.GetPeriods()), body)
	}
	return resp.GetPeriods()[0]
}

// waitConsumed waits until billing's consumer group has read and acknowledged everything in
// <prefix>timeexpense.events.
func waitConsumed(t testing.TB, env *harness.Env) {
	t.Helper()
	rdb, prefix := env.Redis()
	ctx := context.Background()
	stream := prefix + "timeexpense.events"
	harness.Eventually(t, 20*time.Second, 20*time.Millisecond, func() error {
		last, err := rdb.XRevRangeN(ctx, stream, "+", "-", 1).Result()
		if err != nil || len(last) != 1 {
			return fmt.Errorf("last entry of %s: %v %v", stream, last, err)
		}
		groups, err := rdb.XInfoGroups(ctx, stream).Result()
		if err != nil {
			return err
		}
		for _, g := range groups {
			if g.Name != "billing" {
				continue
			}
			if g.LastDeliveredID != last[0].ID || g.Pending != 0 {
				return fmt.Errorf("billing's group: last delivered %s of %s, %d pending", g.LastDeliveredID, last[0].ID, g.Pending)
			}
			return nil
		}
		return fmt.Errorf("no billing group on %s", stream)
	})
}

// waitBillingAPI waits until the gateway reaches billing again after a restart (it reconnects on
// its own schedule and answers 503 until then).
func waitBillingAPI(t testing.TB, env *harness.Env) {
	t.Helper()
	harness.Eventually(t, 15*time.Second, 50*time.Millisecond, func() error {
		if st, _, body := env.Do(http.MethodGet, "/v1/billing/kpis", nil, env.Bearer(billingRead)); st != http.StatusOK {
			return fmt.Errorf("GET /v1/billing/kpis: %d: %s", st, body)
		}
		return nil
	})
}
