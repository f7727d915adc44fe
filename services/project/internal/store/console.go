package store

import (
	"context"

	"github.com/accrue/accrue/internal/platform/insight"
)

// TraceRecords is the project service's trace hook: projects by id, contract or the CRM
// opportunity they were converted from; their ids and contracts are related keys.
func (s *Store) TraceRecords(ctx context.Context, keys, _ []string, limit int) (insight.Found, error) {
	var f insight.Found
	rows, err := s.Q(ctx).Query(ctx, `SELECT id::text, created_at, name, status, COALESCE(contract_id::text, ''), source_system, source_id
		FROM projects WHERE id::text = ANY($1) OR contract_id::text = ANY($1) OR (source_id <> '' AND source_id = ANY($1))
		ORDER BY created_at LIMIT $2`, keys, limit+1)
	if err != nil {
		return f, err
	}
	defer rows.Close()
	for rows.Next() {
		var it insight.Item
		var name, contract, system, source string
		if err := rows.Scan(&it.EntityID, &it.Time, &name, &it.Status, &contract, &system, &source); err != nil {
			return f, err
		}
		if len(f.Items) == limit {
			f.Truncated = true
			break
		}
		it.Kind, it.EntityType, it.Title = insight.KindProject, "project", "project "+name
		if source != "" {
			it.Detail = "from " + system + " opportunity " + source
		}
		f.Items = append(f.Items, it)
		f.RelatedKeys = append(f.RelatedKeys, it.EntityID, contract)
	}
	return f, rows.Err()
}
