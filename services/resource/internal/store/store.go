// Package store keeps the resource service's data in Postgres; only it knows SQL and pgx. It
// implements the use cases' store (app.Store), one file per aggregate: resources and their
// references, cost rates, assignments (with their costed plans), the project replica and posted
// time. It translates database errors into the domain's (resource.ErrNotFound,
// resource.ErrReferenceTaken...). Methods run in the transaction ctx carries, or on the pool. A
// Store is safe for concurrent use.
package store

import (
	"github.com/accrue/accrue/internal/platform/pgstore"
)

// Store is the resource service's store.
type Store struct{ pgstore.Base }

// New returns the store over base.
func New(base pgstore.Base) *Store { return &Store{Base: base} }

// lockFor returns " FOR UPDATE" when forUpdate.
func lockFor(forUpdate bool) string {
	if forUpdate {
		return ` FOR UPDATE`
	}
	return ""
}
