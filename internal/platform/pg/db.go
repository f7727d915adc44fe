package pg

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DB is what a service's store holds: the pool, and through it the transaction a call runs in.
// A use case opens a transaction with InTx and calls store methods with the context InTx hands
// it; a stream consumer opens one per batch the same way. Store methods ask Q for the querier,
// so the same method works inside and outside a transaction and only the store knows pgx.
// A DB is safe for concurrent use.
type DB struct{ Pool *pgxpool.Pool }

// NewDB returns a DB over pool; it panics on a nil pool (a wiring mistake).
func NewDB(pool *pgxpool.Pool) DB {
	if pool == nil {
		panic("pg: NewDB needs a pool")
	}
	return DB{Pool: pool}
}

// Q returns the ambient transaction of ctx, or the pool when there is none.
func (d DB) Q(ctx context.Context) Querier {
	if tx, ok := TxFrom(ctx); ok {
		return tx
	}
	return d.Pool
}

// InTx runs fn in a transaction (joining the ambient one of ctx, see InTx) and passes fn a context
// that carries it.
func (d DB) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return InTx(ctx, d.Pool, func(ctx context.Context, _ pgx.Tx) error { return fn(ctx) })
}
