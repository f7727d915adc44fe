package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/customer/internal/customer"
)

// hierarchyLock serialises re-parentings, so that two concurrent moves cannot form a cycle.
var hierarchyLock = pg.NewLock("customer.hierarchy")

// hierarchyKey is the one id hierarchyLock is taken for: the whole hierarchy.
const hierarchyKey = "all"

// LockHierarchy takes the hierarchy lock until the transaction in ctx ends.
func (s *Store) LockHierarchy(ctx context.Context) error {
	return hierarchyLock.Acquire(ctx, s.Q(ctx), hierarchyKey)
}

// Ancestors returns parentID and its ancestors, nearest first; customer.ErrParentNotFound when
// parentID does not exist.
func (s *Store) Ancestors(ctx context.Context, parentID string) ([]string, error) {
	rows, err := s.Q(ctx).Query(ctx, `WITH RECURSIVE up(id, parent_id, depth) AS (
			SELECT id, parent_id, 1 FROM customers WHERE id = $1
			UNION ALL
			SELECT c.id, c.parent_id, up.depth + 1 FROM customers c JOIN up ON c.id = up.parent_id WHERE up.depth < 64
		) SELECT id::text FROM up ORDER BY depth`, parentID)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, customer.ErrParentNotFound
	}
	return ids, nil
}

// SubtreeHeight returns the number of levels of id's subtree (1 for a leaf).
func (s *Store) SubtreeHeight(ctx context.Context, id string) (int, error) {
	var h int
	err := s.Q(ctx).QueryRow(ctx, `WITH RECURSIVE down(id, depth) AS (
			SELECT id, 1 FROM customers WHERE id = $1
			UNION ALL
			SELECT c.id, down.depth + 1 FROM customers c JOIN down ON c.parent_id = down.id WHERE down.depth < 64
		) SELECT COALESCE(max(depth), 1) FROM down`, id).Scan(&h)
	return h, err
}
