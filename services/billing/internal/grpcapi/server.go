// Package grpcapi is the billing service's gRPC transport: requests to use cases and back.
// Errors pass through; the platform maps them to status codes and reasons in one place.
package grpcapi

import (
	"context"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/paging"
	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// Server implements the billing gRPC services.
type Server struct {
	billingv1.UnimplementedLegalEntityServiceServer
	billingv1.UnimplementedContractServiceServer
	app *app.Service
}

// New returns the gRPC server over the use cases.
func New(a *app.Service) *Server {
	if a == nil {
		panic("grpcapi: New needs the use cases")
	}
	return &Server{app: a}
}

func (s *Server) CreateLegalEntity(ctx context.Context, req *billingv1.CreateLegalEntityRequest) (*billingv1.CreateLegalEntityResponse, error) {
	le, created, err := s.app.CreateLegalEntity(ctx, wire.LegalEntityInput(req.GetLegalEntity()))
	if err != nil {
		return nil, err
	}
	return &billingv1.CreateLegalEntityResponse{LegalEntity: wire.LegalEntity(le), Created: created}, nil
}

func (s *Server) GetLegalEntity(ctx context.Context, req *billingv1.GetLegalEntityRequest) (*billingv1.GetLegalEntityResponse, error) {
	le, err := s.app.GetLegalEntity(ctx, req.GetLegalEntityId())
	if err != nil {
		return nil, err
	}
	return &billingv1.GetLegalEntityResponse{LegalEntity: wire.LegalEntity(le)}, nil
}

func (s *Server) ListLegalEntities(ctx context.Context, req *billingv1.ListLegalEntitiesRequest) (*billingv1.ListLegalEntitiesResponse, error) {
	size := int(req.GetPageSize())
	if size == 0 {
		size = 100
	}
	after, err := decodeToken(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	list, err := s.app.ListLegalEntities(ctx, after, size+1)
	if err != nil {
		return nil, err
	}
	resp := &billingv1.ListLegalEntitiesResponse{}
	if len(list) > size {
		list = list[:size]
		resp.NextPageToken = encodeToken(list[size-1].Code)
	}
	for _, le := range list {
		resp.LegalEntities = append(resp.LegalEntities, wire.LegalEntity(le))
	}
	return resp, nil
}

var outcomes = map[app.Outcome]billingv1.ContractOutcome{
	app.Created:      billingv1.ContractOutcome_CONTRACT_OUTCOME_CREATED,
	app.Amended:      billingv1.ContractOutcome_CONTRACT_OUTCOME_AMENDED,
	app.Unchanged:    billingv1.ContractOutcome_CONTRACT_OUTCOME_UNCHANGED,
	app.IgnoredStale: billingv1.ContractOutcome_CONTRACT_OUTCOME_IGNORED_STALE,
}

func (s *Server) UpsertContract(ctx context.Context, req *billingv1.UpsertContractRequest) (*billingv1.UpsertContractResponse, error) {
	t, err := wire.Terms(req.GetContract())
	if err != nil {
		return nil, err
	}
	r := req.GetExternalReference()
	c, out, err := s.app.UpsertContract(ctx, contract.ExternalRef{System: r.GetSystem(), ObjectType: r.GetObjectType(), ExternalID: r.GetExternalId()},
		req.GetSourceVersion(), t, req.GetValidateOnly())
	if err != nil {
		return nil, err
	}
	resp := &billingv1.UpsertContractResponse{Outcome: outcomes[out]}
	if c.ID != "" {
		resp.Contract = wire.Contract(c)
	}
	return resp, nil
}

func (s *Server) AmendContract(ctx context.Context, req *billingv1.AmendContractRequest) (*billingv1.AmendContractResponse, error) {
	t, err := wire.Terms(req.GetContract())
	if err != nil {
		return nil, err
	}
	c, err := s.app.AmendContract(ctx, req.GetContractId(), req.GetExpectedVersion(), req.GetReason(), t)
	if err != nil {
		return nil, err
	}
	return &billingv1.AmendContractResponse{Contract: wire.Contract(c)}, nil
}

func (s *Server) GetContract(ctx context.Context, req *billingv1.GetContractRequest) (*billingv1.GetContractResponse, error) {
	c, err := s.app.GetContract(ctx, req.GetContractId())
	if err != nil {
		return nil, err
	}
	return &billingv1.GetContractResponse{Contract: wire.Contract(c)}, nil
}

func (s *Server) ListContractVersions(ctx context.Context, req *billingv1.ListContractVersionsRequest) (*billingv1.ListContractVersionsResponse, error) {
	list, err := s.app.ListContractVersions(ctx, req.GetContractId())
	if err != nil {
		return nil, err
	}
	resp := &billingv1.ListContractVersionsResponse{}
	for _, c := range list {
		resp.Versions = append(resp.Versions, wire.Contract(c))
	}
	return resp, nil
}

func encodeToken(afterCode string) string { return paging.Encode("", afterCode) }

func decodeToken(tok string) (string, error) {
	_, key, err := paging.Decode(tok)
	return key, err
}
