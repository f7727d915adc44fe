package e2e

import (
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/accrue/accrue/e2e/internal/harness"
	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
)

// Workflow 1, continued: a conversion while billing is down leaves the project pending financial
// activation, which completes automatically or from the exception queue.

// convertWhileBillingDown kills billing and converts: the deal is accepted, the project waits in
// PENDING_FINANCIAL_ACTIVATION with an open BILLING_UNAVAILABLE exception carrying the caller's
// correlation id, and it is on the awaiting-activation list.
func convertWhileBillingDown(t *testing.T, env *harness.Env, opp *projectv1.Opportunity) (*projectv1.ConvertOpportunityResponse, *opsv1.Exception) {
	t.Helper()
	env.Kill("billing", syscall.SIGKILL)
	cid := "e2e-pending-" + uuid.NewString()
	st, _, body, resp := convert(t, env, opp, env.Bearer(projectsWrite, "X-Correlation-ID", cid))
	if st != http.StatusOK {
		t.Fatalf("convert with billing down: %d, want 200: %s", st, body)
	}
	if resp.GetOutcome() != projectv1.ConversionOutcome_CONVERSION_OUTCOME_PENDING ||
		resp.GetProjectStatus() != projectv1.ProjectStatus_PROJECT_STATUS_PENDING_FINANCIAL_ACTIVATION ||
		resp.GetContract().GetOutcome() != projectv1.ConversionOutcome_CONVERSION_OUTCOME_PENDING || resp.GetContract().GetId() != "" ||
		resp.GetProject().GetOutcome() != projectv1.ConversionOutcome_CONVERSION_OUTCOME_CREATED || resp.GetExceptionId() == "" {
		t.Fatalf("convert with billing down: %v; want PENDING, project CREATED in PENDING_FINANCIAL_ACTIVATION, no contract, an exception", resp)
	}
	projectID := resp.GetProject().GetId()
	p := getProject(t, env, projectID)
	if p.GetStatus() != projectv1.ProjectStatus_PROJECT_STATUS_PENDING_FINANCIAL_ACTIVATION || p.GetContractId() != "" {
		t.Errorf("project while billing is down: %s with contract %q, want PENDING_FINANCIAL_ACTIVATION without one", p.GetStatus(), p.GetContractId())
	}
	exc := findException(listExceptions(t, env, "project", "kind=project.financial_activation"), "project.financial_activation", projectID)
	if exc == nil {
		t.Fatalf("no project.financial_activation exception about project %s", projectID)
	}
	if exc.GetExceptionId() != resp.GetExceptionId() || exc.GetStatus() != opsv1.ExceptionStatus_EXCEPTION_STATUS_OPEN ||
		exc.GetReason() != "BILLING_UNAVAILABLE" || exc.GetCorrelationId() != cid {
		t.Errorf("activation exception %v; want %s, OPEN, BILLING_UNAVAILABLE, correlation id %s", exc, resp.GetExceptionId(), cid)
	}
	st, _, body = env.Do(http.MethodGet, "/v1/projects?status=PROJECT_STATUS_PENDING_FINANCIAL_ACTIVATION", nil, env.Bearer(projectsRead))
	if st != http.StatusOK {
		t.Fatalf("list pending projects: %d: %s", st, body)
	}
	var list projectv1.ListProjectsResponse
	decode(t, body, &list)
	if list.GetTotalCount() != 1 || len(list.GetProjects()) != 1 || list.GetProjects()[0].GetProjectId() != projectID {
		t.Errorf("pending projects: total %d %v, want just %s", list.GetTotalCount(), list.GetProjects(), projectID)
	}
	// The customer service was up: the customers exist; the contract does not.
	if n := accountCustomers(t, env, opp.GetCrmSystem(), opp.GetAccount().GetAccountId()); n != 1 {
		t.Errorf("%d customers for the account, want 1", n)
	}
	if n := opportunityContracts(t, env, opp.GetCrmSystem(), opp.GetOpportunityId()); n != 0 {
		t.Errorf("%d contracts while billing is down, want 0", n)
	}
	return resp, exc
}

// assertActivated checks that the pending project became ACTIVE on exactly one contract.
func assertActivated(t *testing.T, env *harness.Env, opp *projectv1.Opportunity, pending *projectv1.ConvertOpportunityResponse) {
	t.Helper()
	p := getProject(t, env, pending.GetProject().GetId())
	var contractID string
	if err := env.DB("billing").QueryRow(t.Context(), `SELECT id::text FROM contracts WHERE ext_id = $1`, opp.GetOpportunityId()).Scan(&contractID); err != nil {
		t.Fatalf("the contract of %s: %v", opp.GetOpportunityId(), err)
	}
	if p.GetStatus() != projectv1.ProjectStatus_PROJECT_STATUS_ACTIVE || p.GetContractId() != contractID {
		t.Errorf("project %s with contract %q, want ACTIVE on %s", p.GetStatus(), p.GetContractId(), contractID)
	}
	assertConvertedOnce(t, env, opp, &projectv1.ConvertOpportunityResponse{Customer: pending.GetCustomer(),
		Contract: &projectv1.ConvertedRecord{Id: contractID}, Project: pending.GetProject(), TaskCount: pending.GetTaskCount()},
		implementationTasks+trainingTasks)
	if got := countRecords(t, env); got.Contracts != 1 || got.Projects != 1 || got.ContractVersions != 1 {
		t.Errorf("records %+v, want one contract (one version) and one project", got)
	}
	st, _, body := env.Do(http.MethodGet, "/v1/projects?status=PROJECT_STATUS_PENDING_FINANCIAL_ACTIVATION", nil, env.Bearer(projectsRead))
	var list projectv1.ListProjectsResponse
	decode(t, body, &list)
	if st != http.StatusOK || list.GetTotalCount() != 0 {
		t.Errorf("pending projects after activation: %d, total %d, want 0", st, list.GetTotalCount())
	}
	// Delivering the deal again is a no-op on the activated records.
	again := mustConvert(t, env, opp, http.StatusOK)
	if again.GetOutcome() != projectv1.ConversionOutcome_CONVERSION_OUTCOME_UNCHANGED || again.GetContract().GetId() != contractID ||
		again.GetProject().GetId() != pending.GetProject().GetId() {
		t.Errorf("converting again after activation: %v, want UNCHANGED on contract %s", again, contractID)
	}
}

