// Package pgtest gives each test its own Postgres database, migrated like production.
//
// The first test of a migration set builds a template database (named after a hash of the
// migrations, so a changed migration builds a new one); every test then gets a copy with
// CREATE DATABASE ... TEMPLATE, which takes milliseconds, and drops it when it ends.
// The server is ACCRUE_TEST_DATABASE_URL (a DSN whose database is used for administration),
// postgres://postgres@127.0.0.1:5432/postgres when unset.
//
// DB.Pool connects as that administration user, which owns the tables (as a service's owner
// role does). AppPool connects as AppRole, granted like a service's run-time role (pg.GrantApp),
// for tests of what a service may and may not do.
package pgtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/accrue/accrue/internal/platform/config"
	"github.com/accrue/accrue/internal/platform/pg"
)

// AdminURL returns the administration DSN tests use.
func AdminURL() string {
	return config.FromEnv().String("ACCRUE_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
}

// AppRole is the role AppPool connects as, granted on every test database like a service's
// run-time role. pgtest creates it (LOGIN, no password) on first use.
const AppRole = "accrue_test_app"

// grantsVersion changes the template name when what the templates are granted changes.
const grantsVersion = "grants-v1"

// DB is a test database.
type DB struct {
	Pool *pgxpool.Pool
	// URL is the DSN of the test database, for code under test that connects on its own.
	URL  string
	Name string
	// AppURL is the DSN of the test database as AppRole.
	AppURL string
}

// AppPool returns a pool on the database connecting as AppRole, closed when the test ends.
func (d *DB) AppPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := pg.Connect(ctx, d.AppURL, 4)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// New creates a database migrated with the platform migrations and service (which may be nil),
// and registers its removal with t.Cleanup.
func New(t testing.TB, service fs.FS) *DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v (is Postgres running? `make deps` starts it)", AdminURL(), err)
	}
	defer admin.Close(ctx)

	tmpl, err := template(ctx, admin, service)
	if err != nil {
		t.Fatalf("pgtest: template: %v", err)
	}
	name := "t_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:20]
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tmpl)); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	dbURL := withDatabase(AdminURL(), name)
	pool, err := pg.Connect(ctx, dbURL, 4)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		pool.Close()
		c, err := pgx.Connect(context.Background(), AdminURL())
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name))
	})
	return &DB{Pool: pool, URL: dbURL, Name: name, AppURL: withUser(dbURL, AppRole)}
}

// template returns the name of a migrated template database for service, building it once.
func template(ctx context.Context, admin *pgx.Conn, service fs.FS) (string, error) {
	h := sha256.New()
	if err := hashMigrations(h, service); err != nil {
		return "", err
	}
	if err := hashMigrations(h, pg.PlatformMigrations()); err != nil {
		return "", err
	}
	_, _ = h.Write([]byte(grantsVersion))
	name := "tmpl_" + hex.EncodeToString(h.Sum(nil))[:24]

	// Serialise template builds across test processes (go test runs packages in parallel).
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(727100)"); err != nil {
		return "", err
	}
	defer admin.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(727100)") //nolint:errcheck
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_b"
	_, _ = admin.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", building))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return "", err
	}
	pool, err := pg.Connect(ctx, withDatabase(AdminURL(), building), 2)
	if err != nil {
		return "", err
	}
	err = pg.Migrate(ctx, pool, service)
	if err == nil {
		err = ensureRole(ctx, admin, AppRole)
	}
	if err == nil {
		err = pg.GrantApp(ctx, pool, AppRole)
	}
	pool.Close()
	if err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", building, name)); err != nil {
		return "", err
	}
	return name, nil
}

func hashMigrations(h interface{ Write([]byte) (int, error) }, fsys fs.FS) error {
	if fsys == nil {
		return nil
	}
	return fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		_, _ = h.Write([]byte(path))
		_, _ = h.Write(b)
		return nil
	})
}

// ensureRole creates a login role unless it exists (another process may create it meanwhile).
func ensureRole(ctx context.Context, admin *pgx.Conn, role string) error {
	_, err := admin.Exec(ctx, "CREATE ROLE "+pgx.Identifier{role}.Sanitize()+" LOGIN")
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "42710" || pgErr.Code == "23505") { // duplicate_object, unique_violation
		return nil
	}
	return err
}

func withUser(dsn, user string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		panic(err)
	}
	u.User = url.User(user)
	return u.String()
}

func withDatabase(dsn, name string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}
