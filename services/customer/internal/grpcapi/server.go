// Package grpcapi is the customer service's gRPC transport: it translates requests to use-case
// calls and results back (through wire), most in one line through grpcx.Reply. Errors pass through unchanged; the platform interceptor
// maps them to status codes and reasons in one place (grpcx.ToStatus).
package grpcapi

import (
	"context"

	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	"github.com/accrue/accrue/internal/platform/grpcx"
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
func New(a *app.Service) *Server { return &Server{app: grpcx.Need(a)} }

func (s *Server) CreateCustomer(ctx context.Context, req *customerv1.CreateCustomerRequest) (*customerv1.CreateCustomerResponse, error) {
	return grpcx.Reply2(wire.CreateResponse)(s.app.Create(ctx, wire.Input(req.GetCustomer())))
}

func (s *Server) UpsertCustomer(ctx context.Context, req *customerv1.UpsertCustomerRequest) (*customerv1.UpsertCustomerResponse, error) {
	return grpcx.Reply2(wire.UpsertResponse)(s.app.Upsert(ctx, wire.Input(req.GetCustomer())))
}

func (s *Server) GetCustomer(ctx context.Context, req *customerv1.GetCustomerRequest) (*customerv1.GetCustomerResponse, error) {
	return grpcx.Reply(wire.GetResponse)(s.app.Get(ctx, req.GetCustomerId()))
}

func (s *Server) UpdateCustomer(ctx context.Context, req *customerv1.UpdateCustomerRequest) (*customerv1.UpdateCustomerResponse, error) {
	return grpcx.Reply(wire.UpdateResponse)(s.app.Update(ctx, req.GetCustomerId(), req.GetExpectedVersion(), wire.Input(req.GetCustomer())))
}

func (s *Server) ListCustomers(ctx context.Context, req *customerv1.ListCustomersRequest) (*customerv1.ListCustomersResponse, error) {
	r, err := paging.ByID(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	list, err := s.app.List(ctx, r.AfterID, r.Fetch())
	if err != nil {
		return nil, err
	}
	list, next := paging.Page(r, list, func(c customer.Customer) (string, string) { return c.ID, "" })
	return &customerv1.ListCustomersResponse{Customers: wire.Customers(list), NextPageToken: next}, nil
}

func (s *Server) LookupCustomer(ctx context.Context, req *customerv1.LookupCustomerRequest) (*customerv1.LookupCustomerResponse, error) {
	return grpcx.Reply(wire.LookupResponse)(s.app.Lookup(ctx, wire.Ref(req.GetExternalReference())))
}

func (s *Server) UpsertCustomerHierarchy(ctx context.Context, req *customerv1.UpsertCustomerHierarchyRequest) (*customerv1.UpsertCustomerHierarchyResponse, error) {
	return grpcx.Reply2(wire.HierarchyResponse)(s.app.UpsertHierarchy(ctx, wire.Inputs(req.GetCustomers())))
}
