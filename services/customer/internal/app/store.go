package app

import (
	"context"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/txn"
	"github.com/accrue/accrue/services/customer/internal/customer"
)

// Store is what the use cases need of persistence (internal/store implements it). Every method
// runs in the transaction ctx carries (see InTx), or on its own when there is none.
type Store interface {
	txn.Store

	// Get returns a customer with its references; customer.ErrNotFound when absent.
	Get(ctx context.Context, id string) (customer.Customer, error)
	// GetForUpdate is Get, locking the customer until the transaction ends.
	GetForUpdate(ctx context.Context, id string) (customer.Customer, error)
	// List returns up to limit customers after afterID, in id order.
	List(ctx context.Context, afterID string, limit int) ([]customer.Customer, error)
	// OwnersOf returns the distinct ids of the customers owning any of refs.
	OwnersOf(ctx context.Context, refs []customer.ExternalRef) ([]string, error)

	// Insert writes new customers, their references, events and audit records in one round
	// trip (its own transaction when ctx carries none). It can return customer.ErrReferenceTaken.
	Insert(ctx context.Context, cs []customer.Customer, events []outbox.Event, records []audit.Record) error
	// Update writes c's new version, attaches newRefs and writes the events and audit records in
	// one round trip. It can return customer.ErrReferenceTaken.
	Update(ctx context.Context, c customer.Customer, newRefs []customer.ExternalRef, events []outbox.Event, records []audit.Record) error

	// LockHierarchy serialises hierarchy changes until the transaction ends.
	LockHierarchy(ctx context.Context) error
	// Ancestors returns parentID and its ancestors, nearest first; customer.ErrParentNotFound
	// when parentID does not exist.
	Ancestors(ctx context.Context, parentID string) ([]string, error)
	// SubtreeHeight returns the number of levels of id's subtree (1 for a leaf).
	SubtreeHeight(ctx context.Context, id string) (int, error)
}
