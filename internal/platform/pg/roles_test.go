package pg_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/pgtest"
)

func code(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// The service's role reads and writes the rows of a service table, and of a table a later
// migration creates, but cannot change the schema.
func TestGrantAppAllowsRowsNotSchema(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, itemsMigrations)
	app := db.AppPool(t)
	for _, sql := range []string{
		`INSERT INTO items VALUES (1, 'a'), (2, 'b')`,
		`UPDATE items SET name = 'c' WHERE id = 1`,
		`DELETE FROM items WHERE id = 2`,
		`INSERT INTO outbox (event_id, stream, event_type, subject, envelope) VALUES (gen_random_uuid(), 's', 't', 'x', '')`,
		`DELETE FROM stream_inbox`,
	} {
		if _, err := app.Exec(ctx, sql); err != nil {
			t.Errorf("%s as the service's role: %v", sql, err)
		}
	}
	if n := items(t, db); n != 1 {
		t.Fatalf("items = %d, want 1", n)
	}
	for _, sql := range []string{
		`TRUNCATE items`,
		`ALTER TABLE items ADD COLUMN x int`,
		`DROP TABLE items`,
		`CREATE INDEX items_x ON items (name)`,
		`INSERT INTO goose_db_version (version_id, is_applied) VALUES (99, true)`,
	} {
		if _, err := app.Exec(ctx, sql); code(err) != "42501" {
			t.Errorf("%s as the service's role: error = %v, want permission denied", sql, err)
		}
	}

	// A table the owner creates later (a migration run by other means) is usable at once.
	if _, err := db.Pool.Exec(ctx, `CREATE TABLE later (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text)`); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Exec(ctx, `INSERT INTO later (v) VALUES ('x')`); err != nil {
		t.Fatalf("insert into a table created after the grants: %v", err)
	}
	// Running the grants again is harmless.
	if err := pg.GrantApp(ctx, db.Pool, pgtest.AppRole); err != nil {
		t.Fatal(err)
	}
}

func TestGrantAppRefusesAMissingRoleAndTheOwner(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, nil)
	if err := pg.GrantApp(ctx, db.Pool, "accrue_no_such_role"); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing role: %v", err)
	}
	owner, err := pg.RoleOf(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := pg.GrantApp(ctx, db.Pool, owner); err == nil || !strings.Contains(err.Error(), "must not be the owner") {
		t.Errorf("owner as the service's role: %v", err)
	}
	if app, err := pg.RoleOf(db.AppURL); err != nil || app != pgtest.AppRole {
		t.Errorf("RoleOf(app DSN) = %q, %v", app, err)
	}
}

func TestOpenSetsStatementAndLockTimeouts(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, itemsMigrations)
	pool, err := pg.Open(ctx, db.URL, pg.Options{MaxConns: 2, StatementTimeout: 200 * time.Millisecond, LockTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	start := time.Now()
	_, err = pool.Exec(ctx, `SELECT pg_sleep(5)`)
	if code(err) != "57014" || !pg.IsTimeout(err) || time.Since(start) > 3*time.Second {
		t.Fatalf("a 5 s statement: %v after %s, want query_canceled after 200 ms", err, time.Since(start))
	}

	// A row locked elsewhere: the wait ends at the lock timeout.
	if _, err := db.Pool.Exec(ctx, `INSERT INTO items VALUES (1, 'a')`); err != nil {
		t.Fatal(err)
	}
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck
	if _, err := tx.Exec(ctx, `UPDATE items SET name = 'b' WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE items SET name = 'c' WHERE id = 1`); code(err) != "55P03" || !pg.IsTimeout(err) {
		t.Fatalf("waiting on a locked row: %v, want lock_not_available", err)
	}

	// A DSN's own setting wins; zero options leave the server's.
	own, err := pg.Open(ctx, db.URL+"&statement_timeout=7000", pg.Options{StatementTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	plain, err := pg.Connect(ctx, db.URL, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	for _, c := range []struct {
		q    pg.Querier
		want string
	}{{own, "7s"}, {plain, "0"}, {pool, "200ms"}} {
		var got string
		if err := c.q.QueryRow(ctx, `SHOW statement_timeout`).Scan(&got); err != nil || got != c.want {
			t.Errorf("statement_timeout = %q (%v), want %s", got, err, c.want)
		}
	}
}
