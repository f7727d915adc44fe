package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accrue/accrue/e2e/internal/harness"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
)

// Helpers of the resource service: resources, cost rates, assignments.

// upsertResource creates a resource of role CONSULTANT with 40 hours a week, known in the HCM
// as workerID.
func upsertResource(t testing.TB, env *harness.Env, name, workerID string) *resourcev1.Resource {
	t.Helper()
	in := &resourcev1.ResourceInput{Kind: resourcev1.ResourceKind_RESOURCE_KIND_EMPLOYEE, Name: name,
		Email: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.com", HomeLegalEntityCode: "US01", Location: "Austin, TX",
		Role: "CONSULTANT", WeeklyCapacityHours: "40", UtilizationTargetPercent: "75", Status: resourcev1.ResourceStatus_RESOURCE_STATUS_ACTIVE,
		ExternalReferences: []*commonv1.ExternalReference{{System: "workday", ObjectType: "Worker", ExternalId: workerID}}}
	st, _, body := env.Do(http.MethodPost, "/v1/resources:upsert", restJSON(t, in), env.Bearer(resourcesWrite))
	if st != http.StatusCreated {
		t.Fatalf("POST /v1/resources:upsert: %d, want 201: %s", st, body)
	}
	var resp resourcev1.UpsertResourceResponse
	decode(t, body, &resp)
	return resp.GetResource()
}

// setCostRate sets a resource's cost rate (to == nil: open-ended).
func setCostRate(t testing.TB, env *harness.Env, resourceID, rate string, from, to *commonv1.Date) *resourcev1.SetCostRateResponse {
	t.Helper()
	req := &resourcev1.SetCostRateRequest{Rate: usd(rate), EffectiveFrom: from, EffectiveTo: to, Reason: "e2e"}
	st, _, body := env.Do(http.MethodPost, "/v1/resources/"+resourceID+"/cost-rates", restJSON(t, req), env.Bearer(costRatesWrite))
	if st != http.StatusOK {
		t.Fatalf("POST cost-rates of %s: %d, want 200: %s", resourceID, st, body)
	}
	var resp resourcev1.SetCostRateResponse
	decode(t, body, &resp)
	return &resp
}

// assignmentInput staffs a resource hoursPerWeek on a task over [from, to], confirmed.
func assignmentInput(resourceID, projectID, taskID string, from, to *commonv1.Date, hoursPerWeek string) *resourcev1.AssignmentInput {
	return &resourcev1.AssignmentInput{ResourceId: resourceID, ProjectId: projectID, TaskId: taskID, StartDate: from, EndDate: to,
		HoursPerWeek: hoursPerWeek, Status: resourcev1.AssignmentStatus_ASSIGNMENT_STATUS_CONFIRMED}
}

func postAssignment(t testing.TB, env *harness.Env, in *resourcev1.AssignmentInput) (int, http.Header, []byte) {
	t.Helper()
	return env.Do(http.MethodPost, "/v1/assignments", restJSON(t, in), env.Bearer(resourcesWriteCost))
}

func createAssignment(t testing.TB, env *harness.Env, in *resourcev1.AssignmentInput) *resourcev1.CreateAssignmentResponse {
	t.Helper()
	st, _, body := postAssignment(t, env, in)
	if st != http.StatusCreated {
		t.Fatalf("POST /v1/assignments: %d, want 201: %s", st, body)
	}
	var resp resourcev1.CreateAssignmentResponse
	decode(t, body, &resp)
	return &resp
}

// waitForProjectInResource waits until the resource service's project replica has the project
// with every one of its tasks (assignments are checked against it).
func waitForProjectInResource(t testing.TB, env *harness.Env, projectID string, tasks int) {
	t.Helper()
	harness.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
		if n := env.Count("resource", `SELECT count(*) FROM project_tasks WHERE project_id = $1`, projectID); n != tasks {
			return fmt.Errorf("the resource service knows %d tasks of project %s, want %d", n, projectID, tasks)
		}
		return nil
	})
}

// billableLeafTask returns a billable, non-root task of the project's line.
func billableLeafTask(t testing.TB, p *projectv1.Project, lineKey string) *projectv1.Task {
	t.Helper()
	for _, task := range p.GetTasks() {
		if task.GetBillable() && task.GetParentTaskId() != "" && task.GetContractLineKey() == lineKey {
			return task
		}
	}
	t.Fatalf("project %s has no billable task under line %s", p.GetProjectId(), lineKey)
	return nil
}
