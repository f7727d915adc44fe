// Package grpcapi is the project service's gRPC transport.
package grpcapi

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/types/known/timestamppb"

	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/services/project/internal/store"
)

// Server implements accrue.project.v1.ProjectService.
type Server struct {
	projectv1.UnimplementedProjectServiceServer
	pool *pgxpool.Pool
}

// New returns the gRPC server.
func New(pool *pgxpool.Pool) *Server {
	if pool == nil {
		panic("grpcapi: New needs a pool")
	}
	return &Server{pool: pool}
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
