package app

import (
	"context"
	"strconv"

	"github.com/accrue/accrue/services/customer/internal/customer"
)

// Update replaces the details of customer id when its stored version is expectedVersion
// (optimistic concurrency), otherwise it fails with customer.ErrVersionConflict. References in
// the input are attached; existing references are never removed (they are immutable links).
func (s *Service) Update(ctx context.Context, id string, expectedVersion int64, in customer.Input) (c customer.Customer, err error) {
	if err := in.Validate(); err != nil {
		return c, err
	}
	err = s.retryOnRefRace(ctx, func(ctx context.Context) error {
		existing, err := s.store.GetForUpdate(ctx, id)
		if err != nil {
			return err
		}
		if existing.Version != expectedVersion {
			return customer.ErrVersionConflict.With("customer "+id+" is at version "+strconv.FormatInt(existing.Version, 10),
				"current_version", strconv.FormatInt(existing.Version, 10))
		}
		d := in.Resolve(&existing.Details, false)
		if existing.Matches(d, in.Refs) {
			c = existing
			return nil
		}
		c, err = s.change(ctx, existing, d, customer.MissingRefs(existing, in.Refs))
		return err
	})
	return c, err
}
