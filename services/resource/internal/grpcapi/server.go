// Package grpcapi is the resource service's gRPC transport: requests to use cases and back.
// Errors pass through; the platform maps them to status codes and reasons in one place.
package grpcapi

import (
	"context"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"

	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/types/known/timestamppb"

	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/internal/platform/paging"
	"github.com/accrue/accrue/services/resource/internal/app"
	"github.com/accrue/accrue/services/resource/internal/resource"
	"github.com/accrue/accrue/services/resource/internal/store"
	"github.com/accrue/accrue/services/resource/internal/wire"
)

// Server implements the resource gRPC services.
type Server struct {
	resourcev1.UnimplementedResourceServiceServer
	resourcev1.UnimplementedAssignmentServiceServer
	app *app.Service
}

// New returns the gRPC server over the use cases.
func New(a *app.Service) *Server {
	if a == nil {
		panic("grpcapi: New needs the use cases")
	}
	return &Server{app: a}
}

var outcomes = map[app.Outcome]resourcev1.Outcome{
	app.Created: resourcev1.Outcome_OUTCOME_CREATED, app.Updated: resourcev1.Outcome_OUTCOME_UPDATED,
	app.Unchanged: resourcev1.Outcome_OUTCOME_UNCHANGED, app.IgnoredStale: resourcev1.Outcome_OUTCOME_IGNORED_STALE,
}

func details(in *resourcev1.ResourceInput) resource.Details {
	d := resource.Details{Kind: wire.Kind(in.GetKind()), Name: in.GetName(), Email: in.GetEmail(), HomeLegalEntity: in.GetHomeLegalEntityCode(),
		Location: in.GetLocation(), Role: in.GetRole(), Active: in.GetStatus() != resourcev1.ResourceStatus_RESOURCE_STATUS_INACTIVE}
	d.WeeklyCapacity = decimal.NewFromInt(40)
	if v := in.GetWeeklyCapacityHours(); v != "" {
		d.WeeklyCapacity = decimal.RequireFromString(v) // pattern-checked by the contract
	}
	if v := in.GetUtilizationTargetPercent(); v != "" {
		d.UtilizationTarget = decimal.RequireFromString(v)
	}
	return d
}

func (s *Server) UpsertResource(ctx context.Context, req *resourcev1.UpsertResourceRequest) (*resourcev1.UpsertResourceResponse, error) {
	in := req.GetResource()
	var refs []resource.ExternalRef
	for _, r := range in.GetExternalReferences() {
		refs = append(refs, resource.ExternalRef{System: r.GetSystem(), ObjectType: r.GetObjectType(), ExternalID: r.GetExternalId()})
	}
	r, out, err := s.app.UpsertResource(ctx, details(in), refs, 0)
	if err != nil {
		return nil, err
	}
	return &resourcev1.UpsertResourceResponse{Resource: wire.Resource(r), Outcome: outcomes[out]}, nil
}

func (s *Server) GetResource(ctx context.Context, req *resourcev1.GetResourceRequest) (*resourcev1.GetResourceResponse, error) {
	r, err := s.app.GetResource(ctx, req.GetResourceId())
	if err != nil {
		return nil, err
	}
	return &resourcev1.GetResourceResponse{Resource: wire.Resource(r)}, nil
}

