// Package app holds the customer service's use cases, one per file. Each runs in one transaction
// that writes the customer, its customer.upserted event (outbox) and its audit record together.
package app

import (
	"context"

	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/customer/internal/customer"
	"github.com/accrue/accrue/services/customer/internal/store"
	"github.com/accrue/accrue/services/customer/internal/wire"
)

// Service runs the customer use cases.
type Service struct {
	pool   *pgxpool.Pool
	outbox outbox.Writer
	now    func() time.Time
}

// New returns the use cases over pool, publishing through ob.
func New(pool *pgxpool.Pool, ob outbox.Writer) *Service {
	if pool == nil || ob.Producer == "" {
		panic("app: New needs a pool and an outbox writer")
	}
	return &Service{pool: pool, outbox: ob, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

// Outcome says what a write did.
type Outcome int

const (
	Created Outcome = iota + 1
	Updated
	Unchanged
)

// retryOnRefRace runs fn again once when it lost a race on a unique external reference: the
// second run sees the winner's customer and matches it.
func retryOnRefRace(ctx context.Context, pool *pgxpool.Pool, fn func(ctx context.Context, tx pgx.Tx) error) error {
	err := pg.InTx(ctx, pool, fn)
	if pg.IsUniqueViolation(err, store.RefsConstraint) {
		if _, ambient := pg.TxFrom(ctx); !ambient {
			err = pg.InTx(ctx, pool, fn)
		}
	}
	if pg.IsUniqueViolation(err, store.RefsConstraint) {
		return customer.ErrDuplicateExternalID.Wrap(err)
	}
	return err
}

// checkParent validates d's parent for customer id ("" when creating). Re-parenting an existing
// customer takes the hierarchy lock, so that two concurrent moves cannot form a cycle; a new
// customer has no children and cannot close one, so creates run in parallel.
func checkParent(ctx context.Context, tx pgx.Tx, id string, d customer.Details) error {
	if d.ParentID == "" {
		return nil
	}
	if id != "" {
		if err := store.LockHierarchy(ctx, tx); err != nil {
			return err
		}
	}
	ancestors, err := store.Ancestors(ctx, tx, d.ParentID)
	if err != nil {
		return err
	}
	height := 1
	if id != "" {
		if height, err = store.SubtreeHeight(ctx, tx, id); err != nil {
			return err
		}
	}
	return customer.CheckHierarchy(id, ancestors, height)
}

// insert creates a customer with d and refs, its event and its audit record.
func (s *Service) insert(ctx context.Context, tx pgx.Tx, d customer.Details, refs []customer.ExternalRef) (customer.Customer, error) {
	if err := checkParent(ctx, tx, "", d); err != nil {
		return customer.Customer{}, err
	}
	now := s.now()
	c := customer.Customer{ID: uuid.Must(uuid.NewV7()).String(), Details: d, Refs: refs, Version: 1, CreatedAt: now, UpdatedAt: now}
	var b pg.Batch
	if err := store.QueueInsert(&b, c); err != nil {
		return c, err
	}
	if err := s.queuePublish(ctx, &b, c, true); err != nil {
		return c, err
	}
	return c, b.Run(ctx, tx)
}

// change stores new details (and extra refs) of c as a new version.
func (s *Service) change(ctx context.Context, tx pgx.Tx, c customer.Customer, d customer.Details, newRefs []customer.ExternalRef) (customer.Customer, error) {
	if d.ParentID != c.ParentID {
		if err := checkParent(ctx, tx, c.ID, d); err != nil {
			return c, err
		}
	}
	c.Details, c.Version, c.UpdatedAt = d, c.Version+1, s.now()
	c.Refs = append(c.Refs, newRefs...)
	if err := store.Update(ctx, tx, c); err != nil {
		return c, err
	}
	if err := store.AddRefs(ctx, tx, c.ID, newRefs); err != nil {
		return c, err
	}
	return c, s.publish(ctx, tx, c, false)
}

func (s *Service) publish(ctx context.Context, tx pgx.Tx, c customer.Customer, created bool) error {
	var b pg.Batch
	if err := s.queuePublish(ctx, &b, c, created); err != nil {
		return err
	}
	return b.Run(ctx, tx)
}

// queuePublish adds c's customer.upserted event and its audit record to b.
func (s *Service) queuePublish(ctx context.Context, b *pg.Batch, c customer.Customer, created bool) error {
	if _, err := s.outbox.Queue(ctx, b, outbox.Event{
		Stream: wire.Stream, Type: wire.EventUpserted, Subject: c.ID,
		Payload: &customerv1.CustomerUpserted{Customer: wire.Customer(c), Created: created},
	}); err != nil {
		return err
	}
	action := "customer.updated"
	if created {
		action = "customer.created"
	}
	return audit.Queue(ctx, b, audit.Record{Action: action, EntityType: "customer", EntityID: c.ID,
		Details: map[string]any{"version": c.Version, "status": string(c.Status)}})
}

// owner returns the one customer owning any of refs (locked), or ok=false when none does.
func owner(ctx context.Context, tx pgx.Tx, refs []customer.ExternalRef) (customer.Customer, bool, error) {
	owners, err := store.OwnersOf(ctx, tx, refs)
	if err != nil {
		return customer.Customer{}, false, err
	}
	switch len(owners) {
	case 0:
		return customer.Customer{}, false, nil
	case 1:
		c, err := store.Get(ctx, tx, owners[0], true)
		return c, err == nil, err
	default:
		return customer.Customer{}, false, customer.ErrAmbiguousReference
	}
}
