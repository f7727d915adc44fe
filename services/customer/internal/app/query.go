package app

import (
	"context"

	"github.com/accrue/accrue/services/customer/internal/customer"
)

// Get returns one customer.
func (s *Service) Get(ctx context.Context, id string) (customer.Customer, error) {
	return s.store.Get(ctx, id)
}

// List returns up to limit customers after afterID.
func (s *Service) List(ctx context.Context, afterID string, limit int) ([]customer.Customer, error) {
	return s.store.List(ctx, afterID, limit)
}

// Lookup returns the customer owning ref (customer.ErrNotFound when none does).
func (s *Service) Lookup(ctx context.Context, ref customer.ExternalRef) (customer.Customer, error) {
	owners, err := s.store.OwnersOf(ctx, []customer.ExternalRef{ref})
	if err != nil {
		return customer.Customer{}, err
	}
	if len(owners) == 0 {
		return customer.Customer{}, customer.ErrNotFound
	}
	return s.store.Get(ctx, owners[0])
}
