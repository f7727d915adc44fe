package store

import (
	"context"
	"fmt"
)

// UpsertResource records that a resource exists, unless a newer version is stored.
func (s *Store) UpsertResource(ctx context.Context, id string, version int64) error {
	_, err := s.Q(ctx).Exec(ctx, `INSERT INTO resources (id, version) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version WHERE resources.version < EXCLUDED.version`, id, version)
	if err != nil {
		return fmt.Errorf("store: upsert resource: %w", err)
	}
	return nil
}

// KnownResources returns which of ids the resource replica holds.
func (s *Store) KnownResources(ctx context.Context, ids []string) (map[string]bool, error) {
	known := make(map[string]bool, len(ids))
	if len(ids) == 0 {
		return known, nil
	}
	rows, err := s.Q(ctx).Query(ctx, `SELECT id::text FROM resources WHERE id = ANY($1::uuid[])`, ids)
	if err != nil {
		return nil, fmt.Errorf("store: known resources: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		known[id] = true
	}
	return known, rows.Err()
}
