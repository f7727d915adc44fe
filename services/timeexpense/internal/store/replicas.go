package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/civil"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
)

// Replica returns the projects among projectIDs with their tasks, the policies of their legal
// entities and those entities' closed periods, in one round trip.
func (s *Store) Replica(ctx context.Context, projectIDs []string) (te.Replica, error) {
	r := te.Replica{Projects: map[string]te.Project{}, Policies: map[string]te.Policy{}, Closed: map[te.PeriodKey]bool{}}
	if len(projectIDs) == 0 {
		return r, nil
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT id::text, status, legal_entity_id, currency_code, start_date, end_date, version FROM projects WHERE id = ANY($1::uuid[])`, projectIDs)
	b.Queue(`SELECT project_id::text, id::text, billable FROM project_tasks WHERE project_id = ANY($1::uuid[])`, projectIDs)
	b.Queue(`SELECT l.id, l.closed_period_policy FROM legal_entities l
		WHERE l.id IN (SELECT legal_entity_id FROM projects WHERE id = ANY($1::uuid[]))`, projectIDs)
	b.Queue(`SELECT p.legal_entity_id, p.period FROM periods p
		WHERE p.status = 'CLOSED' AND p.legal_entity_id IN (SELECT legal_entity_id FROM projects WHERE id = ANY($1::uuid[]))`, projectIDs)
	br := s.Q(ctx).SendBatch(ctx, b)
	defer br.Close()

	err := eachRow(br, func(rows pgx.Rows) error {
		var p te.Project
		var start, end *time.Time
		if err := rows.Scan(&p.ID, &p.Status, &p.LegalEntityID, &p.Currency, &start, &end, &p.Version); err != nil {
			return err
		}
		if start != nil {
			p.Start = civil.Of(*start)
		}
		if end != nil {
			p.End = civil.Of(*end)
		}
		p.Tasks = map[string]bool{}
		r.Projects[p.ID] = p
		return nil
	})
	if err != nil {
		return r, err
	}
	err = eachRow(br, func(rows pgx.Rows) error {
		var pid, tid string
		var billable bool
		if err := rows.Scan(&pid, &tid, &billable); err != nil {
			return err
		}
		if p, ok := r.Projects[pid]; ok {
			p.Tasks[tid] = billable
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	err = eachRow(br, func(rows pgx.Rows) error {
		var id, policy string
		err := rows.Scan(&id, &policy)
		r.Policies[id] = te.Policy(policy)
		return err
	})
	if err != nil {
		return r, err
	}
	return r, eachRow(br, func(rows pgx.Rows) error {
		var k te.PeriodKey
		err := rows.Scan(&k.LegalEntityID, &k.Period)
		r.Closed[k] = true
		return err
	})
}

// eachRow reads the next result of a batch, calling scan on each of its rows.
func eachRow(br pgx.BatchResults, scan func(pgx.Rows) error) error {
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func nullDate(d civil.Date) any {
	if d.IsZero() {
		return nil
	}
	return d.Time()
}

// UpsertProject applies a project replica when its version is newer than the stored one; its
// tasks are replaced.
func (s *Store) UpsertProject(ctx context.Context, p te.Project) error {
	q := s.Q(ctx)
	tag, err := q.Exec(ctx, `INSERT INTO projects AS p (id, status, legal_entity_id, currency_code, start_date, end_date, version)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, legal_entity_id = EXCLUDED.legal_entity_id,
			currency_code = EXCLUDED.currency_code, start_date = EXCLUDED.start_date, end_date = EXCLUDED.end_date,
			version = EXCLUDED.version
		WHERE p.version < EXCLUDED.version`, p.ID, p.Status, p.LegalEntityID, p.Currency, nullDate(p.Start), nullDate(p.End), p.Version)
	if err != nil || tag.RowsAffected() == 0 {
		return err
	}
	ids := make([]string, 0, len(p.Tasks))
	billable := make([]bool, 0, len(p.Tasks))
	for id, b := range p.Tasks {
		ids, billable = append(ids, id), append(billable, b)
	}
	if _, err := q.Exec(ctx, `DELETE FROM project_tasks WHERE project_id = $1 AND NOT (id = ANY($2::uuid[]))`, p.ID, ids); err != nil {
		return err
	}
	_, err = q.Exec(ctx, `INSERT INTO project_tasks (id, project_id, billable) SELECT t, $1, b FROM unnest($2::uuid[], $3::bool[]) AS x(t, b)
		ON CONFLICT (id) DO UPDATE SET project_id = EXCLUDED.project_id, billable = EXCLUDED.billable`, p.ID, ids, billable)
	return err
}

// UpsertLegalEntity applies a legal entity's closed-period policy when its version is newer.
func (s *Store) UpsertLegalEntity(ctx context.Context, le te.LegalEntity) error {
	_, err := s.Q(ctx).Exec(ctx, `INSERT INTO legal_entities AS l (id, closed_period_policy, version) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET closed_period_policy = EXCLUDED.closed_period_policy, version = EXCLUDED.version
		WHERE l.version < EXCLUDED.version`, le.ID, string(le.Policy), le.Version)
	return err
}

// UpsertPeriod applies a period's status unless a later change is already stored.
func (s *Store) UpsertPeriod(ctx context.Context, p te.Period) error {
	_, err := s.Q(ctx).Exec(ctx, `INSERT INTO periods AS p (legal_entity_id, period, status, changed_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (legal_entity_id, period) DO UPDATE SET status = EXCLUDED.status, changed_at = EXCLUDED.changed_at
		WHERE p.changed_at < EXCLUDED.changed_at`, p.Key.LegalEntityID, p.Key.Period, p.Status, p.ChangedAt)
	return err
}
