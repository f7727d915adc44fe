package service_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/accrue/accrue/internal/platform/config"
	"github.com/accrue/accrue/internal/platform/pgtest"
	"github.com/accrue/accrue/internal/platform/service"
)

func TestLoadConfigLimits(t *testing.T) {
	t.Parallel()
	r := config.FromMap(withLinks(map[string]string{"ACCRUE_JWKS_FILE": "/etc/accrue/jwks.json"}))
	c := service.LoadConfig(r, "billing", defaults)
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if c.DBStatementTimeout != 30*time.Second || c.DBLockTimeout != 10*time.Second || c.GRPCMaxConcurrentStreams != 1000 ||
		c.GRPCKeepaliveMinTime != 10*time.Second || c.InboxRetention != 7*24*time.Hour || c.DeadLetterMaxLen != 10000 ||
		c.MigrateDatabaseURL != "" {
		t.Fatalf("limits = %+v", c)
	}

	r = config.FromMap(map[string]string{"ACCRUE_JWKS_FILE": "/j", "ACCRUE_INBOX_RETENTION": "24h",
		"ACCRUE_GRPC_MAX_CONCURRENT_STREAMS": "0", "ACCRUE_DEAD_LETTER_MAX_LEN": "0", "ACCRUE_DB_LOCK_TIMEOUT": "-1s"})
	service.LoadConfig(r, "billing", defaults)
	err := r.Err()
	for _, want := range []string{"ACCRUE_INBOX_RETENTION", "ACCRUE_GRPC_MAX_CONCURRENT_STREAMS", "ACCRUE_DEAD_LETTER_MAX_LEN", "ACCRUE_DB_LOCK_TIMEOUT"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s: %v", want, err)
		}
	}
}

func TestAppRoleIsTheRuntimeUserWhenTheOwnerMigrates(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ db, migrate, want string }{
		{"postgres://accrue_billing_app@h/accrue_billing", "postgres://accrue_billing_owner@h/accrue_billing", "accrue_billing_app"},
		{"postgres://postgres@h/accrue_billing", "", ""},
		{"postgres://postgres@h/accrue_billing", "postgres://postgres@h/accrue_billing", ""},
	} {
		got, err := service.Config{DatabaseURL: c.db, Limits: service.Limits{MigrateDatabaseURL: c.migrate}}.AppRole()
		if err != nil || got != c.want {
			t.Errorf("AppRole(%s, %s) = %q, %v; want %q", c.db, c.migrate, got, err, c.want)
		}
	}
}

// The owner migrates and grants; the run-time role alone may start on an up-to-date database
// but is refused a pending migration, with a message that says what to do.
func TestMigrateAsOwnerGrantsTheRuntimeRole(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := pgtest.New(t, nil)

	if err := service.MigrateOnly(ctx, service.Config{Name: "billing", DatabaseURL: db.AppURL}, nil); err != nil {
		t.Fatalf("the run-time role on an up-to-date database: %v", err)
	}
	next := fstest.MapFS{"00001_ledger.sql": {Data: []byte("-- +goose Up\nCREATE TABLE ledger (id bigint PRIMARY KEY);\n")}}
	err := service.MigrateOnly(ctx, service.Config{Name: "billing", DatabaseURL: db.AppURL}, next)
	if err == nil || !strings.Contains(err.Error(), "ACCRUE_MIGRATE_DATABASE_URL") {
		t.Fatalf("the run-time role applying a migration: %v, want a refusal naming ACCRUE_MIGRATE_DATABASE_URL", err)
	}
	cfg := service.Config{Name: "billing", DatabaseURL: db.AppURL, Limits: service.Limits{MigrateDatabaseURL: db.URL}}
	if err := service.MigrateOnly(ctx, cfg, next); err != nil {
		t.Fatalf("the owner: %v", err)
	}
	var owner string
	if err := db.Pool.QueryRow(ctx, `SELECT tableowner FROM pg_tables WHERE tablename = 'ledger'`).Scan(&owner); err != nil || owner == pgtest.AppRole {
		t.Fatalf("ledger owned by %q (%v), want the migrating role", owner, err)
	}
	if _, err := db.AppPool(t).Exec(ctx, `INSERT INTO ledger VALUES (1)`); err != nil {
		t.Fatalf("the run-time role on the new table: %v", err)
	}
}

// On a new database, the owner's migration run leaves the run-time role able to work and unable
// to rewrite the audit trail.
func TestMigrateGrantsANewDatabase(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, pgtest.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	name := "t_svc_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:16]
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	dsn := func(user string) string {
		u, _ := url.Parse(pgtest.AdminURL())
		u.Path = "/" + name
		if user != "" {
			u.User = url.User(user)
		}
		return u.String()
	}
	pgtest.New(t, nil) // makes sure pgtest.AppRole exists
	cfg := service.Config{Name: "billing", DatabaseURL: dsn(pgtest.AppRole), Limits: service.Limits{MigrateDatabaseURL: dsn("")}}
	if err := service.MigrateOnly(ctx, cfg, nil); err != nil {
		t.Fatal(err)
	}
	app, err := pgx.Connect(ctx, cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close(context.Background())
	if _, err := app.Exec(ctx, `INSERT INTO audit_log (actor, action, entity_type, entity_id) VALUES ('a', 'b', 'c', 'd')`); err != nil {
		t.Fatalf("audit insert as the run-time role: %v", err)
	}
	var pgErr *pgconn.PgError
	if _, err := app.Exec(ctx, `DELETE FROM audit_log`); !errors.As(err, &pgErr) || pgErr.Code != "42501" {
		t.Fatalf("audit delete as the run-time role: %v, want permission denied", err)
	}
}
