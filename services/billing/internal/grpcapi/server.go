// Package grpcapi is the billing service's gRPC transport: each handler translates the request
// (wire), calls one use case and translates the answer back. Errors pass through; the platform
// maps them to status codes and reasons in one place.
package grpcapi

import (
	"context"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/paging"
	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// Server implements the billing gRPC services of legal entities and contracts.
type Server struct {
	billingv1.UnimplementedLegalEntityServiceServer
	billingv1.UnimplementedContractServiceServer
	app *app.Service
}

// New returns the gRPC server over the use cases.
func New(a *app.Service) *Server { return &Server{app: grpcx.Need(a)} }

func (s *Server) CreateLegalEntity(ctx context.Context, req *billingv1.CreateLegalEntityRequest) (*billingv1.CreateLegalEntityResponse, error) {
	return grpcx.Reply2(wire.CreateLegalEntityResponse)(s.app.CreateLegalEntity(ctx, wire.LegalEntityInput(req.GetLegalEntity())))
}

func (s *Server) GetLegalEntity(ctx context.Context, req *billingv1.GetLegalEntityRequest) (*billingv1.GetLegalEntityResponse, error) {
	return grpcx.Reply(wire.GetLegalEntityResponse)(s.app.GetLegalEntity(ctx, req.GetLegalEntityId()))
}

// legalEntityPageSize is the contract's page size of ListLegalEntities when the request names
// none.
const legalEntityPageSize = 100

func (s *Server) ListLegalEntities(ctx context.Context, req *billingv1.ListLegalEntitiesRequest) (*billingv1.ListLegalEntitiesResponse, error) {
	size := req.GetPageSize()
	if size == 0 {
		size = legalEntityPageSize
	}
	page, err := paging.ByKey(size, req.GetPageToken())
	if err != nil {
		return nil, err
	}
	list, err := s.app.ListLegalEntities(ctx, page)
	if err != nil {
		return nil, err
	}
	list, next := paging.Page(page, list, func(le legalentity.LegalEntity) (string, string) { return "", le.Code })
	return &billingv1.ListLegalEntitiesResponse{LegalEntities: wire.Each(list, wire.LegalEntity), NextPageToken: next}, nil
}

func (s *Server) UpsertContract(ctx context.Context, req *billingv1.UpsertContractRequest) (*billingv1.UpsertContractResponse, error) {
	t, err := wire.Terms(req.GetContract())
	if err != nil {
		return nil, err
	}
	return grpcx.Reply2(wire.UpsertContractResponse)(s.app.UpsertContract(ctx, wire.ExternalRef(req.GetExternalReference()),
		req.GetSourceVersion(), t, req.GetValidateOnly()))
}

func (s *Server) AmendContract(ctx context.Context, req *billingv1.AmendContractRequest) (*billingv1.AmendContractResponse, error) {
	t, err := wire.Terms(req.GetContract())
	if err != nil {
		return nil, err
	}
	return grpcx.Reply(wire.AmendContractResponse)(s.app.AmendContract(ctx, req.GetContractId(), req.GetExpectedVersion(), req.GetReason(), t))
}

func (s *Server) CompleteMilestone(ctx context.Context, req *billingv1.CompleteMilestoneRequest) (*billingv1.CompleteMilestoneResponse, error) {
	on, err := civilpb.From(req.GetCompletedOn(), "completed_on")
	if err != nil {
		return nil, err
	}
	return grpcx.Reply2(wire.CompleteMilestoneResponse)(s.app.CompleteMilestone(ctx, req.GetContractId(), req.GetLineKey(),
		req.GetMilestoneKey(), on))
}

func (s *Server) GetContract(ctx context.Context, req *billingv1.GetContractRequest) (*billingv1.GetContractResponse, error) {
	return grpcx.Reply(wire.GetContractResponse)(s.app.GetContract(ctx, req.GetContractId()))
}

func (s *Server) ListContractVersions(ctx context.Context, req *billingv1.ListContractVersionsRequest) (*billingv1.ListContractVersionsResponse, error) {
	return grpcx.Reply(wire.ContractVersionsResponse)(s.app.ListContractVersions(ctx, req.GetContractId()))
}
