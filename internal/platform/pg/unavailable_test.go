package pg_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/pgtest"
)

// terminate ends the server process behind tx from another connection, as a failover, a
// restart or an operator's pg_terminate_backend would.
func terminate(t *testing.T, ctx context.Context, db *pgtest.DB, tx pgx.Tx) {
	t.Helper()
	var pid int
	if err := tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	var ok bool
	if err := db.Pool.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, pid).Scan(&ok); err != nil || !ok {
		t.Fatalf("pg_terminate_backend(%d) = %v, %v", pid, ok, err)
	}
}

func TestInTxConnectionLostAtCommitIsUnavailable(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, itemsMigrations)
	err := pg.InTx(ctx, db.Pool, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO items VALUES (1, 'a')`); err != nil {
			return err
		}
		terminate(t, ctx, db, tx)
		return nil // the COMMIT meets a dead connection
	})
	fe, ok := fault.As(err)
	if !ok || fe.Kind != fault.Unavailable || fe.Reason != pg.ReasonDatabaseUnavailable {
		t.Fatalf("InTx with the connection lost at COMMIT = %v (%T), want Unavailable / DATABASE_UNAVAILABLE", err, err)
	}
	if items(t, db) != 0 {
		t.Fatalf("%d rows committed by a transaction whose COMMIT never reached the server", items(t, db))
	}
}

func TestInTxConnectionLostMidTransactionIsUnavailable(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, itemsMigrations)
	err := pg.InTx(ctx, db.Pool, func(ctx context.Context, tx pgx.Tx) error {
		terminate(t, ctx, db, tx)
		if _, err := tx.Exec(ctx, `INSERT INTO items VALUES (1, 'a')`); err != nil {
			return fmt.Errorf("store: insert item: %w", err)
		}
		return nil
	})
	if fe, ok := fault.As(err); !ok || fe.Kind != fault.Unavailable || fe.Reason != pg.ReasonDatabaseUnavailable {
		t.Fatalf("InTx with the connection lost mid-transaction = %v, want Unavailable / DATABASE_UNAVAILABLE", err)
	}
	// The pool recovers: the next transaction gets a fresh connection.
	if err := pg.InTx(ctx, db.Pool, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO items VALUES (2, 'b')`)
		return err
	}); err != nil || items(t, db) != 1 {
		t.Fatalf("next transaction: %v, %d rows", err, items(t, db))
	}
}

func TestStatementErrorsStayWhatTheyAre(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, itemsMigrations)
	err := pg.InTx(ctx, db.Pool, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO items VALUES (1, 'a'), (2, 'a')`)
		return err
	})
	if !pg.IsUniqueViolation(err) {
		t.Fatalf("unique violation = %v, want it unchanged", err)
	}
	if _, ok := fault.As(err); ok {
		t.Fatalf("a unique violation became a fault: %v", err)
	}
}

func TestIsConnectionFailure(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"crash shutdown", &pgconn.PgError{Code: "57P02"}, true},
		{"cannot connect now", &pgconn.PgError{Code: "57P03"}, true},
		{"connection exception", &pgconn.PgError{Code: "08006"}, true},
		{"unexpected EOF", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{"EOF", io.EOF, true},
		{"net op error", &net.OpError{Op: "read", Err: errors.New("connection reset by peer")}, true},
		{"conn closed", pgconn.ErrConnClosed, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"serialization failure", &pgconn.PgError{Code: "40001"}, false},
		{"cancelled by the caller", context.Canceled, false},
		{"caller's deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), false},
		{"no rows", pgx.ErrNoRows, false},
		{"nil", nil, false},
	}
	for _, c := range cases {
		if got := pg.IsConnectionFailure(c.err); got != c.want {
			t.Errorf("IsConnectionFailure(%s) = %v, want %v", c.name, got, c.want)
		}
	}
	already := fault.New(fault.Conflict, "IN_USE", "busy").Wrap(io.EOF)
	if got := pg.Unavailable(already); got != error(already) {
		t.Errorf("Unavailable changed a classified fault: %v", got)
	}
}
