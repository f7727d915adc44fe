package app

import (
	"context"
	"errors"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/services/customer/internal/customer"
)

// Upsert creates the customer identified by the input's external references, or brings the
// existing one to the input's content (a new version, with any new references attached). Same
// content is a no-op (customer.Unchanged).
func (s *Service) Upsert(ctx context.Context, in customer.Input) (c customer.Customer, out customer.Outcome, err error) {
	if err := in.Validate(); err != nil {
		return c, 0, err
	}
	err = s.retryOnRefRace(ctx, func(ctx context.Context) error {
		c, out, err = s.upsert(ctx, in)
		return err
	})
	return c, out, err
}

// UpsertHierarchy upserts a chain of customers, root first, each the child of the previous, in
// one transaction.
func (s *Service) UpsertHierarchy(ctx context.Context, ins []customer.Input) (cs []customer.Customer, outs []customer.Outcome, err error) {
	for _, in := range ins {
		if err := in.Validate(); err != nil {
			return nil, nil, err
		}
	}
	if !s.store.InTransaction(ctx) {
		cs, created, err := s.createHierarchy(ctx, ins)
		if created || (err != nil && !errors.Is(err, customer.ErrReferenceTaken)) {
			outs = make([]customer.Outcome, len(cs))
			for i := range outs {
				outs[i] = customer.Created
			}
			return cs, outs, err
		}
		// Some customer exists already (or was just created by a concurrent call): upsert below.
	}
	err = s.retryOnRefRace(ctx, func(ctx context.Context) error {
		cs, outs = cs[:0], outs[:0]
		parent := ""
		for _, in := range ins {
			in.ParentID = parent
			c, out, err := s.upsert(ctx, in)
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
// write with customer.ErrReferenceTaken.
func (s *Service) createHierarchy(ctx context.Context, ins []customer.Input) ([]customer.Customer, bool, error) {
	var refs []customer.ExternalRef
	for _, in := range ins {
		refs = append(refs, in.Refs...)
	}
	owners, err := s.store.OwnersOf(ctx, refs)
	if err != nil || len(owners) > 0 {
		return nil, false, err
	}
	cs := make([]customer.Customer, 0, len(ins))
	events := make([]outbox.Event, 0, len(ins))
	records := make([]audit.Record, 0, len(ins))
	var ancestors []string // the new customer's parent first
	now := s.now()
	for _, in := range ins {
		if len(ancestors) > 0 {
			in.ParentID = ancestors[0]
		}
		if err := customer.CheckHierarchy("", ancestors, 1); err != nil {
			return nil, false, err
		}
		c := s.newCustomer(in.Resolve(nil, false), in.Refs, now)
		ev, rec := announce(c, true)
		cs, events, records = append(cs, c), append(events, ev), append(records, rec)
		ancestors = append([]string{c.ID}, ancestors...)
	}
	if err := s.store.Insert(ctx, cs, events, records); err != nil {
		return nil, false, err
	}
	return cs, true, nil
}

func (s *Service) upsert(ctx context.Context, in customer.Input) (customer.Customer, customer.Outcome, error) {
	existing, found, err := s.owner(ctx, in.Refs)
	if err != nil {
		return existing, 0, err
	}
	if !found {
		c, err := s.insert(ctx, in.Resolve(nil, false), in.Refs)
		return c, customer.Created, err
	}
	d := in.Resolve(&existing.Details, true)
	if existing.Matches(d, in.Refs) {
		return existing, customer.Unchanged, nil
	}
	c, err := s.change(ctx, existing, d, customer.MissingRefs(existing, in.Refs))
	return c, customer.Updated, err
}
