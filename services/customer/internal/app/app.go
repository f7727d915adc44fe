// Package app holds the customer service's use cases, one per file. Each writes the customer,
// its customer.upserted event (outbox) and its audit record in one transaction, through the
// Store it is given; it knows no SQL.
package app

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/services/customer/internal/customer"
	"github.com/accrue/accrue/services/customer/internal/wire"
)

// Audit actions of the customer use cases.
const (
	actionCreated = "customer.created"
	actionUpdated = "customer.updated"
)

// Service runs the customer use cases.
type Service struct {
	store Store
	now   func() time.Time
}

// New returns the use cases over st.
func New(st Store) *Service {
	if st == nil {
		panic("app: New needs a store")
	}
	return &Service{store: st, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

// retryOnRefRace runs fn in a transaction, and once more when it lost a race on an external
// reference: the second run sees the winner's customer and matches it. It cannot run again in
// a transaction of the caller's, which the failed write has aborted.
func (s *Service) retryOnRefRace(ctx context.Context, fn func(ctx context.Context) error) error {
	err := s.store.InTx(ctx, fn)
	if errors.Is(err, customer.ErrReferenceTaken) && !s.store.InTransaction(ctx) {
		err = s.store.InTx(ctx, fn)
	}
	if errors.Is(err, customer.ErrReferenceTaken) {
		return customer.ErrDuplicateExternalID.Wrap(err)
	}
	return err
}

// checkParent validates d's parent for customer id ("" when creating). Re-parenting an existing
// customer takes the hierarchy lock, so that two concurrent moves cannot form a cycle; a new
// customer has no children and cannot close one, so creates run in parallel.
func (s *Service) checkParent(ctx context.Context, id string, d customer.Details) error {
	if d.ParentID == "" {
		return nil
	}
	if id != "" {
		if err := s.store.LockHierarchy(ctx); err != nil {
			return err
		}
	}
	ancestors, err := s.store.Ancestors(ctx, d.ParentID)
	if err != nil {
		return err
	}
	height := 1
	if id != "" {
		if height, err = s.store.SubtreeHeight(ctx, id); err != nil {
			return err
		}
	}
	return customer.CheckHierarchy(id, ancestors, height)
}

// newCustomer returns a new customer (version 1) with d and refs.
func (s *Service) newCustomer(d customer.Details, refs []customer.ExternalRef, now time.Time) customer.Customer {
	return customer.Customer{ID: uuid.Must(uuid.NewV7()).String(), Details: d, Refs: refs, Version: 1, CreatedAt: now, UpdatedAt: now}
}

// insert creates a customer with d and refs, its event and its audit record.
func (s *Service) insert(ctx context.Context, d customer.Details, refs []customer.ExternalRef) (customer.Customer, error) {
	if err := s.checkParent(ctx, "", d); err != nil {
		return customer.Customer{}, err
	}
	c := s.newCustomer(d, refs, s.now())
	ev, rec := announce(c, true)
	return c, s.store.Insert(ctx, []customer.Customer{c}, []outbox.Event{ev}, []audit.Record{rec})
}

// change stores new details (and extra refs) of c as a new version.
func (s *Service) change(ctx context.Context, c customer.Customer, d customer.Details, newRefs []customer.ExternalRef) (customer.Customer, error) {
	if d.ParentID != c.ParentID {
		if err := s.checkParent(ctx, c.ID, d); err != nil {
			return c, err
		}
	}
	c.Details, c.Version, c.UpdatedAt = d, c.Version+1, s.now()
	c.Refs = append(c.Refs, newRefs...)
	ev, rec := announce(c, false)
	return c, s.store.Update(ctx, c, newRefs, []outbox.Event{ev}, []audit.Record{rec})
}

// announce returns c's customer.upserted event and its audit record.
func announce(c customer.Customer, created bool) (outbox.Event, audit.Record) {
	action := actionUpdated
	if created {
		action = actionCreated
	}
	return wire.Upserted(c, created), audit.Record{Action: action, EntityType: "customer", EntityID: c.ID,
		Details: map[string]any{"version": c.Version, "status": string(c.Status)}}
}

// owner returns the one customer owning any of refs (locked), or ok=false when none does.
func (s *Service) owner(ctx context.Context, refs []customer.ExternalRef) (customer.Customer, bool, error) {
	owners, err := s.store.OwnersOf(ctx, refs)
	if err != nil {
		return customer.Customer{}, false, err
	}
	switch len(owners) {
	case 0:
		return customer.Customer{}, false, nil
	case 1:
		c, err := s.store.GetForUpdate(ctx, owners[0])
		return c, err == nil, err
	default:
		return customer.Customer{}, false, customer.ErrAmbiguousReference
	}
}
