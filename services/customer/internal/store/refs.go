package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/customer/internal/customer"
)

// External references are unique across customers (refsConstraint): the constraint, not a read,
// settles two concurrent writes of one reference.

// OwnersOf returns the distinct customer ids that own any of refs.
func (s *Store) OwnersOf(ctx context.Context, refs []customer.ExternalRef) ([]string, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	sys, typ, ext := split(refs)
	rows, err := s.Q(ctx).Query(ctx, `SELECT DISTINCT r.customer_id::text FROM customer_external_refs r
		JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(s, t, e)
		  ON r.system = k.s AND r.object_type = k.t AND r.external_id = k.e`, sys, typ, ext)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// refsOf returns the references of the customers ids, by customer, oldest first.
func refsOf(ctx context.Context, q pg.Querier, ids []string) (map[string][]customer.ExternalRef, error) {
	rows, err := q.Query(ctx, `SELECT customer_id::text, system, object_type, external_id FROM customer_external_refs
		WHERE customer_id = ANY($1::uuid[]) ORDER BY created_at, system, object_type, external_id`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]customer.ExternalRef{}
	for rows.Next() {
		var id string
		var r customer.ExternalRef
		if err := rows.Scan(&id, &r.System, &r.ObjectType, &r.ExternalID); err != nil {
			return nil, err
		}
		out[id] = append(out[id], r)
	}
	return out, rows.Err()
}

func queueAddRefs(b *pg.Batch, customerID string, refs []customer.ExternalRef) {
	if len(refs) == 0 {
		return
	}
	sys, typ, ext := split(refs)
	b.Queue(`INSERT INTO customer_external_refs (system, object_type, external_id, customer_id)
		SELECT s, t, e, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS k(s, t, e)`, sys, typ, ext, customerID)
}

func split(refs []customer.ExternalRef) (sys, typ, ext []string) {
	for _, r := range refs {
		sys = append(sys, r.System)
		typ = append(typ, r.ObjectType)
		ext = append(ext, r.ExternalID)
	}
	return
}
