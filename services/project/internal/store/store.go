// Package store keeps the project service's data in Postgres; only it knows SQL and pgx. It
// persists its own row formats (never the public protobuf contract) and implements the use
// cases' store (see app.Store). Every method runs in the ambient transaction of ctx when there is
// one (pg.DB.Q), otherwise on the pool.
package store

import (
	"github.com/accrue/accrue/internal/platform/pgstore"
)

// Store is the project service's store: the platform's transactions, outbox, audit and
// exceptions (Base), and the service's aggregates, one file each: projects and tasks, templates,
// conversions, replicas (customers, legal entities, contracts), staffing plans and financials.
type Store struct{ pgstore.Base }

// New returns the store over base.
func New(base pgstore.Base) *Store { return &Store{Base: base} }

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
