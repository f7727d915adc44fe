// Package pg connects to Postgres with pgx v5, runs transactions and applies embedded goose
// migrations. Only store packages (and platform mechanisms) import it; domain code never does.
//
// Transactions: InTx runs a function in a transaction and retries it on serialization failures
// and deadlocks. When the context already carries a transaction (WithTx, used by the idempotency
// interceptor so that the effect and the stored response commit together) InTx joins it instead
// of opening a new one. A connection refused or lost at BEGIN, inside the transaction or at COMMIT
// becomes fault.Unavailable / DATABASE_UNAVAILABLE (see IsConnectionFailure).
package pg

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/telemetry"
)

// Querier is what both a pool and a transaction offer.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
}

// Options tune a pool. Zero values leave the server's settings.
type Options struct {
	// MaxConns caps the pool; pgx's default (4, or the CPU count when larger) when zero.
	MaxConns int32
	// StatementTimeout aborts any statement running longer (statement_timeout), so a runaway
	// query or a lock queue cannot hold a connection forever. A DSN's own setting wins.
	StatementTimeout time.Duration
	// LockTimeout aborts a statement waiting longer than this for a lock (lock_timeout). A
	// DSN's own setting wins.
	LockTimeout time.Duration
}

// Connect opens a pool on dsn and checks that the server answers.
func Connect(ctx context.Context, dsn string, maxConns int32) (*pgxpool.Pool, error) {
	return Open(ctx, dsn, Options{MaxConns: maxConns})
}

// Open opens a pool on dsn with o and checks that the server answers.
func Open(ctx context.Context, dsn string, o Options) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("pg: parse dsn: %w", err)
	}
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	}
	setParam(cfg.ConnConfig.RuntimeParams, "statement_timeout", o.StatementTimeout)
	setParam(cfg.ConnConfig.RuntimeParams, "lock_timeout", o.LockTimeout)
	if telemetry.Enabled() {
		cfg.ConnConfig.Tracer = telemetry.PGTracer{}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pg: connect: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pg: ping %s: %w", cfg.ConnConfig.Host, err)
	}
	return pool, nil
}

// setParam sets a millisecond setting sent at connection start, unless the DSN set it.
func setParam(params map[string]string, name string, d time.Duration) {
	if _, set := params[name]; set || d <= 0 {
		return
	}
	params[name] = strconv.FormatInt(max(d.Milliseconds(), 1), 10)
}

type txKey struct{}

// WithTx returns ctx carrying tx as the ambient transaction joined by InTx.
func WithTx(ctx context.Context, tx pgx.Tx) context.Context {
	return context.WithValue(ctx, txKey{}, tx)
}

// WithoutTx returns ctx without its ambient transaction, so that InTx starts (and commits) a
// transaction of its own: for a use case that commits its work in parts while its caller's
// transaction (an idempotency key's) stays open around it.
func WithoutTx(ctx context.Context) context.Context {
	if _, ok := TxFrom(ctx); !ok {
		return ctx
	}
	return context.WithValue(ctx, txKey{}, pgx.Tx(nil))
}

// TxFrom returns the ambient transaction of ctx, if any.
func TxFrom(ctx context.Context) (pgx.Tx, bool) {
	tx, ok := ctx.Value(txKey{}).(pgx.Tx)
	return tx, ok
}

// InTx runs fn in a transaction on pool and commits when fn returns nil. It joins the ambient
// transaction of ctx when there is one (the owner of that transaction commits). A fresh
// transaction is retried up to 3 times on serialization failures and deadlocks; fn must therefore
// have no side effects outside the transaction.
func InTx(ctx context.Context, pool *pgxpool.Pool, fn func(ctx context.Context, tx pgx.Tx) error) error {
	if tx, ok := TxFrom(ctx); ok {
		return fn(ctx, tx)
	}
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		err = inNewTx(ctx, pool, fn)
		if !IsRetryable(err) {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	return err
}

func inNewTx(ctx context.Context, pool *pgxpool.Pool, fn func(ctx context.Context, tx pgx.Tx) error) (err error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fault.New(fault.Unavailable, ReasonDatabaseUnavailable, "the database is unavailable").Wrap(err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	// A connection lost in fn or at COMMIT is the database's failure, not the caller's: it
	// becomes UNAVAILABLE / DATABASE_UNAVAILABLE (see Unavailable), never a masked INTERNAL.
	if err = fn(WithTx(ctx, tx), tx); err != nil {
		return Unavailable(err)
	}
	return Unavailable(tx.Commit(ctx))
}

// Postgres error codes the platform reacts to.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeQueryCanceled        = "57014" // statement_timeout (or a cancel request)
	codeLockNotAvailable     = "55P03" // lock_timeout
)

// IsRetryable reports whether err is a serialization failure or a deadlock.
func IsRetryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == codeSerializationFailure || pgErr.Code == codeDeadlockDetected)
}

// IsUniqueViolation reports whether err violates a unique constraint, optionally a named one.
func IsUniqueViolation(err error, constraint ...string) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != codeUniqueViolation {
		return false
	}
	if len(constraint) == 0 {
		return true
	}
	for _, c := range constraint {
		if pgErr.ConstraintName == c {
			return true
		}
	}
	return false
}

// NotFound translates pgx.ErrNoRows into nf and passes other errors through, so that only
// store code knows about pgx.
func NotFound(err error, nf error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return nf
	}
	return err
}

// IsTimeout reports whether err is a statement that statement_timeout or lock_timeout aborted.
func IsTimeout(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == codeQueryCanceled || pgErr.Code == codeLockNotAvailable)
}
