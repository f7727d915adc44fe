// Package store keeps the project service's data in Postgres; only it knows SQL and pgx.
package store

import (
	"context"
	"embed"
	"io/fs"
	"time"

	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/pg"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations returns the service's migration files.
func Migrations() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations")
	return sub
}

// ErrCustomerNotInDirectory means no customer.upserted event for that customer arrived yet.
var ErrCustomerNotInDirectory = fault.New(fault.NotFound, "CUSTOMER_NOT_IN_DIRECTORY", "the project service knows no such customer (yet)")

// DirectoryCustomer is the replica of one customer.
type DirectoryCustomer struct {
	CustomerID    string
	Name          string
	Currency      string
	Status        string
	HasTaxProfile bool
	TaxExempt     bool
	Version       int64
	LastEventID   string
	CorrelationID string
	UpdatedAt     time.Time
}

// UpsertDirectoryCustomers applies replicas in one statement; a row only changes when the
// incoming version is newer than the stored one. It returns how many rows changed.
func UpsertDirectoryCustomers(ctx context.Context, q pg.Querier, list []DirectoryCustomer) (int64, error) {
	if len(list) == 0 {
		return 0, nil
	}
	n := len(list)
	ids, names, curs, sts, evs, cids := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	tax, ex := make([]bool, n), make([]bool, n)
	vers := make([]int64, n)
	for i, c := range list {
		ids[i], names[i], curs[i], sts[i], evs[i], cids[i] = c.CustomerID, c.Name, c.Currency, c.Status, c.LastEventID, c.CorrelationID
		tax[i], ex[i], vers[i] = c.HasTaxProfile, c.TaxExempt, c.Version
	}
	// DISTINCT ON keeps the newest version per customer inside the batch.
	tag, err := q.Exec(ctx, `INSERT INTO directory_customers AS d (customer_id, name, currency_code, status,
			has_tax_profile, tax_exempt, version, last_event_id, correlation_id, updated_at)
		SELECT DISTINCT ON (id) id, name, cur, st, tax, ex, ver, ev, cid, now()
		FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bool[], $6::bool[], $7::bigint[], $8::uuid[], $9::text[])
			AS t(id, name, cur, st, tax, ex, ver, ev, cid)
		ORDER BY id, ver DESC
		ON CONFLICT (customer_id) DO UPDATE SET name = EXCLUDED.name, currency_code = EXCLUDED.currency_code,
			status = EXCLUDED.status, has_tax_profile = EXCLUDED.has_tax_profile, tax_exempt = EXCLUDED.tax_exempt,
			version = EXCLUDED.version, last_event_id = EXCLUDED.last_event_id, correlation_id = EXCLUDED.correlation_id,
			updated_at = now()
		WHERE d.version < EXCLUDED.version`, ids, names, curs, sts, tax, ex, vers, evs, cids)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// GetDirectoryCustomer returns one replica.
func GetDirectoryCustomer(ctx context.Context, q pg.Querier, id string) (DirectoryCustomer, error) {
	var c DirectoryCustomer
	err := q.QueryRow(ctx, `SELECT customer_id::text, name, currency_code, status, has_tax_profile, tax_exempt,
		version, last_event_id::text, correlation_id, updated_at FROM directory_customers WHERE customer_id = $1`, id).
		Scan(&c.CustomerID, &c.Name, &c.Currency, &c.Status, &c.HasTaxProfile, &c.TaxExempt, &c.Version,
			&c.LastEventID, &c.CorrelationID, &c.UpdatedAt)
	return c, pg.NotFound(err, ErrCustomerNotInDirectory)
}
