package pg_test

import (
	"context"
	"errors"
	"testing"

	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/pgtest"
)

// insertItem is a store method written the pg.DB way: ctx only, the querier from Q.
func insertItem(ctx context.Context, db pg.DB, id int, name string) error {
	_, err := db.Q(ctx).Exec(ctx, `INSERT INTO items VALUES ($1, $2)`, id, name)
	return err
}

func countItems(ctx context.Context, t *testing.T, q pg.Querier) int {
	t.Helper()
	var n int
	if err := q.QueryRow(ctx, `SELECT count(*) FROM items`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDBQueriesThePoolOutsideATransaction(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pg.NewDB(pgtest.New(t, itemsMigrations).Pool)
	if q := db.Q(ctx); q != pg.Querier(db.Pool) {
		t.Fatalf("Q outside a transaction = %T, want the pool", q)
	}
	if err := insertItem(ctx, db, 1, "a"); err != nil {
		t.Fatal(err)
	}
	if n := countItems(ctx, t, db.Pool); n != 1 {
		t.Fatalf("rows = %d after an insert on the pool, want 1 (autocommitted)", n)
	}
}

func TestDBInTxCarriesTheTransactionInCtx(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pg.NewDB(pgtest.New(t, itemsMigrations).Pool)
	errStop := errors.New("stop")

	// Store calls made with InTx's ctx share one transaction: a failure undoes them all, the
	// nested InTx included (it joins instead of committing on its own).
	err := db.InTx(ctx, func(ctx context.Context) error {
		if q := db.Q(ctx); q == pg.Querier(db.Pool) {
			t.Error("Q inside InTx returned the pool")
		}
		if err := insertItem(ctx, db, 1, "a"); err != nil {
			return err
		}
		if err := db.InTx(ctx, func(ctx context.Context) error { return insertItem(ctx, db, 2, "b") }); err != nil {
			return err
		}
		if n := countItems(ctx, t, db.Q(ctx)); n != 2 {
			t.Errorf("inside the transaction: %d rows, want 2", n)
		}
		if n := countItems(ctx, t, db.Pool); n != 0 {
			t.Errorf("outside the transaction before commit: %d rows, want 0", n)
		}
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("InTx = %v, want the function's error", err)
	}
	if n := countItems(ctx, t, db.Pool); n != 0 {
		t.Fatalf("rows after rollback = %d, want 0", n)
	}

	if err := db.InTx(ctx, func(ctx context.Context) error {
		if err := insertItem(ctx, db, 1, "a"); err != nil {
			return err
		}
		return insertItem(ctx, db, 2, "b")
	}); err != nil {
		t.Fatal(err)
	}
	if n := countItems(ctx, t, db.Pool); n != 2 {
		t.Fatalf("rows after commit = %d, want 2", n)
	}
}

func TestNewDBRefusesANilPool(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Fatal("NewDB(nil) did not panic")
		}
	}()
	pg.NewDB(nil)
}
