// Package grpcapi is the project service's gRPC transport: requests to use cases and back.
// Errors pass through; the platform maps them to status codes and reasons in one place.
package grpcapi

import (
	"context"

	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
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
func New(a *app.Service) *Server {
	if a == nil {
		panic("grpcapi: New needs the use cases")
	}
	return &Server{app: a}
}

func (s *Server) ConvertOpportunity(ctx context.Context, req *projectv1.ConvertOpportunityRequest) (*projectv1.ConvertOpportunityResponse, error) {
	r, err := s.app.Convert(ctx, req.GetOpportunity())
	if err != nil {
		return nil, err
	}
	return wire.ConversionResponse(r), nil
}

func (s *Server) GetProject(ctx context.Context, req *projectv1.GetProjectRequest) (*projectv1.GetProjectResponse, error) {
	p, err := s.app.GetProject(ctx, req.GetProjectId())
	if err != nil {
		return nil, err
	}
	return &projectv1.GetProjectResponse{Project: wire.Project(p)}, nil
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
	p, err := s.app.ChangeStatus(ctx, req.GetProjectId(), wire.StatusFromProto(req.GetStatus()), req.GetReason(), req.GetExpectedVersion())
	if err != nil {
		return nil, err
	}
	return &projectv1.ChangeProjectStatusResponse{Project: wire.Project(p)}, nil
}

func (s *Server) PutProjectTemplate(ctx context.Context, req *projectv1.PutProjectTemplateRequest) (*projectv1.PutProjectTemplateResponse, error) {
	t, err := s.app.PutTemplate(ctx, wire.TemplateFromProto(req.GetTemplate()))
	if err != nil {
		return nil, err
	}
	return &projectv1.PutProjectTemplateResponse{Template: wire.Template(t)}, nil
}

func (s *Server) ListProjectTemplates(ctx context.Context, _ *projectv1.ListProjectTemplatesRequest) (*projectv1.ListProjectTemplatesResponse, error) {
	ts, err := s.app.Templates(ctx)
	if err != nil {
		return nil, err
	}
	resp := &projectv1.ListProjectTemplatesResponse{}
	for _, t := range ts {
		resp.Templates = append(resp.Templates, wire.Template(t))
	}
	return resp, nil
}

func (s *Server) GetDirectoryCustomer(ctx context.Context, req *projectv1.GetDirectoryCustomerRequest) (*projectv1.GetDirectoryCustomerResponse, error) {
	c, err := s.app.DirectoryCustomer(ctx, req.GetCustomerId())
	if err != nil {
		return nil, err
	}
	return &projectv1.GetDirectoryCustomerResponse{Customer: wire.DirectoryCustomer(c)}, nil
}

func (s *Server) GetProjectFinancials(ctx context.Context, req *projectv1.GetProjectFinancialsRequest) (*projectv1.GetProjectFinancialsResponse, error) {
	f, err := s.app.Financials(ctx, req.GetProjectId())
	if err != nil {
		return nil, err
	}
	return &projectv1.GetProjectFinancialsResponse{Financials: wire.Financials(f)}, nil
}

func (s *Server) ListPortfolio(ctx context.Context, req *projectv1.ListPortfolioRequest) (*projectv1.ListPortfolioResponse, error) {
	size := int(req.GetPageSize())
	if size == 0 {
		size = 100
	}
	list, err := s.app.Portfolio(ctx, wire.StatusFromProto(req.GetStatus()), size)
	if err != nil {
		return nil, err
	}
	resp := &projectv1.ListPortfolioResponse{}
	for _, f := range list {
		resp.Projects = append(resp.Projects, wire.Financials(f))
	}
	return resp, nil
}
