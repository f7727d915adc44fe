package app

import (
	"context"

	"github.com/accrue/accrue/services/customer/internal/customer"
)

// Create creates a customer, matching before creating: when one of the input's external
// references already belongs to a customer with the same content, that customer is returned and
// created is false; when the content differs, it fails with customer.ErrDuplicateExternalID.
func (s *Service) Create(ctx context.Context, in customer.Input) (c customer.Customer, created bool, err error) {
	if err := in.Validate(); err != nil {
		return c, false, err
	}
	err = s.retryOnRefRace(ctx, func(ctx context.Context) error {
		d := in.Resolve(nil, false)
		existing, found, err := s.owner(ctx, in.Refs)
		if err != nil {
			return err
		}
		if found {
			if existing.Matches(d, in.Refs) {
				c, created = existing, false
				return nil
			}
			return customer.ErrDuplicateExternalID.With(
				"an external reference already belongs to customer "+existing.ID+" with different content; use UpsertCustomer to change it",
				"customer_id", existing.ID)
		}
		c, err = s.insert(ctx, d, in.Refs)
		created = err == nil
		return err
	})
	return c, created, err
}
