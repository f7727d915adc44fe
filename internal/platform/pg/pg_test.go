package pg_test

import (
	"context"
	"errors"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/pgtest"
)

var itemsMigrations = fstest.MapFS{
	"00001_items.sql": {Data: []byte(`-- +goose Up
CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL CONSTRAINT items_name_key UNIQUE);
-- +goose Down
DROP TABLE items;
`)},
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func items(t *testing.T, db *pgtest.DB) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM items`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestInTxCommitsOrRollsBack(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, itemsMigrations)
	errStop := errors.New("stop")
	err := pg.InTx(ctx, db.Pool, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO items VALUES (1, 'a')`); err != nil {
			return err
		}
		return errStop
	})
	if !errors.Is(err, errStop) || items(t, db) != 0 {
		t.Fatalf("failed fn: err %v, %d rows; want the error and no rows", err, items(t, db))
	}
	if err := pg.InTx(ctx, db.Pool, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO items VALUES (1, 'a')`)
		return err
	}); err != nil || items(t, db) != 1 {
		t.Fatalf("committed fn: %v, %d rows", err, items(t, db))
	}
}

func TestInTxJoinsTheAmbientTransaction(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, itemsMigrations)
	errOuter := errors.New("outer fails")
	err := pg.InTx(ctx, db.Pool, func(ctx context.Context, outer pgx.Tx) error {
		// A use case called inside another's transaction (the idempotency interceptor's).
		if err := pg.InTx(ctx, db.Pool, func(ctx context.Context, inner pgx.Tx) error {
			if inner != outer {
				t.Error("inner InTx opened a new transaction")
			}
			_, err := inner.Exec(ctx, `INSERT INTO items VALUES (1, 'a')`)
			return err
		}); err != nil {
			return err
		}
		return errOuter
	})
	if !errors.Is(err, errOuter) {
		t.Fatal(err)
	}
	if n := items(t, db); n != 0 {
		t.Fatalf("the inner write committed on its own (%d rows)", n)
	}
}

// WithoutTx leaves the ambient transaction: an InTx under it commits on its own (its row is
// there though the outer transaction rolls back), and TxFrom finds no transaction.
func TestWithoutTxCommitsApartFromTheAmbientTransaction(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, itemsMigrations)
	errOuter := errors.New("outer fails")
	err := pg.InTx(ctx, db.Pool, func(ctx context.Context, outer pgx.Tx) error {
		detached := pg.WithoutTx(ctx)
		if _, ok := pg.TxFrom(detached); ok {
			t.Error("WithoutTx kept the transaction")
		}
		if err := pg.InTx(detached, db.Pool, func(ctx context.Context, inner pgx.Tx) error {
			if inner == outer {
				t.Error("InTx under WithoutTx joined the outer transaction")
			}
			_, err := inner.Exec(ctx, `INSERT INTO items VALUES (1, 'a')`)
			return err
		}); err != nil {
			return err
		}
		return errOuter
	})
	if !errors.Is(err, errOuter) {
		t.Fatal(err)
	}
	if n := items(t, db); n != 1 {
		t.Fatalf("%d rows, want the detached write's 1", n)
	}
}

func TestInTxRetriesSerializationFailures(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, itemsMigrations)
	attempts := 0
	err := pg.InTx(ctx, db.Pool, func(ctx context.Context, tx pgx.Tx) error {
		attempts++
		if _, err := tx.Exec(ctx, `INSERT INTO items VALUES (1, 'a')`); err != nil {
			return err
		}
		if attempts < 3 {
			code := []string{"40001", "40P01"}[attempts-1]
			_, err := tx.Exec(ctx, `DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '`+code+`'; END $$`)
			return err
		}
		return nil
	})
	if err != nil || attempts != 3 || items(t, db) != 1 {
		t.Fatalf("err %v after %d attempts with %d rows; want success on the 3rd with 1 row", err, attempts, items(t, db))
	}

	attempts = 0
	err = pg.InTx(ctx, db.Pool, func(ctx context.Context, tx pgx.Tx) error {
		attempts++
		_, err := tx.Exec(ctx, `DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$`)
		return err
	})
	if !pg.IsRetryable(err) || attempts != 4 {
		t.Fatalf("persistent conflict: %v after %d attempts, want the error after 4", err, attempts)
	}

	attempts = 0
	err = pg.InTx(ctx, db.Pool, func(ctx context.Context, tx pgx.Tx) error {
		attempts++
		_, err := tx.Exec(ctx, `INSERT INTO items VALUES (1, 'a')`)
		return err
	})
	if attempts != 1 || !pg.IsUniqueViolation(err) || pg.IsRetryable(err) {
		t.Fatalf("unique violation: %v after %d attempts; want no retry", err, attempts)
	}
}

func TestErrorTranslation(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, itemsMigrations)
	if _, err := db.Pool.Exec(ctx, `INSERT INTO items VALUES (1, 'a')`); err != nil {
		t.Fatal(err)
	}
	_, err := db.Pool.Exec(ctx, `INSERT INTO items VALUES (2, 'a')`)
	if !pg.IsUniqueViolation(err) || !pg.IsUniqueViolation(err, "other", "items_name_key") || pg.IsUniqueViolation(err, "items_pkey") {
		t.Fatalf("IsUniqueViolation misjudges %v", err)
	}
	if pg.IsUniqueViolation(errors.New("duplicate")) {
		t.Fatal("a plain error counted as a unique violation")
	}

	errMissing := fault.New(fault.NotFound, "ITEM_NOT_FOUND", "no such item")
	var name string
	err = db.Pool.QueryRow(ctx, `SELECT name FROM items WHERE id = 42`).Scan(&name)
	if got := pg.NotFound(err, errMissing); !errors.Is(got, errMissing) {
		t.Fatalf("NotFound(ErrNoRows) = %v", got)
	}
	other := errors.New("connection reset")
	if got := pg.NotFound(other, errMissing); got != other {
		t.Fatalf("NotFound(other) = %v", got)
	}
}

func TestMigrateIsRepeatable(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, itemsMigrations)
	// Already migrated by pgtest (from the template): running again changes nothing.
	if err := pg.Migrate(ctx, db.Pool, itemsMigrations); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	var platform, service int
	if err := db.Pool.QueryRow(ctx, `SELECT (SELECT max(version_id) FROM platform_goose_version), (SELECT max(version_id) FROM goose_db_version)`).Scan(&platform, &service); err != nil {
		t.Fatal(err)
	}
	if platform != 10 || service != 1 {
		t.Fatalf("versions = platform %d, service %d; want 10 and 1", platform, service)
	}
	for _, table := range []string{"outbox", "outbox_streams", "stream_inbox", "idempotency_keys", "exceptions", "audit_log", "audit_chain_head", "kpi_history", "items"} {
		var exists bool
		if err := db.Pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&exists); err != nil || !exists {
			t.Errorf("table %s missing", table)
		}
	}
	broken := fstest.MapFS{"00002_broken.sql": {Data: []byte("-- +goose Up\nCREATE TABLE items (x int);\n")}}
	if err := pg.Migrate(ctx, db.Pool, broken); err == nil {
		t.Fatal("a failing migration reported success")
	}
}
