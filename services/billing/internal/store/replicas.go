package store

import (
	"context"

	"github.com/accrue/accrue/services/billing/internal/ledger"
)

// Replicas of other services' data that posting reads (it never calls another service): projects
// and their tasks (project service), resources' roles and cost rates (resource service). Each is
// applied only when its version is newer than the one held.

// ApplyProjectReplica stores a project's legal entity, contract and tasks when version is newer;
// it reports whether it changed.
func (s *Store) ApplyProjectReplica(ctx context.Context, p ledger.Project, status string, version int64) (bool, error) {
	q := s.Q(ctx)
	tag, err := q.Exec(ctx, `INSERT INTO project_replicas AS p (project_id, legal_entity_id, contract_id, status, version)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (project_id) DO UPDATE SET legal_entity_id = EXCLUDED.legal_entity_id, contract_id = EXCLUDED.contract_id,
			status = EXCLUDED.status, version = EXCLUDED.version WHERE p.version < EXCLUDED.version`,
		p.ID, p.LegalEntityID, nullUUID(p.ContractID), status, version)
	if err != nil || tag.RowsAffected() == 0 {
		return false, err
	}
	ids, billable, keys := make([]string, 0, len(p.Tasks)), make([]bool, 0, len(p.Tasks)), make([]string, 0, len(p.Tasks))
	for id, t := range p.Tasks {
		ids, billable, keys = append(ids, id), append(billable, t.Billable), append(keys, t.LineKey)
	}
	_, err = q.Exec(ctx, `INSERT INTO task_replicas (task_id, project_id, billable, line_key)
		SELECT t, $1, b, k FROM unnest($2::uuid[], $3::bool[], $4::text[]) AS x(t, b, k)
		ON CONFLICT (task_id) DO UPDATE SET billable = EXCLUDED.billable, line_key = EXCLUDED.line_key`, p.ID, ids, billable, keys)
	return err == nil, err
}

// ApplyCostRates replaces a resource's cost-rate replica when ratesVersion is newer (and records
// its role); it reports whether it changed.
func (s *Store) ApplyCostRates(ctx context.Context, resourceID, role string, ratesVersion int64, rates []ledger.CostRate) (bool, error) {
	q := s.Q(ctx)
	tag, err := q.Exec(ctx, `INSERT INTO resource_replicas AS r (resource_id, role, rates_version) VALUES ($1, $2, $3)
		ON CONFLICT (resource_id) DO UPDATE SET role = EXCLUDED.role, rates_version = EXCLUDED.rates_version
		WHERE r.rates_version < EXCLUDED.rates_version`, resourceID, role, ratesVersion)
	if err != nil || tag.RowsAffected() == 0 {
		return false, err
	}
	if _, err := q.Exec(ctx, `DELETE FROM cost_rate_replicas WHERE resource_id = $1`, resourceID); err != nil {
		return false, err
	}
	for _, r := range rates {
		if _, err := q.Exec(ctx, `INSERT INTO cost_rate_replicas (resource_id, rate, currency_code, effective_from, effective_to)
			VALUES ($1, $2, $3, $4, $5)`, resourceID, r.Rate.Value, r.Rate.Currency, r.From.Time(), nullDate(r.To)); err != nil {
			return false, err
		}
	}
	return true, nil
}

// SetRole records a resource's role (its rate-card key).
func (s *Store) SetRole(ctx context.Context, resourceID, role string) error {
	_, err := s.Q(ctx).Exec(ctx, `INSERT INTO resource_replicas (resource_id, role) VALUES ($1, $2)
		ON CONFLICT (resource_id) DO UPDATE SET role = EXCLUDED.role`, resourceID, role)
	return err
}
