package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/resource/internal/resource"
)

// refsConstraint is the unique constraint on external references.
const refsConstraint = "resource_external_refs_pkey"

// workerLock serialises the records of one HCM worker.
var workerLock = pg.NewLock("resource.worker")

const resourceColumns = `id::text, kind, name, email, home_legal_entity, location, role, weekly_capacity,
	utilization_target, active, version, source_version, updated_at`

func scanResource(row pgx.Row) (resource.Resource, error) {
	var r resource.Resource
	var kind string
	err := row.Scan(&r.ID, &kind, &r.Name, &r.Email, &r.HomeLegalEntity, &r.Location, &r.Role, &r.WeeklyCapacity,
		&r.UtilizationTarget, &r.Active, &r.Version, &r.SourceVersion, &r.UpdatedAt)
	r.Kind = resource.Kind(kind)
	return r, err
}

// GetResource returns a resource with its references; resource.ErrNotFound when absent.
func (s *Store) GetResource(ctx context.Context, id string) (resource.Resource, error) {
	return s.getResource(ctx, id, false)
}

// GetResourceForUpdate is GetResource, locking the resource until the transaction ends.
func (s *Store) GetResourceForUpdate(ctx context.Context, id string) (resource.Resource, error) {
	return s.getResource(ctx, id, true)
}

func (s *Store) getResource(ctx context.Context, id string, forUpdate bool) (resource.Resource, error) {
	q := s.Q(ctx)
	r, err := scanResource(q.QueryRow(ctx, `SELECT `+resourceColumns+` FROM resources WHERE id = $1`+lockFor(forUpdate), id))
	if err != nil {
		return r, pg.NotFound(err, resource.ErrNotFound)
	}
	rows, err := q.Query(ctx, `SELECT system, object_type, external_id FROM resource_external_refs WHERE resource_id = $1 ORDER BY 1, 2, 3`, id)
	if err != nil {
		return r, err
	}
	r.Refs, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (resource.ExternalRef, error) {
		var x resource.ExternalRef
		return x, row.Scan(&x.System, &x.ObjectType, &x.ExternalID)
	})
	return r, err
}

// ResourceByRef returns the id of the resource holding any of refs.
func (s *Store) ResourceByRef(ctx context.Context, refs []resource.ExternalRef) (string, bool, error) {
	q := s.Q(ctx)
	for _, ref := range refs {
		var id string
		err := q.QueryRow(ctx, `SELECT resource_id::text FROM resource_external_refs WHERE system = $1 AND object_type = $2 AND external_id = $3`,
			ref.System, ref.ObjectType, ref.ExternalID).Scan(&id)
		if err == nil {
			return id, true, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return "", false, err
		}
	}
	return "", false, nil
}

// ListResources returns up to limit resources after afterID, in id order.
func (s *Store) ListResources(ctx context.Context, afterID string, limit int) ([]resource.Resource, error) {
	var after *string
	if afterID != "" {
		after = &afterID
	}
	rows, err := s.Q(ctx).Query(ctx, `SELECT `+resourceColumns+` FROM resources WHERE ($1::uuid IS NULL OR id > $1::uuid) ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (resource.Resource, error) { return scanResource(r) })
}

// SaveResource inserts (version 1) or updates a resource and attaches newRefs. A reference
// another resource holds fails it with resource.ErrReferenceTaken.
func (s *Store) SaveResource(ctx context.Context, r resource.Resource, newRefs []resource.ExternalRef) error {
	q := s.Q(ctx)
	sql := `UPDATE resources SET kind = $2, name = $3, email = $4, home_legal_entity = $5, location = $6, role = $7,
		weekly_capacity = $8, utilization_target = $9, active = $10, content_hash = $11, version = $12, source_version = $13,
		updated_at = $14 WHERE id = $1`
	if r.Version == 1 {
		sql = `INSERT INTO resources (id, kind, name, email, home_legal_entity, location, role, weekly_capacity,
			utilization_target, active, content_hash, version, source_version, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`
	}
	if _, err := q.Exec(ctx, sql, r.ID, string(r.Kind), r.Name, r.Email, r.HomeLegalEntity, r.Location, r.Role, r.WeeklyCapacity,
		r.UtilizationTarget, r.Active, r.Hash(), r.Version, r.SourceVersion, r.UpdatedAt); err != nil {
		return err
	}
	for _, ref := range newRefs {
		_, err := q.Exec(ctx, `INSERT INTO resource_external_refs (system, object_type, external_id, resource_id) VALUES ($1, $2, $3, $4)`,
			ref.System, ref.ObjectType, ref.ExternalID, r.ID)
		if pg.IsUniqueViolation(err, refsConstraint) {
			return fmt.Errorf("%w: %w", resource.ErrReferenceTaken, err)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// SetSourceVersion records the newest source version applied (even when the content was the same).
func (s *Store) SetSourceVersion(ctx context.Context, id string, v int64) error {
	_, err := s.Q(ctx).Exec(ctx, `UPDATE resources SET source_version = $2 WHERE id = $1 AND source_version < $2`, id, v)
	return err
}

// LockWorker serialises the records of one HCM worker until the transaction ends.
func (s *Store) LockWorker(ctx context.Context, system, workerID string) error {
	return workerLock.Acquire(ctx, s.Q(ctx), system+"\n"+workerID)
}
