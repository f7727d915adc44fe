package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/services/resource/internal/resource"
)

// The project replica (projects and their tasks) is fed by project events; assignments are
// checked against it.

// ProjectView returns the replica of a project; found is false when no event named it yet.
func (s *Store) ProjectView(ctx context.Context, id string) (p resource.ProjectView, found bool, err error) {
	q := s.Q(ctx)
	var start, end time.Time
	err = q.QueryRow(ctx, `SELECT id::text, status, start_date, end_date, version, legal_entity_id FROM projects WHERE id = $1`, id).
		Scan(&p.ID, &p.Status, &start, &end, &p.Version, &p.LegalEntityID)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, false, nil
	}
	if err != nil {
		return p, false, err
	}
	p.Start, p.End = civil.Of(start), civil.Of(end)
	rows, err := q.Query(ctx, `SELECT id::text, billable FROM project_tasks WHERE project_id = $1`, id)
	if err != nil {
		return p, false, err
	}
	defer rows.Close()
	p.Tasks = map[string]bool{}
	for rows.Next() {
		var tid string
		var billable bool
		if err := rows.Scan(&tid, &billable); err != nil {
			return p, false, err
		}
		p.Tasks[tid] = billable
	}
	return p, true, rows.Err()
}

// UpsertProjectView applies a project replica when its version is newer than the stored one;
// tasks are added or updated.
func (s *Store) UpsertProjectView(ctx context.Context, p resource.ProjectView) error {
	q := s.Q(ctx)
	tag, err := q.Exec(ctx, `INSERT INTO projects AS p (id, status, start_date, end_date, version, legal_entity_id) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, start_date = EXCLUDED.start_date, end_date = EXCLUDED.end_date,
			version = EXCLUDED.version, legal_entity_id = EXCLUDED.legal_entity_id WHERE p.version < EXCLUDED.version`,
		p.ID, p.Status, p.Start.Time(), p.End.Time(), p.Version, p.LegalEntityID)
	if err != nil || tag.RowsAffected() == 0 {
		return err
	}
	ids := make([]string, 0, len(p.Tasks))
	billable := make([]bool, 0, len(p.Tasks))
	for id, b := range p.Tasks {
		ids, billable = append(ids, id), append(billable, b)
	}
	_, err = q.Exec(ctx, `INSERT INTO project_tasks (id, project_id, billable) SELECT t, $1, b FROM unnest($2::uuid[], $3::bool[]) AS x(t, b)
		ON CONFLICT (id) DO UPDATE SET billable = EXCLUDED.billable`, p.ID, ids, billable)
	return err
}
