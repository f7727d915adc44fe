package grpcapi_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/pgstore"
	"github.com/accrue/accrue/internal/platform/servicetest"
	"github.com/accrue/accrue/services/resource/internal/app"
	"github.com/accrue/accrue/services/resource/internal/grpcapi"
	"github.com/accrue/accrue/services/resource/internal/resource"
	"github.com/accrue/accrue/services/resource/internal/store"
)

const (
	leUS, leDE         = "01a2210c-0000-7000-8000-0000000001e1", "01a2210c-0000-7000-8000-0000000001e2"
	projUS, projDE     = "01a2210c-0000-7000-8000-0000000002a1", "01a2210c-0000-7000-8000-0000000002a2"
	taskUS, taskDE     = "01a2210c-0000-7000-8000-0000000003a1", "01a2210c-0000-7000-8000-0000000003a2"
	scopeResourcesRead = "resources:read"
)

type entityEnv struct {
	env *servicetest.Env
	rc  resourcev1.ResourceServiceClient
	ac  resourcev1.AssignmentServiceClient
}

// startEntities runs both resource services over a replica holding a US and a DE project, and a
// resource with a cost rate of 100 USD through 2026.
func startEntities(t *testing.T) (*entityEnv, string) {
	t.Parallel()
	var uc *app.Service
	env := servicetest.New(t, "resource", store.Migrations(), func(e *servicetest.Env) {
		uc = app.New(app.Deps{Store: store.New(pgstore.New(e.DB.Pool, e.Outbox, e.Queue)), Log: e.Log})
		srv := grpcapi.New(uc)
		resourcev1.RegisterResourceServiceServer(e.Server, srv)
		resourcev1.RegisterAssignmentServiceServer(e.Server, srv)
	})
	y := func(m, d int) civil.Date { return civil.Date{Year: 2026, Month: time.Month(m), Day: d} }
	for _, p := range []resource.ProjectView{
		{ID: projUS, Status: "ACTIVE", LegalEntityID: leUS, Start: y(1, 1), End: y(12, 31), Version: 1, Tasks: map[string]bool{taskUS: true}},
		{ID: projDE, Status: "ACTIVE", LegalEntityID: leDE, Start: y(1, 1), End: y(12, 31), Version: 1, Tasks: map[string]bool{taskDE: true}},
	} {
		if err := uc.ReplicateProject(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	e := &entityEnv{env: env, rc: resourcev1.NewResourceServiceClient(env.Conn), ac: resourcev1.NewAssignmentServiceClient(env.Conn)}
	ctx := env.Ctx(rw)
	r, err := e.rc.UpsertResource(ctx, &resourcev1.UpsertResourceRequest{Resource: input("ada")})
	if err != nil {
		t.Fatal(err)
	}
	id := r.GetResource().GetResourceId()
	if _, err := e.rc.SetCostRate(ctx, &resourcev1.SetCostRateRequest{ResourceId: id,
		Rate: &commonv1.Money{Amount: "100.00", CurrencyCode: "USD"}, EffectiveFrom: date(2026, 1, 1)}); err != nil {
		t.Fatal(err)
	}
	return e, id
}

func assignment(resourceID, project, task string) *resourcev1.AssignmentInput {
	return &resourcev1.AssignmentInput{ResourceId: resourceID, ProjectId: project, TaskId: task,
		StartDate: date(2026, 6, 1), EndDate: date(2026, 6, 5), HoursPerWeek: "10",
		Status: resourcev1.AssignmentStatus_ASSIGNMENT_STATUS_CONFIRMED}
}

func TestAssignmentsStayInTheirProjectsLegalEntity(t *testing.T) {
	e, res := startEntities(t)
	us := e.env.EntityCtx([]string{leUS}, rw)
	all := e.env.Ctx(rw)

	mine, err := e.ac.CreateAssignment(us, &resourcev1.CreateAssignmentRequest{Assignment: assignment(res, projUS, taskUS)})
	if err != nil {
		t.Fatalf("own entity: %v", err)
	}
	theirs, err := e.ac.CreateAssignment(all, &resourcev1.CreateAssignmentRequest{Assignment: assignment(res, projDE, taskDE)})
	if err != nil {
		t.Fatal(err)
	}
	before := e.env.Count("assignments")

	_, err = e.ac.CreateAssignment(us, &resourcev1.CreateAssignmentRequest{Assignment: assignment(res, projDE, taskDE)})
	wantErr(t, err, codes.PermissionDenied, "LEGAL_ENTITY_FORBIDDEN")
	// Nor may it move its own assignment to the other entity's project, or touch the other's.
	_, err = e.ac.UpdateAssignment(us, &resourcev1.UpdateAssignmentRequest{AssignmentId: mine.GetAssignment().GetAssignmentId(),
		ExpectedVersion: 1, Assignment: assignment(res, projDE, taskDE)})
	wantErr(t, err, codes.PermissionDenied, "LEGAL_ENTITY_FORBIDDEN")
	_, err = e.ac.UpdateAssignment(us, &resourcev1.UpdateAssignmentRequest{AssignmentId: theirs.GetAssignment().GetAssignmentId(),
		ExpectedVersion: 1, Assignment: assignment(res, projUS, taskUS)})
	wantErr(t, err, codes.PermissionDenied, "LEGAL_ENTITY_FORBIDDEN")
	_, err = e.ac.GetAssignment(us, &resourcev1.GetAssignmentRequest{AssignmentId: theirs.GetAssignment().GetAssignmentId()})
	wantErr(t, err, codes.PermissionDenied, "LEGAL_ENTITY_FORBIDDEN")
	// A token acting for no entity is refused outright.
	_, err = e.ac.ListAssignments(e.env.EntityCtx(nil, rw), &resourcev1.ListAssignmentsRequest{})
	wantErr(t, err, codes.PermissionDenied, "LEGAL_ENTITY_FORBIDDEN")

	if n := e.env.Count("assignments"); n != before {
		t.Fatalf("refused calls wrote: %d assignments, want %d", n, before)
	}
	got, err := e.ac.GetAssignment(all, &resourcev1.GetAssignmentRequest{AssignmentId: mine.GetAssignment().GetAssignmentId()})
	if err != nil || got.GetAssignment().GetProjectId() != projUS || got.GetAssignment().GetVersion() != 1 {
		t.Fatalf("the refused update changed the assignment: %v %v", got, err)
	}
	list, err := e.ac.ListAssignments(us, &resourcev1.ListAssignmentsRequest{})
	if err != nil || len(list.GetAssignments()) != 1 || list.GetTotalCount() != 1 || list.GetAssignments()[0].GetProjectId() != projUS {
		t.Fatalf("US list: %v %v, want only the US assignment", list, err)
	}
	if list, err = e.ac.ListAssignments(all, &resourcev1.ListAssignmentsRequest{}); err != nil || list.GetTotalCount() != 2 {
		t.Fatalf("'*' list: %v %v, want both", list, err)
	}
}

func TestAssignmentCostRedactedWithoutCostratesRead(t *testing.T) {
	e, res := startEntities(t)
	created, err := e.ac.CreateAssignment(e.env.Ctx(rw), &resourcev1.CreateAssignmentRequest{Assignment: assignment(res, projUS, taskUS)})
	if err != nil {
		t.Fatal(err)
	}
	a := created.GetAssignment()
	if a.GetPlannedCost().GetAmount() != "1000.00" || a.GetCostRedacted() || a.GetPeriods()[0].GetCost() == nil {
		t.Fatalf("with costrates:read: cost %v redacted %v, want 1000.00 (10 h × 100)", a.GetPlannedCost(), a.GetCostRedacted())
	}
	noCost := e.env.Ctx([]string{scopeResourcesRead, "resources:write"})
	got, err := e.ac.GetAssignment(noCost, &resourcev1.GetAssignmentRequest{AssignmentId: a.GetAssignmentId()})
	if err != nil {
		t.Fatal(err)
	}
	list, err := e.ac.ListAssignments(noCost, &resourcev1.ListAssignmentsRequest{})
	if err != nil || len(list.GetAssignments()) != 1 {
		t.Fatal(list, err)
	}
	upd, err := e.ac.UpdateAssignment(noCost, &resourcev1.UpdateAssignmentRequest{AssignmentId: a.GetAssignmentId(), ExpectedVersion: 1,
		Assignment: assignment(res, projUS, taskUS)})
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*resourcev1.Assignment{"get": got.GetAssignment(), "list": list.GetAssignments()[0], "update": upd.GetAssignment()} {
		if !r.GetCostRedacted() || r.GetPlannedCost() != nil || r.GetPlannedHours() != "10" {
			t.Errorf("%s without costrates:read: redacted %v cost %v hours %q; want flagged, no cost, hours kept", name,
				r.GetCostRedacted(), r.GetPlannedCost(), r.GetPlannedHours())
		}
		for _, p := range r.GetPeriods() {
			if p.GetCost() != nil {
				t.Errorf("%s: period cost %v left in", name, p.GetCost())
			}
		}
	}
}

func TestSyncWorkerWithACostRateNeedsCostratesWrite(t *testing.T) {
	e, _ := startEntities(t)
	worker := func(id string, rate bool) *resourcev1.SyncWorkerRequest {
		w := &resourcev1.WorkerRecord{HcmSystem: "workday", WorkerId: id, Version: 1, Kind: resourcev1.ResourceKind_RESOURCE_KIND_EMPLOYEE,
			Name: id, Email: "x@example.com", HomeLegalEntityCode: "US01", Role: "ENGINEER", Active: true}
		if rate {
			w.CostRate, w.CostRateEffectiveFrom = &commonv1.Money{Amount: "70.00", CurrencyCode: "USD"}, date(2026, 1, 1)
		}
		return &resourcev1.SyncWorkerRequest{Worker: w}
	}
	resourcesOnly := e.env.Ctx([]string{"resources:write"})
	resources, rates := e.env.Count("resources"), e.env.Count("cost_rates")
	_, err := e.rc.SyncWorker(resourcesOnly, worker("grace", true))
	wantErr(t, err, codes.PermissionDenied, "SCOPE_MISSING")
	if e.env.Count("resources") != resources || e.env.Count("cost_rates") != rates {
		t.Fatal("a refused worker record wrote")
	}
	if _, err := e.rc.SyncWorker(resourcesOnly, worker("grace", false)); err != nil {
		t.Fatalf("a record without a rate needs only resources:write: %v", err)
	}
	resp, err := e.rc.SyncWorker(e.env.Ctx([]string{"resources:write", "costrates:write"}), worker("alan", true))
	if err != nil || !resp.GetCostRateChanged() {
		t.Fatalf("with costrates:write: %v %v", resp, err)
	}
}
