// Package grpcapi is the project service's gRPC transport: requests to use cases and back.
// Errors pass through; the platform maps them to status codes and reasons in one place.
package grpcapi

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/types/known/timestamppb"

	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/paging"
	"github.com/accrue/accrue/services/project/internal/app"
	"github.com/accrue/accrue/services/project/internal/store"
	"github.com/accrue/accrue/services/project/internal/wire"
)

// Server implements accrue.project.v1.ProjectService.
type Server struct {
	projectv1.UnimplementedProjectServiceServer
	app  *app.Service
	pool *pgxpool.Pool
}

// New returns the gRPC server.
func New(a *app.Service, pool *pgxpool.Pool) *Server {
	if a == nil || pool == nil {
		panic("grpcapi: New needs the use cases and a pool")
	}
	return &Server{app: a, pool: pool}
}

var outcomes = map[app.Outcome]projectv1.ConversionOutcome{
	app.Created:      projectv1.ConversionOutcome_CONVERSION_OUTCOME_CREATED,
	app.Updated:      projectv1.ConversionOutcome_CONVERSION_OUTCOME_UPDATED,
	app.Unchanged:    projectv1.ConversionOutcome_CONVERSION_OUTCOME_UNCHANGED,
	app.Pending:      projectv1.ConversionOutcome_CONVERSION_OUTCOME_PENDING,
	app.IgnoredStale: projectv1.ConversionOutcome_CONVERSION_OUTCOME_IGNORED_STALE,
}

func record(r app.Record) *projectv1.ConvertedRecord {
	return &projectv1.ConvertedRecord{Id: r.ID, Outcome: outcomes[r.Outcome], Version: r.Version}
}

func (s *Server) ConvertOpportunity(ctx context.Context, req *projectv1.ConvertOpportunityRequest) (*projectv1.ConvertOpportunityResponse, error) {
	r, err := s.app.Convert(ctx, req.GetOpportunity())
	if err != nil {
		return nil, err
	}
	return &projectv1.ConvertOpportunityResponse{Outcome: outcomes[r.Outcome], Customer: record(r.Customer),
		Contract: record(r.Contract), Project: record(r.Project), ProjectStatus: wire.Status(r.ProjectStatus),
		TaskCount: int32(r.TaskCount), ConvertedVersion: r.Version, Message: r.Message, ExceptionId: r.ExceptionID}, nil
}

func (s *Server) GetProject(ctx context.Context, req *projectv1.GetProjectRequest) (*projectv1.GetProjectResponse, error) {
	p, err := s.app.GetProject(ctx, req.GetProjectId())
	if err != nil {
		return nil, err
	}
	return &projectv1.GetProjectResponse{Project: wire.Project(p)}, nil
}

func (s *Server) ListProjects(ctx context.Context, req *projectv1.ListProjectsRequest) (*projectv1.ListProjectsResponse, error) {
	size := int(req.GetPageSize())
	if size == 0 {
		size = 50
	}
	after, _, err := paging.DecodeID(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	list, total, err := s.app.ListProjects(ctx, wire.StatusFromProto(req.GetStatus()), req.GetCustomerId(), after, size+1)
	if err != nil {
		return nil, err
	}
	resp := &projectv1.ListProjectsResponse{TotalCount: total}
	if len(list) > size {
		list = list[:size]
		resp.NextPageToken = paging.Encode(list[size-1].ID, "")
	}
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
	c, err := store.GetDirectoryCustomer(ctx, s.pool, req.GetCustomerId())
	if err != nil {
		return nil, err
	}
	return &projectv1.GetDirectoryCustomerResponse{Customer: &projectv1.DirectoryCustomer{
		CustomerId: c.CustomerID, Name: c.Name, CurrencyCode: c.Currency, Status: c.Status,
		HasTaxProfile: c.HasTaxProfile, TaxExempt: c.TaxExempt, Version: c.Version,
		LastEventId: c.LastEventID, CorrelationId: c.CorrelationID, UpdateTime: timestamppb.New(c.UpdatedAt),
	}}, nil
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
