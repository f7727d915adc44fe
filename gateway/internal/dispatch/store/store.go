// Package store keeps the dispatcher's subscriptions, events, deliveries and attempts in
// Postgres (database accrue_dispatcher). It is the only package of the dispatcher that knows SQL
// and pgx; it implements app.Store and turns pgx.ErrNoRows into the domain's not-found errors.
// Methods run in the transaction ctx carries, or on the pool. A Store is safe for concurrent use.
package store

import (
	"github.com/accrue/accrue/internal/platform/pgstore"
)

// Store is the dispatcher's store.
type Store struct{ pgstore.Base }

// New returns the store over base.
func New(base pgstore.Base) *Store { return &Store{Base: base} }
