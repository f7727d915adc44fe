// Package pgstore is the part every service's store shares: transactions, and the platform
// tables written in the same transaction as the state they describe (outbox events, audit
// records, business exceptions). A service store embeds Base and adds its own aggregates'
// queries; its use cases see only the methods their store interface names, never pgx.
//
// Every method runs in the ambient transaction of ctx when there is one (InTx, or a stream
// consumer's batch), otherwise on the pool. Base is safe for concurrent use.
package pgstore

import (
	"context"
	"embed"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pg"
)

// Base is embedded by service stores; it implements txn.Store.
type Base struct {
	pg.DB
	Outbox outbox.Writer
	Queue  *exceptions.Queue
}

// New returns a Base over pool publishing as ob.Producer and recording exceptions in queue.
func New(pool *pgxpool.Pool, ob outbox.Writer, queue *exceptions.Queue) Base {
	if ob.Producer == "" || queue == nil {
		panic("pgstore: New needs an outbox writer with a producer and an exception queue")
	}
	return Base{DB: pg.NewDB(pool), Outbox: ob, Queue: queue}
}

// InTransaction reports whether ctx carries a transaction.
func (b Base) InTransaction(ctx context.Context) bool {
	_, ok := pg.TxFrom(ctx)
	return ok
}

// Publish writes events to the outbox (see outbox.Writer.Enqueue).
func (b Base) Publish(ctx context.Context, events ...outbox.Event) error {
	_, err := b.Outbox.Enqueue(ctx, b.Q(ctx), events...)
	return err
}

// Audit writes audit records (see audit.WriteAll).
func (b Base) Audit(ctx context.Context, records ...audit.Record) error {
	return audit.WriteAll(ctx, b.Q(ctx), records...)
}

// RecordException records a business exception, or bumps the open one with its dedupe key.
func (b Base) RecordException(ctx context.Context, n exceptions.New) (string, error) {
	return b.Queue.Record(ctx, b.Q(ctx), n)
}

// ResolveException resolves the open exception with dedupeKey, if any, and reports whether one
// was.
func (b Base) ResolveException(ctx context.Context, dedupeKey, by, note string) (bool, error) {
	return b.Queue.ResolveByKey(ctx, b.Q(ctx), dedupeKey, by, note)
}

// Migrations returns the migrations/ folder of a store's embedded files
// (//go:embed migrations/*.sql), the form pg.Migrate and service.Start take.
func Migrations(files embed.FS) fs.FS {
	sub, err := fs.Sub(files, "migrations")
	if err != nil {
		panic(err) // a constant path: a wiring mistake
	}
	return sub
}
