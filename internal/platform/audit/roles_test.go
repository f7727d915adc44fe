package audit_test

import (
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/pgtest"
)

// The service's run-time role (pg.GrantApp) may append to the audit trail and read it, and
// nothing else: not rewrite it, not remove it, not switch its guards off.
func TestServiceRoleCanAppendButNotTamper(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, nil)
	app := db.AppPool(t)
	var user string
	if err := app.QueryRow(ctx, `SELECT current_user`).Scan(&user); err != nil || user != pgtest.AppRole {
		t.Fatalf("connected as %q (%v), want %s", user, err, pgtest.AppRole)
	}

	if err := audit.Write(ctx, app, audit.Record{Action: "period.closed", EntityType: "period", EntityID: "le-1/2026-03"}); err != nil {
		t.Fatalf("the service's role cannot write an audit record: %v", err)
	}
	// A forged chain position or hash is overwritten by the trigger.
	if _, err := app.Exec(ctx, `INSERT INTO audit_log (actor, action, entity_type, entity_id, chain_seq, prev_hash, hash)
		VALUES ('system', 'invoice.posted', 'invoice', 'inv-1', 99, '\x00', '\x00')`); err != nil {
		t.Fatalf("insert: %v", err)
	}
	for _, sql := range []string{
		`UPDATE audit_log SET actor = 'mallory'`,
		`DELETE FROM audit_log`,
		`TRUNCATE audit_log`,
		`DROP TRIGGER audit_log_no_update ON audit_log`,
		`DROP TRIGGER audit_log_chain ON audit_log`,
		`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update`,
		`ALTER TABLE audit_log DISABLE TRIGGER ALL`,
		`DROP TABLE audit_log`,
		`UPDATE audit_chain_head SET seq = 0`,
		`SELECT * FROM audit_chain_head`,
		`CREATE TABLE audit_log_copy (id bigint)`,
		`DELETE FROM platform_goose_version`,
	} {
		_, err := app.Exec(ctx, sql)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Errorf("%s as the service's role: error = %v, want permission denied (42501)", sql, err)
		}
	}
	rep, err := audit.Verify(ctx, db.Pool)
	if err != nil || !rep.OK() || rep.Rows != 2 {
		t.Fatalf("after the attempts: %+v, %v; want 2 intact rows", rep, err)
	}
	var seq int64
	if err := db.Pool.QueryRow(ctx, `SELECT chain_seq FROM audit_log WHERE entity_id = 'inv-1'`).Scan(&seq); err != nil || seq != 2 {
		t.Fatalf("forged row's position = %d (%v), want 2", seq, err)
	}
}
