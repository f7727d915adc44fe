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
		c, out, err = s.upsert(ctx, tx, in)
		return err
	})
	return c, out, err
}

// UpsertHierarchy upserts a chain of customers, root first, each the child of the previous, in
// one transaction.
func (s *Service) UpsertHierarchy(ctx context.Context, ins []customer.Input) (cs []customer.Customer, outs []Outcome, err error) {
	for _, in := range ins {
		if err := in.Validate(); err != nil {
			return nil, nil, err
		}
	}
	err = retryOnRefRace(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		cs, outs = cs[:0], outs[:0]
		parent := ""
		for _, in := range ins {
			in.ParentID = parent
			c, out, err := s.upsert(ctx, tx, in)
			if err != nil {
				return err
			}
			cs, outs, parent = append(cs, c), append(outs, out), c.ID
		}
		return nil
	})
	return cs, outs, err
}

func (s *Service) upsert(ctx context.Context, tx pgx.Tx, in customer.Input) (customer.Customer, Outcome, error) {
	existing, found, err := owner(ctx, tx, in.Refs)
	if err != nil {
		return existing, 0, err
	}
	if !found {
		c, err := s.insert(ctx, tx, in.Resolve(nil, false), in.Refs)
		return c, Created, err
	}
	d := in.Resolve(&existing.Details, true)
	missing := customer.MissingRefs(existing, in.Refs)
	if bytes.Equal(existing.Details.Hash(), d.Hash()) && len(missing) == 0 {
		return existing, Unchanged, nil
	}
	c, err := s.change(ctx, tx, existing, d, missing)
	return c, Updated, err
}
