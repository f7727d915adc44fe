// Package grpcapi is the customer service's gRPC transport: it translates requests to use-case
// calls and results back. Errors pass through unchanged; the platform interceptor maps them to
// status codes and reasons in one place (grpcx.ToStatus).
package grpcapi

import (
	"context"

	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	"github.com/accrue/accrue/internal/platform/paging"
	"github.com/accrue/accrue/services/customer/internal/app"
	"github.com/accrue/accrue/services/customer/internal/customer"
	"github.com/accrue/accrue/services/customer/internal/wire"
)

// Server implements accrue.customer.v1.CustomerService.
type Server struct {
	customerv1.UnimplementedCustomerServiceServer
	app *app.Service
}

// New returns the gRPC server over the use cases.
func New(a *app.Service) *Server {
	if a == nil {
		panic("grpcapi: New needs the use cases")
	}
	return &Server{app: a}
}

func (s *Server) CreateCustomer(ctx context.Context, req *customerv1.CreateCustomerRequest) (*customerv1.CreateCustomerResponse, error) {
	c, created, err := s.app.Create(ctx, wire.Input(req.GetCustomer()))
	if err != nil {
		return nil, err
	}
	return &customerv1.CreateCustomerResponse{Customer: wire.Customer(c), Created: created}, nil
}

var outcomes = map[app.Outcome]customerv1.Outcome{
	app.Created:   customerv1.Outcome_OUTCOME_CREATED,
	app.Updated:   customerv1.Outcome_OUTCOME_UPDATED,
	app.Unchanged: customerv1.Outcome_OUTCOME_UNCHANGED,
}

func (s *Server) UpsertCustomer(ctx context.Context, req *customerv1.UpsertCustomerRequest) (*customerv1.UpsertCustomerResponse, error) {
	c, out, err := s.app.Upsert(ctx, wire.Input(req.GetCustomer()))
	if err != nil {
		return nil, err
	}
	return &customerv1.UpsertCustomerResponse{Customer: wire.Customer(c), Outcome: outcomes[out]}, nil
}

func (s *Server) GetCustomer(ctx context.Context, req *customerv1.GetCustomerRequest) (*customerv1.GetCustomerResponse, error) {
	c, err := s.app.Get(ctx, req.GetCustomerId())
	if err != nil {
		return nil, err
	}
	return &customerv1.GetCustomerResponse{Customer: wire.Customer(c)}, nil
}

func (s *Server) UpdateCustomer(ctx context.Context, req *customerv1.UpdateCustomerRequest) (*customerv1.UpdateCustomerResponse, error) {
	c, err := s.app.Update(ctx, req.GetCustomerId(), req.GetExpectedVersion(), wire.Input(req.GetCustomer()))
	if err != nil {
		return nil, err
	}
	return &customerv1.UpdateCustomerResponse{Customer: wire.Customer(c)}, nil
}

func (s *Server) ListCustomers(ctx context.Context, req *customerv1.ListCustomersRequest) (*customerv1.ListCustomersResponse, error) {
	size := int(req.GetPageSize())
	if size == 0 {
		size = 50
	}
	after, err := decodeToken(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	list, err := s.app.List(ctx, after, size+1)
	if err != nil {
		return nil, err
	}
	resp := &customerv1.ListCustomersResponse{}
	if len(list) > size {
		list = list[:size]
		resp.NextPageToken = encodeToken(list[size-1].ID)
	}
	for _, c := range list {
		resp.Customers = append(resp.Customers, wire.Customer(c))
	}
	return resp, nil
}

func encodeToken(afterID string) string { return paging.Encode(afterID, "") }

func decodeToken(tok string) (string, error) {
	id, _, err := paging.DecodeID(tok)
	return id, err
}

func (s *Server) LookupCustomer(ctx context.Context, req *customerv1.LookupCustomerRequest) (*customerv1.LookupCustomerResponse, error) {
	r := req.GetExternalReference()
	c, err := s.app.Lookup(ctx, customer.ExternalRef{System: r.GetSystem(), ObjectType: r.GetObjectType(), ExternalID: r.GetExternalId()})
	if err != nil {
		return nil, err
	}
	return &customerv1.LookupCustomerResponse{Customer: wire.Customer(c)}, nil
}

func (s *Server) UpsertCustomerHierarchy(ctx context.Context, req *customerv1.UpsertCustomerHierarchyRequest) (*customerv1.UpsertCustomerHierarchyResponse, error) {
	ins := make([]customer.Input, len(req.GetCustomers()))
	for i, c := range req.GetCustomers() {
		ins[i] = wire.Input(c)
	}
	cs, outs, err := s.app.UpsertHierarchy(ctx, ins)
	if err != nil {
		return nil, err
	}
	resp := &customerv1.UpsertCustomerHierarchyResponse{}
	for i, c := range cs {
		resp.Customers = append(resp.Customers, wire.Customer(c))
		resp.Outcomes = append(resp.Outcomes, outcomes[outs[i]])
	}
	return resp, nil
}
