package pg

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
)

//go:embed migrations/*.sql
var platformMigrations embed.FS

// Migrate applies the platform's own tables (outbox and the streams' recorded ids, inbox,
// idempotency keys, exceptions, audit log; version table platform_goose_version) and then the service's migrations (the *.sql files at
// the root of service, version table goose_db_version). Both sets are embedded in the binary and
// applied at start and by the `migrate` subcommand; goose takes an advisory lock so concurrent
// starts are safe.
func Migrate(ctx context.Context, pool *pgxpool.Pool, service fs.FS) error {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	sub, err := fs.Sub(platformMigrations, "migrations")
	if err != nil {
		return err
	}
	sets := []struct {
		table string
		fsys  fs.FS
	}{{"platform_goose_version", sub}, {"goose_db_version", service}}
	for _, s := range sets {
		if s.fsys == nil {
			continue
		}
		store, err := database.NewStore(goose.DialectPostgres, s.table)
		if err != nil {
			return err
		}
		p, err := goose.NewProvider("", db, s.fsys, goose.WithStore(store), goose.WithSessionLocker(mustLocker(s.table)))
		if err != nil {
			return fmt.Errorf("pg: migrations (%s): %w", s.table, err)
		}
		if _, err := p.Up(ctx); err != nil {
			return fmt.Errorf("pg: migrate (%s): %w", s.table, err)
		}
	}
	return nil
}

// PlatformMigrations returns the platform's own migration files (for test template hashing).
func PlatformMigrations() fs.FS {
	sub, _ := fs.Sub(platformMigrations, "migrations")
	return sub
}
