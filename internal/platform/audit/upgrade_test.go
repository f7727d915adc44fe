package audit_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/pgtest"
)

// A database written before the chain existed: its rows join the chain in id order when the
// migration runs, and the chain verifies.
func TestExistingRowsJoinTheChainOnUpgrade(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	admin, err := pgx.Connect(ctx, pgtest.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	name := "t_up_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:16]
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u, _ := url.Parse(pgtest.AdminURL())
	u.Path = "/" + name
	pool, err := pg.Connect(ctx, u.String(), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	// The platform migrations as they were before the chain (up to 00005).
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	store, _ := database.NewStore(goose.DialectPostgres, "platform_goose_version")
	p, err := goose.NewProvider("", db, pg.PlatformMigrations(), goose.WithStore(store))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 5); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := pool.Exec(ctx, `INSERT INTO audit_log (actor, action, entity_type, entity_id, details)
			VALUES ('alice', 'contract.amended', 'contract', $1, '{"version": 2}')`, fmt.Sprintf("c-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := pg.Migrate(ctx, pool, nil); err != nil {
		t.Fatal(err)
	}
	if err := audit.Write(ctx, pool, audit.Record{Action: "contract.amended", EntityType: "contract", EntityID: "c-3"}); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(ctx, pool)
	if err != nil || !rep.OK() || rep.Rows != 4 || rep.HeadSeq != 4 {
		t.Fatalf("upgraded chain: %+v, %v; want 4 intact rows", rep, err)
	}
	var first int64
	if err := pool.QueryRow(ctx, `SELECT id FROM audit_log WHERE chain_seq = 1`).Scan(&first); err != nil || first != 1 {
		t.Fatalf("position 1 holds id %d (%v), want the oldest row", first, err)
	}
}
