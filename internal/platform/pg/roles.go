package pg

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A service's database has two roles. The owner owns the schema and its tables and applies the
// migrations (`<svc> migrate`, or the start of a service given ACCRUE_MIGRATE_DATABASE_URL). The
// service connects at run time as its app role, which may read and write rows but owns nothing:
// it cannot alter a table, drop or disable a trigger, or touch the tables below beyond what they
// allow. GrantApp gives the app role exactly that, after every migration run.
var (
	// appendOnlyTables may be read and appended to, never updated, deleted or truncated.
	appendOnlyTables = map[string]bool{"audit_log": true}
	// ownerOnlyTables are maintained by SECURITY DEFINER triggers only (the audit chain head).
	ownerOnlyTables = map[string]bool{"audit_chain_head": true}
	// readOnlyTables may be read (a service started without the owner's DSN checks that no
	// migration is pending), never written.
	readOnlyTables = map[string]bool{"platform_goose_version": true, "goose_db_version": true}
)

// grantLock serialises GrantApp between replicas starting at once (concurrent GRANTs on one
// object fail with "tuple concurrently updated").
var grantLock = NewLock("pg.grant_app")

// GrantApp grants role, in one transaction, what a service needs at run time on the database
// pool is connected to (as the owner of its tables, after Migrate): CONNECT on the database, USAGE
// on the current schema, SELECT, INSERT, UPDATE and DELETE on every table of it except SELECT and
// INSERT only on the append-only audit_log, SELECT only on the migration version tables, nothing
// on the audit chain head; USAGE on its sequences; and the same by default on the tables and
// sequences the owner creates later. TRUNCATE, REFERENCES and TRIGGER are never granted. It is
// idempotent; role must exist and must not be the connected user.
func GrantApp(ctx context.Context, pool *pgxpool.Pool, role string) error {
	if role == "" {
		return fmt.Errorf("pg: GrantApp needs a role")
	}
	r := pgx.Identifier{role}.Sanitize()
	return InTx(ctx, pool, func(ctx context.Context, tx pgx.Tx) error {
		var db, schema, user string
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT current_database(), current_schema(), current_user,
			EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, role).Scan(&db, &schema, &user, &exists); err != nil {
			return fmt.Errorf("pg: grant: %w", err)
		}
		if !exists {
			return fmt.Errorf("pg: grant: role %q does not exist (create it with CREATE ROLE %s LOGIN)", role, r)
		}
		if role == user {
			return fmt.Errorf("pg: grant: %q is the connected role; the service's role must not be the owner", role)
		}
		if err := grantLock.Acquire(ctx, tx, db); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1`, schema)
		if err != nil {
			return fmt.Errorf("pg: grant: list tables: %w", err)
		}
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("pg: grant: list tables: %w", err)
		}
		s := pgx.Identifier{schema}.Sanitize()
		stmts := []string{
			fmt.Sprintf("GRANT CONNECT ON DATABASE %s TO %s", pgx.Identifier{db}.Sanitize(), r),
			fmt.Sprintf("GRANT USAGE ON SCHEMA %s TO %s", s, r),
			fmt.Sprintf("GRANT USAGE ON ALL SEQUENCES IN SCHEMA %s TO %s", s, r),
			fmt.Sprintf("ALTER DEFAULT PRIVILEGES IN SCHEMA %s GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %s", s, r),
			fmt.Sprintf("ALTER DEFAULT PRIVILEGES IN SCHEMA %s GRANT USAGE ON SEQUENCES TO %s", s, r),
		}
		for _, name := range tables {
			t := s + "." + pgx.Identifier{name}.Sanitize()
			stmts = append(stmts, fmt.Sprintf("REVOKE ALL ON %s FROM %s", t, r))
			switch {
			case ownerOnlyTables[name]:
			case appendOnlyTables[name]:
				stmts = append(stmts, fmt.Sprintf("GRANT SELECT, INSERT ON %s TO %s", t, r))
			case readOnlyTables[name]:
				stmts = append(stmts, fmt.Sprintf("GRANT SELECT ON %s TO %s", t, r))
			default:
				stmts = append(stmts, fmt.Sprintf("GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %s", t, r))
			}
		}
		for _, q := range stmts {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("pg: grant: %s: %w", q, err)
			}
		}
		return nil
	})
}

// RoleOf returns the user dsn connects as (pgx's default when the DSN names none).
func RoleOf(dsn string) (string, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "", fmt.Errorf("pg: parse dsn: %w", err)
	}
	return cfg.User, nil
}
