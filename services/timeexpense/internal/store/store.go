// Package store keeps the time & expense service's data in Postgres; only it knows SQL and pgx.
// One file per aggregate: entries, timesheets, imports (bulk writes), the replicas of projects,
// legal entities and periods, and the ledger's posting answers.
//
// Every method runs in the ambient transaction of ctx when there is one (InTx, or a stream
// consumer's batch), otherwise on the pool. The bulk methods (EntriesByRef, Replica,
// DailyHours, CopyEntries) serve imports with one statement or round trip each, whatever the
// batch size. A Store is safe for concurrent use.
package store

import (
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/pgstore"
)

// The service's advisory locks (transaction-scoped).
var (
	// resourceLock serialises the writers of a resource's daily totals (keyed by resource id).
	resourceLock = pg.NewLock("timeexpense.resource_day")
	// importLock makes imports from one source system take turns (keyed by system).
	importLock = pg.NewLock("timeexpense.import_system")
)

// Store is the service's store.
type Store struct{ pgstore.Base }

// New returns the store over pool, publishing as ob.Producer.
func New(pool *pgxpool.Pool, ob outbox.Writer, queue *exceptions.Queue) *Store {
	return &Store{Base: pgstore.New(pool, ob, queue)}
}

// nullable stores "" as NULL.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
