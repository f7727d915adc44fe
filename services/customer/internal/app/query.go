package app

import (
	"context"

	"github.com/accrue/accrue/services/customer/internal/customer"
	"github.com/accrue/accrue/services/customer/internal/store"
)

// Get returns one customer.
func (s *Service) Get(ctx context.Context, id string) (customer.Customer, error) {
	return store.Get(ctx, s.pool, id, false)
}

// List returns up to limit customers after afterID.
func (s *Service) List(ctx context.Context, afterID string, limit int) ([]customer.Customer, error) {
	return store.List(ctx, s.pool, afterID, limit)
}