// Billing is down when a deal is won: the project is created and waits for its contract; when
// billing comes back the automatic retry activates it, with one contract, and closes the
// exception.
func TestBillingOutageLeavesProjectPendingUntilAutomaticActivation(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	createLegalEntityUS01(t, env)
	opp := opportunity("006-outage-"+env.ID(), "001-outage-"+env.ID(), 100)
	pending, exc := convertWhileBillingDown(t, env, opp)

	env.Restart("billing")
	// Retries back off exponentially from 2s (2s, 6s, 14s after the conversion): the one after
	// billing is back activates the project.
	took := harness.Eventually(t, 20*time.Second, 100*time.Millisecond, func() error {
		p := getProject(t, env, pending.GetProject().GetId())
		if p.GetStatus() != projectv1.ProjectStatus_PROJECT_STATUS_ACTIVE {
			return fmt.Errorf("project still %s", p.GetStatus())
		}
		return nil
	})
	t.Logf("activated automatically %s after billing restarted", took.Round(time.Millisecond))
	assertActivated(t, env, opp, pending)
	st, _, body := env.Do(http.MethodGet, "/v1/ops/project/exceptions/"+exc.GetExceptionId(), nil, env.Bearer(opsRead))
	var got opsv1.GetExceptionResponse
	decode(t, body, &got)
	if e := got.GetException(); st != http.StatusOK || e.GetStatus() != opsv1.ExceptionStatus_EXCEPTION_STATUS_RESOLVED || e.GetResolvedBy() != "system" {
		t.Errorf("activation exception after the automatic retry: %d %v, want RESOLVED by system", st, e)
	}
}

// With automatic retries pushed out (an hour), an operator activates the waiting project from
// the exception queue once billing is back.
func TestPendingActivationRetriedFromExceptionQueue(t *testing.T) {
	t.Parallel()
	env := harness.Start(t, harness.WithEnv("project", "ACCRUE_ACTIVATION_RETRY_AFTER", "1h"))
	createLegalEntityUS01(t, env)
	opp := opportunity("006-manual-"+env.ID(), "001-manual-"+env.ID(), 100)
	pending, exc := convertWhileBillingDown(t, env, opp)
	converted := time.Now()
	env.Restart("billing")

	// Billing is back, but nothing retries on its own within the default retry delay (2s).
	time.Sleep(time.Until(converted.Add(3 * time.Second)))
	if p := getProject(t, env, pending.GetProject().GetId()); p.GetStatus() != projectv1.ProjectStatus_PROJECT_STATUS_PENDING_FINANCIAL_ACTIVATION {
		t.Fatalf("project %s before the manual retry, want still PENDING_FINANCIAL_ACTIVATION (automatic retry after 1h)", p.GetStatus())
	}

	// The project service may still be reconnecting to billing: an operator retries until it
	// goes through, and every failed attempt is counted on the exception.
	path := "/v1/ops/project/exceptions/" + exc.GetExceptionId() + ":retry"
	var last *opsv1.Exception
	tries := 0
	harness.Eventually(t, 15*time.Second, 250*time.Millisecond, func() error {
		tries++
		st, _, body := env.Do(http.MethodPost, path, map[string]any{}, env.Bearer(opsReadWrite))
		if st != http.StatusOK {
			return fmt.Errorf("retry: %d: %s", st, body)
		}
		var resp opsv1.RetryExceptionResponse
		decode(t, body, &resp)
		last = resp.GetException()
		if last.GetStatus() != opsv1.ExceptionStatus_EXCEPTION_STATUS_RESOLVED {
			return fmt.Errorf("retry %d: exception still %s (%s: %s)", tries, last.GetStatus(), last.GetReason(), last.GetMessage())
		}
		return nil
	})
	if last.GetEntityId() != pending.GetProject().GetId() || last.GetKind() != "project.financial_activation" {
		t.Errorf("the retry answered about %s %s, want the project's activation", last.GetKind(), last.GetEntityId())
	}
	// The retry is credited to the operator even though the activation resolves its exception
	// itself inside the retried work.
	if last.GetResolvedBy() != "e2e" || last.GetResolutionNote() != "retry succeeded" || last.GetAttempts() != int32(tries)+1 {
		t.Errorf("after the manual retry the exception is resolved by %q (%q) with %d attempts; want resolved by e2e, \"retry succeeded\", %d attempts",
			last.GetResolvedBy(), last.GetResolutionNote(), last.GetAttempts(), tries+1)
	}
	assertActivated(t, env, opp, pending)
	st, hdr, body := env.Do(http.MethodPost, path, map[string]any{}, env.Bearer(opsReadWrite))
	expectProblem(t, "retry a resolved exception", http.StatusBadRequest, "EXCEPTION_NOT_OPEN", st, hdr, body)
}
