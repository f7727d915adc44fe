// Package grpcapi is the project service's gRPC transport: requests to use cases and back.
// Errors pass through; the platform maps them to status codes and reasons in one place.
package grpcapi

import (
	"context"

	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/paging"
	"github.com/accrue/accrue/services/project/internal/app"
	"github.com/accrue/accrue/services/project/internal/wire"
)

// Server implements accrue.project.v1.ProjectService.
type Server struct {
	projectv1.UnimplementedProjectServiceServer
	app *app.Service
}

// New returns the gRPC server.
func New(a *app.Service) *Server { return &Server{app: grpcx.Need(a)} }

func (s *Server) ConvertOpportunity(ctx context.Context, req *projectv1.ConvertOpportunityRequest) (*projectv1.ConvertOpportunityResponse, error) {
	return grpcx.Reply(wire.ConversionResponse)(s.app.Convert(ctx, req.GetOpportunity()))
}

func (s *Server) GetProject(ctx context.Context, req *projectv1.GetProjectRequest) (*projectv1.GetProjectResponse, error) {
	return grpcx.Reply(wire.GetProjectResponse)(s.app.GetProject(ctx, req.GetProjectId()))
}

func (s *Server) ListProjects(ctx context.Context, req *projectv1.ListProjectsRequest) (*projectv1.ListProjectsResponse, error) {
	r, err := paging.ByID(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	list, next, total, err := s.app.ListProjects(ctx, wire.StatusFromProto(req.GetStatus()), req.GetCustomerId(), r)
	if err != nil {
		return nil, err
	}
	resp := &projectv1.ListProjectsResponse{TotalCount: total, NextPageToken: next}
	for _, p := range list {
		resp.Projects = append(resp.Projects, wire.Project(p))
	}
	return resp, nil
}

func (s *Server) ChangeProjectStatus(ctx context.Context, req *projectv1.ChangeProjectStatusRequest) (*projectv1.ChangeProjectStatusResponse, error) {
	return grpcx.Reply(wire.ChangeStatusResponse)(s.app.ChangeStatus(ctx, req.GetProjectId(), wire.StatusFromProto(req.GetStatus()),
		req.GetReason(), req.GetExpectedVersion()))
}

func (s *Server) PutProjectTemplate(ctx context.Context, req *projectv1.PutProjectTemplateRequest) (*projectv1.PutProjectTemplateResponse, error) {
	return grpcx.Reply(wire.PutTemplateResponse)(s.app.PutTemplate(ctx, wire.TemplateFromProto(req.GetTemplate())))
}

func (s *Server) ListProjectTemplates(ctx context.Context, _ *projectv1.ListProjectTemplatesRequest) (*projectv1.ListProjectTemplatesResponse, error) {
	return grpcx.Reply(wire.TemplatesResponse)(s.app.Templates(ctx))
}

func (s *Server) GetDirectoryCustomer(ctx context.Context, req *projectv1.GetDirectoryCustomerRequest) (*projectv1.GetDirectoryCustomerResponse, error) {
	return grpcx.Reply(wire.DirectoryCustomerResponse)(s.app.DirectoryCustomer(ctx, req.GetCustomerId()))
}

func (s *Server) GetProjectFinancials(ctx context.Context, req *projectv1.GetProjectFinancialsRequest) (*projectv1.GetProjectFinancialsResponse, error) {
	resp, err := grpcx.Reply(wire.FinancialsResponse)(s.app.Financials(ctx, req.GetProjectId()))
	if err != nil {
		return nil, err
	}
	redact(ctx, resp.GetFinancials())
	return resp, nil
}

func (s *Server) ListPortfolio(ctx context.Context, req *projectv1.ListPortfolioRequest) (*projectv1.ListPortfolioResponse, error) {
	size := int(req.GetPageSize())
	if size == 0 {
		size = 100
	}
	resp, err := grpcx.Reply(wire.PortfolioResponse)(s.app.Portfolio(ctx, wire.StatusFromProto(req.GetStatus()), size))
	if err != nil {
		return nil, err
	}
	redact(ctx, resp.GetProjects()...)
	return resp, nil
}

// scopeCostRatesRead sees cost figures; without it they are redacted (cost ÷ hours would give
// the cost rates away).
const scopeCostRatesRead = "costrates:read"

// redact leaves the cost figures of the financials out when the caller may not read cost rates.
func redact(ctx context.Context, fs ...*projectv1.ProjectFinancials) {
	if auth.Granted(ctx, scopeCostRatesRead) {
		return
	}
	for _, f := range fs {
		wire.RedactCost(f)
	}
}
