package pg

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Batch collects writes and sends them to Postgres in one round trip.
//
// Sent through a transaction, the writes join it. Sent through a pool, they run as one implicit
// transaction: the server commits them together at
// the end of the batch, or, when one fails, runs none of the rest and rolls back the ones before
// it. A use case can therefore decide with plain reads and then write everything in a single
// round trip (commit included), as long as a constraint written by the batch settles races with
// concurrent writers: the loser's batch fails on that constraint as a whole, and it goes back to
// its reads (see IsUniqueViolation).
type Batch struct{ b pgx.Batch }

// Queue adds a statement whose result the caller does not need.
func (b *Batch) Queue(sql string, args ...any) { b.b.Queue(sql, args...) }

// Len is the number of statements queued.
func (b *Batch) Len() int { return b.b.Len() }

// Run sends the batch through q and returns the first error. An empty batch sends nothing. A
// caller that runs it on a pool must first check that ctx carries no ambient transaction
// (TxFrom), whose writes would otherwise commit apart from the batch's.
func (b *Batch) Run(ctx context.Context, q Querier) error {
	if b.b.Len() == 0 {
		return nil
	}
	return q.SendBatch(ctx, &b.b).Close()
}