func (s *Server) ListResources(ctx context.Context, req *resourcev1.ListResourcesRequest) (*resourcev1.ListResourcesResponse, error) {
	size := int(req.GetPageSize())
	if size == 0 {
		size = 50
	}
	after, _, err := paging.DecodeID(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	list, err := s.app.ListResources(ctx, after, size+1)
	if err != nil {
		return nil, err
	}
	resp := &resourcev1.ListResourcesResponse{}
	if len(list) > size {
		list = list[:size]
		resp.NextPageToken = paging.Encode(list[size-1].ID, "")
	}
	for _, r := range list {
		resp.Resources = append(resp.Resources, wire.Resource(r))
	}
	return resp, nil
}

func (s *Server) SetCostRate(ctx context.Context, req *resourcev1.SetCostRateRequest) (*resourcev1.SetCostRateResponse, error) {
	rate, err := money.Parse(req.GetRate().GetAmount(), req.GetRate().GetCurrencyCode(), "rate")
	if err != nil {
		return nil, err
	}
	r := resource.Rate{Rate: rate, Reason: req.GetReason()}
	if r.From, err = civilpb.From(req.GetEffectiveFrom(), "effective_from"); err != nil {
		return nil, err
	}
	if r.To, err = civilpb.From(req.GetEffectiveTo(), "effective_to"); err != nil {
		return nil, err
	}
	t, n, err := s.app.SetCostRate(ctx, req.GetResourceId(), r)
	if err != nil {
		return nil, err
	}
	return &resourcev1.SetCostRateResponse{Current: wire.Rates(t), RecostedAssignments: int32(n)}, nil
}

func (s *Server) ListCostRates(ctx context.Context, req *resourcev1.ListCostRatesRequest) (*resourcev1.ListCostRatesResponse, error) {
	cur, hist, err := s.app.CostRates(ctx, req.GetResourceId(), req.GetIncludeHistory())
	if err != nil {
		return nil, err
	}
	resp := &resourcev1.ListCostRatesResponse{Current: wire.Rates(cur)}
	for _, h := range hist {
		r := wire.Rate(h.Rate)
		r.SupersededTime = timestamppb.New(h.SupersededAt)
		resp.History = append(resp.History, r)
	}
	return resp, nil
}

func (s *Server) SyncWorker(ctx context.Context, req *resourcev1.SyncWorkerRequest) (*resourcev1.SyncWorkerResponse, error) {
	w := req.GetWorker()
	d := resource.Details{Kind: wire.Kind(w.GetKind()), Name: w.GetName(), Email: w.GetEmail(), HomeLegalEntity: w.GetHomeLegalEntityCode(),
		Location: w.GetLocation(), Role: w.GetRole(), Active: w.GetActive(), WeeklyCapacity: decimal.NewFromInt(40)}
	if v := w.GetWeeklyCapacityHours(); v != "" {
		d.WeeklyCapacity = decimal.RequireFromString(v)
	}
	worker := app.Worker{System: w.GetHcmSystem(), WorkerID: w.GetWorkerId(), Version: w.GetVersion(), Details: d}
	if w.GetCostRate() != nil {
		rate, err := money.Parse(w.GetCostRate().GetAmount(), w.GetCostRate().GetCurrencyCode(), "worker.cost_rate")
		if err != nil {
			return nil, err
		}
		from, err := civilpb.From(w.GetCostRateEffectiveFrom(), "worker.cost_rate_effective_from")
		if err != nil {
			return nil, err
		}
		if from.IsZero() {
			return nil, errRateNeedsDate
		}
		worker.Rate = &resource.Rate{Rate: rate, From: from}
	}
	r, out, changed, err := s.app.SyncWorker(ctx, worker)
	if err != nil {
		return nil, err
	}
	return &resourcev1.SyncWorkerResponse{Resource: wire.Resource(r), Outcome: outcomes[out], CostRateChanged: changed}, nil
}

func (s *Server) GetUtilization(ctx context.Context, req *resourcev1.GetUtilizationRequest) (*resourcev1.GetUtilizationResponse, error) {
	from, err := civilpb.From(req.GetFrom(), "from")
	if err != nil {
		return nil, err
	}
	to, err := civilpb.From(req.GetTo(), "to")
	if err != nil {
		return nil, err
	}
	if to.Before(from) || from.DaysUntil(to) > 800 {
		return nil, errUtilizationRange
	}
	list, err := s.app.Utilization(ctx, req.GetResourceId(), from, to)
	if err != nil {
		return nil, err
	}
	resp := &resourcev1.GetUtilizationResponse{}
	str := func(d *decimal.Decimal) string {
		if d == nil {
			return ""
		}
		return d.StringFixed(2)
	}
	for _, p := range list {
		resp.Periods = append(resp.Periods, &resourcev1.UtilizationPeriod{PeriodStart: civilpb.To(p.Start), PeriodEnd: civilpb.To(p.End),
			CapacityHours: p.Capacity.StringFixed(2), PlannedHours: p.Planned.StringFixed(2), PlannedBillableHours: p.PlannedBill.StringFixed(2),
			PlannedUtilizationPercent: str(p.PlannedPercent), TargetPercent: p.Target.StringFixed(2),
			ActualBillableHours: str(p.ActualBill), ActualUtilizationPercent: str(p.ActualPercent)})
	}
	return resp, nil
}

func assignment(in *resourcev1.AssignmentInput) (resource.Assignment, error) {
	a := resource.Assignment{ResourceID: in.GetResourceId(), ProjectID: in.GetProjectId(), TaskID: in.GetTaskId(), Role: in.GetRole(),
		Status: wire.Status(in.GetStatus())}
	var err error
	if a.Start, err = civilpb.From(in.GetStartDate(), "assignment.start_date"); err != nil {
		return a, err
	}
	if a.End, err = civilpb.From(in.GetEndDate(), "assignment.end_date"); err != nil {
		return a, err
	}
	if v := in.GetHoursPerWeek(); v != "" {
		d := decimal.RequireFromString(v)
		a.HoursPerWeek = &d
	}
	if v := in.GetTotalHours(); v != "" {
		d := decimal.RequireFromString(v)
		a.TotalHours = &d
	}
	return a, nil
}

func (s *Server) CreateAssignment(ctx context.Context, req *resourcev1.CreateAssignmentRequest) (*resourcev1.CreateAssignmentResponse, error) {
	a, err := assignment(req.GetAssignment())
	if err != nil {
		return nil, err
	}
	out, warnings, err := s.app.SaveAssignment(ctx, "", 0, a)
	if err != nil {
		return nil, err
	}
	return &resourcev1.CreateAssignmentResponse{Assignment: wire.Assignment(out), Created: true, Warnings: warnings}, nil
}

func (s *Server) UpdateAssignment(ctx context.Context, req *resourcev1.UpdateAssignmentRequest) (*resourcev1.UpdateAssignmentResponse, error) {
	a, err := assignment(req.GetAssignment())
	if err != nil {
		return nil, err
	}
	out, warnings, err := s.app.SaveAssignment(ctx, req.GetAssignmentId(), req.GetExpectedVersion(), a)
	if err != nil {
		return nil, err
	}
	return &resourcev1.UpdateAssignmentResponse{Assignment: wire.Assignment(out), Warnings: warnings}, nil
}

func (s *Server) GetAssignment(ctx context.Context, req *resourcev1.GetAssignmentRequest) (*resourcev1.GetAssignmentResponse, error) {
	a, err := s.app.GetAssignment(ctx, req.GetAssignmentId())
	if err != nil {
		return nil, err
	}
	return &resourcev1.GetAssignmentResponse{Assignment: wire.Assignment(a)}, nil
}

func (s *Server) ListAssignments(ctx context.Context, req *resourcev1.ListAssignmentsRequest) (*resourcev1.ListAssignmentsResponse, error) {
	size := int(req.GetPageSize())
	if size == 0 {
		size = 50
	}
	after, _, err := paging.DecodeID(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	list, total, err := s.app.ListAssignments(ctx, store.AssignmentFilter{ProjectID: req.GetProjectId(), ResourceID: req.GetResourceId(),
		RateMissingOnly: req.GetRateMissingOnly(), AfterID: after, Limit: size + 1})
	if err != nil {
		return nil, err
	}
	resp := &resourcev1.ListAssignmentsResponse{TotalCount: total}
	if len(list) > size {
		list = list[:size]
		resp.NextPageToken = paging.Encode(list[size-1].ID, "")
	}
	for _, a := range list {
		resp.Assignments = append(resp.Assignments, wire.Assignment(a))
	}
	return resp, nil
}
