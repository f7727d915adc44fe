// Package grpcapi is the resource service's gRPC transport: requests to use cases and back,
// through wire. Errors pass through; the platform maps them to status codes and reasons in one
// place (grpcx.ToStatus).
package grpcapi

import (
	"context"

	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/paging"
	"github.com/accrue/accrue/services/resource/internal/app"
	"github.com/accrue/accrue/services/resource/internal/resource"
	"github.com/accrue/accrue/services/resource/internal/wire"
)

// Server implements the resource gRPC services.
type Server struct {
	resourcev1.UnimplementedResourceServiceServer
	resourcev1.UnimplementedAssignmentServiceServer
	app *app.Service
}

// New returns the gRPC server over the use cases.
func New(a *app.Service) *Server { return &Server{app: grpcx.Need(a)} }

func (s *Server) UpsertResource(ctx context.Context, req *resourcev1.UpsertResourceRequest) (*resourcev1.UpsertResourceResponse, error) {
	return grpcx.Reply2(wire.UpsertResourceResponse)(s.app.UpsertResource(ctx, wire.ResourceInput(req.GetResource())))
}

func (s *Server) GetResource(ctx context.Context, req *resourcev1.GetResourceRequest) (*resourcev1.GetResourceResponse, error) {
	return grpcx.Reply(wire.GetResourceResponse)(s.app.GetResource(ctx, req.GetResourceId()))
}

func (s *Server) ListResources(ctx context.Context, req *resourcev1.ListResourcesRequest) (*resourcev1.ListResourcesResponse, error) {
	page, err := paging.ByID(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	list, err := s.app.ListResources(ctx, page.AfterID, page.Fetch())
	if err != nil {
		return nil, err
	}
	list, next := paging.Page(page, list, func(r resource.Resource) (string, string) { return r.ID, "" })
	return &resourcev1.ListResourcesResponse{Resources: wire.Resources(list), NextPageToken: next}, nil
}

func (s *Server) SetCostRate(ctx context.Context, req *resourcev1.SetCostRateRequest) (*resourcev1.SetCostRateResponse, error) {
	r, err := wire.CostRate(req)
	if err != nil {
		return nil, err
	}
	return grpcx.Reply2(wire.SetCostRateResponse)(s.app.SetCostRate(ctx, req.GetResourceId(), r))
}

func (s *Server) ListCostRates(ctx context.Context, req *resourcev1.ListCostRatesRequest) (*resourcev1.ListCostRatesResponse, error) {
	return grpcx.Reply2(wire.CostRatesResponse)(s.app.CostRates(ctx, req.GetResourceId(), req.GetIncludeHistory()))
}

func (s *Server) SyncWorker(ctx context.Context, req *resourcev1.SyncWorkerRequest) (*resourcev1.SyncWorkerResponse, error) {
	w, err := wire.Worker(req.GetWorker())
	if err != nil {
		return nil, err
	}
	if w.Rate != nil { // a worker record that sets a cost rate needs what SetCostRate needs
		if err := auth.RequireScope(ctx, scopeCostRatesWrite); err != nil {
			return nil, err
		}
	}
	r, out, changed, err := s.app.SyncWorker(ctx, w)
	if err != nil {
		return nil, err
	}
	return &resourcev1.SyncWorkerResponse{Resource: wire.Resource(r), Outcome: wire.Outcome(out), CostRateChanged: changed}, nil
}

func (s *Server) GetUtilization(ctx context.Context, req *resourcev1.GetUtilizationRequest) (*resourcev1.GetUtilizationResponse, error) {
	from, to, err := wire.Period(req)
	if err != nil {
		return nil, err
	}
	return grpcx.Reply(wire.UtilizationResponse)(s.app.Utilization(ctx, req.GetResourceId(), from, to))
}
