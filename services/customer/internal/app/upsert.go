package app

import (
	"bytes"
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/services/customer/internal/customer"
)

// Upsert creates the customer identified by the input's external references, or brings the
// existing one to the input's content (a new version, with any new references attached). Same
// content is a no-op (Unchanged).
func (s *Service) Upsert(ctx context.Context, in customer.Input) (c customer.Customer, out Outcome, err error) {
	if err := in.Validate(); err != nil {
		return c, 0, err
	}
	err = retryOnRefRace(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		existing, found, err := owner(ctx, tx, in.Refs)
		if err != nil {
			return err
		}
		if !found {
			c, err = s.insert(ctx, tx, in.Resolve(nil, false), in.Refs)
			out = Created
			return err
		}
		d := in.Resolve(&existing.Details, true)
		missing := customer.MissingRefs(existing, in.Refs)
		if bytes.Equal(existing.Details.Hash(), d.Hash()) && len(missing) == 0 {
			c, out = existing, Unchanged
			return nil
		}
		c, err = s.change(ctx, tx, existing, d, missing)
		out = Updated
		return err
	})
	return c, out, err
}
