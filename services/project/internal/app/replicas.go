package app

import (
	"context"

	"github.com/accrue/accrue/services/project/internal/project"
)

// ApplyCustomers applies customer replicas to the directory (a replica only moves forward) and
// returns how many changed.
func (s *Service) ApplyCustomers(ctx context.Context, list []project.DirectoryCustomer) (int64, error) {
	return s.store.UpsertDirectoryCustomers(ctx, list)
}

// DirectoryCustomer returns the replica of a customer.
func (s *Service) DirectoryCustomer(ctx context.Context, id string) (project.DirectoryCustomer, error) {
	return s.store.DirectoryCustomer(ctx, id)
}

// ApplyLegalEntity applies a legal entity replica (a replica only moves forward).
func (s *Service) ApplyLegalEntity(ctx context.Context, le project.LegalEntity) error {
	return s.store.UpsertLegalEntity(ctx, le)
}
