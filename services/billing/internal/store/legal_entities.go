package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/paging"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
)

const legalEntityCodeConstraint = "legal_entities_code_key"

const leColumns = `id::text, code, name, functional_currency, tax_registration, country_code, closed_period_policy, version, created_at`

func scanLE(row pgx.Row) (legalentity.LegalEntity, error) {
	var le legalentity.LegalEntity
	var policy string
	err := row.Scan(&le.ID, &le.Code, &le.Name, &le.FunctionalCurrency, &le.TaxRegistration, &le.CountryCode, &policy, &le.Version, &le.CreatedAt)
	le.Policy = legalentity.ClosedPeriodPolicy(policy)
	return le, pg.NotFound(err, legalentity.ErrNotFound)
}

// LegalEntity returns one legal entity by id (legalentity.ErrNotFound).
func (s *Store) LegalEntity(ctx context.Context, id string) (legalentity.LegalEntity, error) {
	return scanLE(s.Q(ctx).QueryRow(ctx, `SELECT `+leColumns+` FROM legal_entities WHERE id = $1`, id))
}

// LegalEntityByCode returns one legal entity by code (legalentity.ErrNotFound).
func (s *Store) LegalEntityByCode(ctx context.Context, code string) (legalentity.LegalEntity, error) {
	return scanLE(s.Q(ctx).QueryRow(ctx, `SELECT `+leColumns+` FROM legal_entities WHERE code = $1`, code))
}

// ListLegalEntities returns the page of legal entities by code after page.AfterKey, restricted to
// the ids only when only is not nil.
func (s *Store) ListLegalEntities(ctx context.Context, page paging.Request, only []string) ([]legalentity.LegalEntity, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT `+leColumns+` FROM legal_entities WHERE code > $1
		AND ($3::text[] IS NULL OR id::text = ANY($3::text[])) ORDER BY code LIMIT $2`,
		page.AfterKey, page.Fetch(), only)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (legalentity.LegalEntity, error) { return scanLE(r) })
}

// LegalEntityHash returns the content hash of the legal entity with code, if any.
func (s *Store) LegalEntityHash(ctx context.Context, code string) ([]byte, bool, error) {
	var h []byte
	err := s.Q(ctx).QueryRow(ctx, `SELECT content_hash FROM legal_entities WHERE code = $1`, code).Scan(&h)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	return h, err == nil, err
}

// CreateLegalEntity stores a new legal entity with the default chart of accounts. It fails with
// legalentity.ErrCodeTaken when another writer created one with the same code first (the
// transaction is then aborted).
func (s *Store) CreateLegalEntity(ctx context.Context, le legalentity.LegalEntity) error {
	_, err := s.Q(ctx).Exec(ctx, `INSERT INTO legal_entities (id, code, name, functional_currency, tax_registration, country_code,
		closed_period_policy, content_hash, version, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		le.ID, le.Code, le.Name, le.FunctionalCurrency, le.TaxRegistration, le.CountryCode, string(le.Policy), le.Hash(), le.Version, le.CreatedAt)
	if pg.IsUniqueViolation(err, legalEntityCodeConstraint) {
		return legalentity.ErrCodeTaken.Wrap(err)
	}
	if err != nil {
		return err
	}
	return seedAccounts(ctx, s.Q(ctx), le.ID)
}

// SetPeriod opens or closes a period; it reports whether the status changed (the first explicit
// opening is a change too).
func (s *Store) SetPeriod(ctx context.Context, legalEntityID, period string, status ledger.PeriodStatus, actor string) (ledger.Period, bool, error) {
	q := s.Q(ctx)
	var p ledger.Period
	var prev *string
	err := q.QueryRow(ctx, `SELECT status FROM periods WHERE legal_entity_id = $1 AND period = $2 FOR UPDATE`, legalEntityID, period).Scan(&prev)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return p, false, err
	}
	changed := prev == nil || *prev != string(status)
	err = q.QueryRow(ctx, `INSERT INTO periods (legal_entity_id, period, status, changed_by) VALUES ($1, $2, $3, $4)
		ON CONFLICT (legal_entity_id, period) DO UPDATE SET status = EXCLUDED.status,
			changed_at = CASE WHEN periods.status = EXCLUDED.status THEN periods.changed_at ELSE now() END,
			changed_by = CASE WHEN periods.status = EXCLUDED.status THEN periods.changed_by ELSE EXCLUDED.changed_by END
		RETURNING legal_entity_id::text, period, status, changed_by, changed_at`, legalEntityID, period, string(status), actor).
		Scan(&p.LegalEntityID, &p.Period, &p.Status, &p.ChangedBy, &p.ChangedAt)
	return p, changed, err
}

// ListPeriods returns a legal entity's explicit periods.
func (s *Store) ListPeriods(ctx context.Context, legalEntityID string) ([]ledger.Period, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT legal_entity_id::text, period, status, changed_by, changed_at FROM periods
		WHERE legal_entity_id = $1 ORDER BY period`, legalEntityID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ledger.Period, error) {
		var p ledger.Period
		return p, r.Scan(&p.LegalEntityID, &p.Period, &p.Status, &p.ChangedBy, &p.ChangedAt)
	})
}
