package pg_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/pgtest"
)

func TestBatchIsOneImplicitTransaction(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, itemsMigrations)
	pool := db.Pool
	count := func() int { return items(t, db) }
	errRollback := errors.New("roll back")

	var ok pg.Batch
	ok.Queue(`INSERT INTO items VALUES (1, 'a')`)
	ok.Queue(`INSERT INTO items VALUES (2, 'b')`)
	if ok.Len() != 2 {
		t.Fatalf("len = %d, want 2", ok.Len())
	}
	if err := ok.Run(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Fatalf("after a good batch: %d rows, want 2", n)
	}

	// The third statement collides with row 1: the rows before it are rolled back and the one
	// after it never runs.
	var bad pg.Batch
	bad.Queue(`INSERT INTO items VALUES (3, 'c')`)
	bad.Queue(`INSERT INTO items VALUES (4, 'd')`)
	bad.Queue(`INSERT INTO items VALUES (1, 'z')`)
	bad.Queue(`INSERT INTO items VALUES (5, 'e')`)
	err := bad.Run(ctx, pool)
	if !pg.IsUniqueViolation(err, "items_pkey") {
		t.Fatalf("err = %v, want a unique violation on items_pkey", err)
	}
	if n := count(); n != 2 {
		t.Fatalf("after a failed batch: %d rows, want 2 (nothing of it kept)", n)
	}

	// Through a transaction the batch joins it: a rollback undoes it.
	err = pg.InTx(ctx, pool, func(ctx context.Context, tx pgx.Tx) error {
		var in pg.Batch
		in.Queue(`INSERT INTO items VALUES (6, 'f')`)
		if err := in.Run(ctx, tx); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("err = %v", err)
	}
	if n := count(); n != 2 {
		t.Fatalf("after a rolled back transaction: %d rows, want 2", n)
	}

	var empty pg.Batch
	if err := empty.Run(ctx, pool); err != nil {
		t.Fatalf("empty batch: %v", err)
	}
}
