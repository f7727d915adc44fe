package app

import (
	"bytes"
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/customer/internal/customer"
	"github.com/accrue/accrue/services/customer/internal/store"
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
	if _, ambient := pg.TxFrom(ctx); !ambient {
		cs, created, err := s.createHierarchy(ctx, ins)
		if created || (err != nil && !pg.IsUniqueViolation(err, store.RefsConstraint)) {
			outs = make([]Outcome, len(cs))
			for i := range outs {
				outs[i] = Created
			}
			return cs, outs, err
		}
		// Some customer exists already (or was just created by a concurrent call): upsert below.
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

// createHierarchy creates a chain of customers none of whose references is known yet: one read
// of the references, then the customers, their references, events and audit records in one
// round trip that commits them together. created is false when some reference is already held
// (nothing is written then); a concurrent create of one of the references fails the whole
// write on store.RefsConstraint.
func (s *Service) createHierarchy(ctx context.Context, ins []customer.Input) ([]customer.Customer, bool, error) {
	var refs []customer.ExternalRef
	for _, in := range ins {
		refs = append(refs, in.Refs...)
	}
	owners, err := store.OwnersOf(ctx, s.pool, refs)
	if err != nil || len(owners) > 0 {
		return nil, false, err
	}
	var b pg.Batch
	cs := make([]customer.Customer, 0, len(ins))
	var ancestors []string // the new customer's parent first
	now := s.now()
	for _, in := range ins {
		if len(ancestors) > 0 {
			in.ParentID = ancestors[0]
		}
		d := in.Resolve(nil, false)
		if err := customer.CheckHierarchy("", ancestors, 1); err != nil {
			return nil, false, err
		}
		c := customer.Customer{ID: uuid.Must(uuid.NewV7()).String(), Details: d, Refs: in.Refs, Version: 1, CreatedAt: now, UpdatedAt: now}
		if err := store.QueueInsert(&b, c); err != nil {
			return nil, false, err
		}
		if err := s.queuePublish(ctx, &b, c, true); err != nil {
			return nil, false, err
		}
		cs = append(cs, c)
		ancestors = append([]string{c.ID}, ancestors...)
	}
	if err := b.Run(ctx, s.pool); err != nil {
		return nil, false, err
	}
	return cs, true, nil
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
