// Package store keeps customers in Postgres. It is the only package of the customer service that
// knows SQL and pgx: it implements the use cases' store (app.Store) and translates database
// errors into the domain's (pgx.ErrNoRows into customer.ErrNotFound, a unique violation on an
// external reference into customer.ErrReferenceTaken). Methods run in the transaction ctx
// carries, or on the pool. A Store is safe for concurrent use.
package store

import (
	"fmt"

	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/pgstore"
	"github.com/accrue/accrue/services/customer/internal/customer"
)

// Store is the customer service's store.
type Store struct{ pgstore.Base }

// New returns the store over base.
func New(base pgstore.Base) *Store { return &Store{Base: base} }

// refsConstraint is the unique constraint on external references.
const refsConstraint = "customer_external_refs_pkey"

// refRace translates a unique violation on an external reference into
// customer.ErrReferenceTaken.
func refRace(err error) error {
	if pg.IsUniqueViolation(err, refsConstraint) {
		return fmt.Errorf("%w: %w", customer.ErrReferenceTaken, err)
	}
	return err
}
