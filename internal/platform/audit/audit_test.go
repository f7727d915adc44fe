package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/pgtest"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func rows(t *testing.T, db *pgtest.DB) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestWriteStampsActorAndCorrelation(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, nil)
	actx := correlation.With(auth.WithPrincipal(ctx, auth.Principal{Subject: "alice-finance", ClientID: "ops-ui"}), "corr-close-2026-03")

	err := pg.InTx(actx, db.Pool, func(ctx context.Context, tx pgx.Tx) error {
		return audit.Write(ctx, tx, audit.Record{Action: "period.closed", EntityType: "accounting_period", EntityID: "2026-03",
			Reason: "month end", Details: map[string]any{"legal_entity": "le-1", "version": 3}})
	})
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	// No principal: the system acted (a consumer, a scheduler).
	if err := audit.Write(ctx, db.Pool, audit.Record{Action: "posting.recorded", EntityType: "posting", EntityID: "p-1"}); err != nil {
		t.Fatal(err)
	}

	type row struct{ actor, action, etype, eid, reason, corr, details string }
	got, err := pgx.CollectRows(must(db.Pool.Query(ctx, `SELECT actor, action, entity_type, entity_id, reason, correlation_id, details::text
		FROM audit_log ORDER BY id`)), func(r pgx.CollectableRow) (row, error) {
		var x row
		return x, r.Scan(&x.actor, &x.action, &x.etype, &x.eid, &x.reason, &x.corr, &x.details)
	})
	if err != nil || len(got) != 2 {
		t.Fatalf("audit rows = %v, %v", got, err)
	}
	if r := got[0]; r.actor != "alice-finance" || r.action != "period.closed" || r.etype != "accounting_period" ||
		r.eid != "2026-03" || r.reason != "month end" || r.corr != "corr-close-2026-03" {
		t.Errorf("first record = %+v", r)
	}
	var details map[string]any
	if err := json.Unmarshal([]byte(got[0].details), &details); err != nil || details["legal_entity"] != "le-1" || details["version"] != float64(3) {
		t.Errorf("details = %s (%v)", got[0].details, err)
	}
	if r := got[1]; r.actor != "system" || r.corr != "" || r.details != "{}" {
		t.Errorf("system record = %+v", r)
	}
}

func TestWriteIsPartOfTheTransaction(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, nil)
	errAbort := errors.New("change refused")
	err := pg.InTx(ctx, db.Pool, func(ctx context.Context, tx pgx.Tx) error {
		if err := audit.Write(ctx, tx, audit.Record{Action: "invoice.posted", EntityType: "invoice", EntityID: "inv-1"}); err != nil {
			return err
		}
		return errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatal(err)
	}
	if n := rows(t, db); n != 0 {
		t.Fatalf("%d audit records for a change that was rolled back", n)
	}
	if err := audit.Write(ctx, db.Pool, audit.Record{Action: "x", Details: map[string]any{"bad": func() {}}}); err == nil {
		t.Fatal("Write accepted details that cannot be encoded")
	}
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, nil)
	if err := audit.Write(ctx, db.Pool, audit.Record{Action: "rate.changed", EntityType: "resource", EntityID: "r-1"}); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		`UPDATE audit_log SET actor = 'mallory'`,
		`DELETE FROM audit_log`,
		`TRUNCATE audit_log`,
	} {
		_, err := db.Pool.Exec(ctx, sql)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Errorf("%s: error = %v, want insufficient_privilege (42501)", sql, err)
		}
	}
	var actor string
	if err := db.Pool.QueryRow(ctx, `SELECT actor FROM audit_log`).Scan(&actor); err != nil || actor != "system" {
		t.Fatalf("audit record after tampering attempts: actor %q, %v", actor, err)
	}
	if n := rows(t, db); n != 1 {
		t.Fatalf("%d audit records, want 1", n)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
