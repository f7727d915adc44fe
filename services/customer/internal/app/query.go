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

// Lookup returns the customer owning ref (customer.ErrNotFound when none does).
func (s *Service) Lookup(ctx context.Context, ref customer.ExternalRef) (customer.Customer, error) {
	owners, err := store.OwnersOf(ctx, s.pool, []customer.ExternalRef{ref})
	if err != nil {
		return customer.Customer{}, err
	}
	if len(owners) == 0 {
		return customer.Customer{}, customer.ErrNotFound
	}
	return store.Get(ctx, s.pool, owners[0], false)
}
