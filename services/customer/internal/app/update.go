package app

import (
	"bytes"
	"context"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/services/customer/internal/customer"
	"github.com/accrue/accrue/services/customer/internal/store"
)

// Update replaces the details of customer id when its stored version is expectedVersion
// (optimistic concurrency), otherwise it fails with customer.ErrVersionConflict. References in
// the input are attached; existing references are never removed (they are immutable links).
func (s *Service) Update(ctx context.Context, id string, expectedVersion int64, in customer.Input) (c customer.Customer, err error) {
	if err := in.Validate(); err != nil {
		return c, err
	}
	err = retryOnRefRace(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		existing, err := store.Get(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if existing.Version != expectedVersion {
			return customer.ErrVersionConflict.With("customer "+id+" is at version "+strconv.FormatInt(existing.Version, 10),
				"current_version", strconv.FormatInt(existing.Version, 10))
		}
		d := in.Resolve(&existing.Details, false)
		missing := customer.MissingRefs(existing, in.Refs)
		if bytes.Equal(existing.Details.Hash(), d.Hash()) && len(missing) == 0 {
			c = existing
			return nil
		}
		c, err = s.change(ctx, tx, existing, d, missing)
		return err
	})
	return c, err
}
