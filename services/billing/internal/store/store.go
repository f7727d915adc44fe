// Package store keeps the billing service's data in Postgres; only it knows SQL and pgx. Store
// implements the app's store interfaces; every method runs in the ambient transaction of ctx
// (app.Store.InTx, or a stream consumer's batch) or on the pool.
//
// One file per aggregate: legal entities and periods, the chart of accounts and balances, journal
// entries, contracts and rate cards (with their row format), postings (results, candidates,
// parked sources, the book a batch reads), the replicas of other services' data, exchange rates
// and KPIs. A new area of billing (invoices, tax, payments...) adds its own files. Rows are this
// package's own format, never the public proto. A Store is safe for concurrent use.
package store

import (
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pgstore"
)

// Store is billing's database.
type Store struct{ pgstore.Base }

// New returns the store over pool, publishing as ob.Producer and recording exceptions in queue.
func New(pool *pgxpool.Pool, ob outbox.Writer, queue *exceptions.Queue) *Store {
	return &Store{Base: pgstore.New(pool, ob, queue)}
}

// decodeRows reads rows of one bytea column (a row kept in this package's format) and decodes
// each.
func decodeRows[T any](rows pgx.Rows, decode func([]byte) (T, error)) ([]T, error) {
	raw, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(raw))
	for _, b := range raw {
		v, err := decode(b)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// idSet collects the distinct non-empty ids a batch read needs.
type idSet map[string]struct{}

func (s idSet) add(id string) {
	if id != "" {
		s[id] = struct{}{}
	}
}

func (s idSet) list() []string {
	out := make([]string, 0, len(s))
	for id := range s {
		out = append(out, id)
	}
	return out
}

// nullDate is a nullable date column: nil for the zero date (open-ended).
func nullDate(d civil.Date) any {
	if d.IsZero() {
		return nil
	}
	return d.Time()
}

// dateOrZero reads a nullable date column back (nil: the zero date).
func dateOrZero(t *time.Time) civil.Date {
	if t == nil {
		return civil.Date{}
	}
	return civil.Of(*t)
}

func nullUUID(s string) any {
	if s == "" {
		return nil
	}
	return s
}
