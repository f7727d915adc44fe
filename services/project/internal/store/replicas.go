package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/project/internal/financials"
	"github.com/accrue/accrue/services/project/internal/project"
)

// The replicas the project service keeps of other services' data, fed by their events: the
// customer directory, legal entities and contracts. A replica only moves forward: an event
// carrying an older version than the row holds changes nothing.

const selectLegalEntity = `SELECT legal_entity_id::text, code, functional_currency, closed_period_policy, version
	FROM legal_entities WHERE code = $1`

// LegalEntityByCode returns the replica of the legal entity with code
// (project.ErrUnknownLegalEntity when there is none).
func (s *Store) LegalEntityByCode(ctx context.Context, code string) (project.LegalEntity, error) {
	le, found, err := scanLegalEntity(s.Q(ctx).QueryRow(ctx, selectLegalEntity, code))
	if err == nil && !found {
		err = project.UnknownLegalEntity(code)
	}
	return le, err
}

func scanLegalEntity(row pgx.Row) (project.LegalEntity, bool, error) {
	var le project.LegalEntity
	err := row.Scan(&le.ID, &le.Code, &le.FunctionalCurrency, &le.Policy, &le.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		return le, false, nil
	}
	return le, err == nil, err
}

// UpsertLegalEntity applies a replica row when its version is newer.
func (s *Store) UpsertLegalEntity(ctx context.Context, le project.LegalEntity) error {
	_, err := s.Q(ctx).Exec(ctx, `INSERT INTO legal_entities AS l (legal_entity_id, code, functional_currency, closed_period_policy, version)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (legal_entity_id) DO UPDATE SET code = EXCLUDED.code, functional_currency = EXCLUDED.functional_currency,
			closed_period_policy = EXCLUDED.closed_period_policy, version = EXCLUDED.version, updated_at = now()
		WHERE l.version < EXCLUDED.version`, le.ID, le.Code, le.FunctionalCurrency, le.Policy, le.Version)
	return err
}

// UpsertDirectoryCustomers applies replicas in one statement; a row only changes when the
// incoming version is newer than the stored one. It returns how many rows changed.
func (s *Store) UpsertDirectoryCustomers(ctx context.Context, list []project.DirectoryCustomer) (int64, error) {
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
	tag, err := s.Q(ctx).Exec(ctx, `INSERT INTO directory_customers AS d (customer_id, name, currency_code, status,
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

// DirectoryCustomer returns one replica (project.ErrCustomerNotInDirectory when there is none).
func (s *Store) DirectoryCustomer(ctx context.Context, id string) (project.DirectoryCustomer, error) {
	var c project.DirectoryCustomer
	err := s.Q(ctx).QueryRow(ctx, `SELECT customer_id::text, name, currency_code, status, has_tax_profile, tax_exempt,
		version, last_event_id::text, correlation_id, updated_at FROM directory_customers WHERE customer_id = $1`, id).
		Scan(&c.CustomerID, &c.Name, &c.Currency, &c.Status, &c.HasTaxProfile, &c.TaxExempt, &c.Version,
			&c.LastEventID, &c.CorrelationID, &c.UpdatedAt)
	return c, pg.NotFound(err, project.ErrCustomerNotInDirectory)
}

// ApplyContract replaces the replica of a contract (its lines and rate cards) when its version
// is newer; it reports whether it did.
func (s *Store) ApplyContract(ctx context.Context, c financials.Contract) (bool, error) {
	q := s.Q(ctx)
	tag, err := q.Exec(ctx, `INSERT INTO contracts AS c (contract_id, version) VALUES ($1, $2)
		ON CONFLICT (contract_id) DO UPDATE SET version = EXCLUDED.version WHERE c.version < EXCLUDED.version`, c.ID, c.Version)
	if err != nil || tag.RowsAffected() == 0 {
		return false, err
	}
	if _, err := q.Exec(ctx, `DELETE FROM contract_rates WHERE contract_id = $1`, c.ID); err != nil {
		return false, err
	}
	if _, err := q.Exec(ctx, `DELETE FROM contract_lines WHERE contract_id = $1`, c.ID); err != nil {
		return false, err
	}
	var b pg.Batch
	for _, l := range c.Lines {
		b.Queue(`INSERT INTO contract_lines (contract_id, line_key, billing_method, amount, currency_code) VALUES ($1, $2, $3, $4, $5)`,
			c.ID, l.Key, l.BillingMethod, l.Amount, l.Currency)
		for _, r := range l.Rates {
			var to *time.Time
			if !r.To.IsZero() {
				t := r.To.Time()
				to = &t
			}
			b.Queue(`INSERT INTO contract_rates (contract_id, line_key, role, rate, effective_from, effective_to) VALUES ($1, $2, $3, $4, $5, $6)`,
				c.ID, l.Key, r.Role, r.Rate, r.From.Time(), to)
		}
	}
	return true, b.Run(ctx, q)
}

// RecordVersions returns the versions of a customer and a contract as the directory and contract
// replicas hold them (0 for one they do not hold, or an empty id).
func (s *Store) RecordVersions(ctx context.Context, customerID, contractID string) (customer, contract int64, err error) {
	err = s.Q(ctx).QueryRow(ctx, `SELECT
		coalesce((SELECT version FROM directory_customers WHERE customer_id::text = $1), 0),
		coalesce((SELECT version FROM contracts WHERE contract_id::text = $2), 0)`, customerID, contractID).Scan(&customer, &contract)
	return customer, contract, err
}
