package store

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/resource/internal/resource"
)

const assignmentColumns = `id::text, resource_id::text, project_id::text, task_id::text, role, start_date, end_date,
	hours_per_week, total_hours, status, plan, planned_hours, planned_cost, version, updated_at`

func scanAssignment(row pgx.Row) (resource.Assignment, error) {
	var a resource.Assignment
	var start, end time.Time
	var status string
	var plan []byte
	var cost *decimal.Decimal
	err := row.Scan(&a.ID, &a.ResourceID, &a.ProjectID, &a.TaskID, &a.Role, &start, &end, &a.HoursPerWeek, &a.TotalHours,
		&status, &plan, &a.Plan.Hours, &cost, &a.Version, &a.UpdatedAt)
	if err != nil {
		return a, err
	}
	a.Start, a.End, a.Status = civil.Of(start), civil.Of(end), resource.Status(status)
	if err := decodePlan(plan, &a); err != nil {
		return a, err
	}
	if cost != nil {
		cur := ""
		for _, p := range a.Plan.Periods {
			if p.Cost != nil {
				cur = p.Cost.Currency
			}
		}
		a.Plan.Cost = &money.Amount{Value: *cost, Currency: cur}
	}
	return a, nil
}

// GetAssignment returns an assignment; resource.ErrAssignmentNotFound when absent.
func (s *Store) GetAssignment(ctx context.Context, id string) (resource.Assignment, error) {
	return s.getAssignment(ctx, id, false)
}

// GetAssignmentForUpdate is GetAssignment, locking the assignment until the transaction ends.
func (s *Store) GetAssignmentForUpdate(ctx context.Context, id string) (resource.Assignment, error) {
	return s.getAssignment(ctx, id, true)
}

func (s *Store) getAssignment(ctx context.Context, id string, forUpdate bool) (resource.Assignment, error) {
	a, err := scanAssignment(s.Q(ctx).QueryRow(ctx, `SELECT `+assignmentColumns+` FROM assignments WHERE id = $1`+lockFor(forUpdate), id))
	return a, pg.NotFound(err, resource.ErrAssignmentNotFound)
}

// ListAssignments returns the assignments f selects, in id order (at most 10000 without a limit).
func (s *Store) ListAssignments(ctx context.Context, f resource.AssignmentFilter) ([]resource.Assignment, error) {
	if f.Limit == 0 {
		f.Limit = 10000
	}
	var from, to *time.Time
	if !f.From.IsZero() {
		a, b := f.From.Time(), f.To.Time()
		from, to = &a, &b
	}
	rows, err := s.Q(ctx).Query(ctx, `SELECT `+assignmentColumns+` FROM assignments
		WHERE ($1 = '' OR project_id = $1::uuid) AND ($2 = '' OR resource_id = $2::uuid) AND (NOT $3 OR rate_missing)
		  AND (NOT $4 OR status <> 'CANCELLED') AND ($5::date IS NULL OR (start_date <= $6 AND end_date >= $5))
		  AND ($7 = '' OR id > $7::uuid) AND `+entitySQL(9)+`
		ORDER BY id LIMIT $8`, f.ProjectID, f.ResourceID, f.RateMissingOnly, f.ActiveOnly, from, to, f.AfterID, f.Limit, f.LegalEntities)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (resource.Assignment, error) { return scanAssignment(r) })
}

// entitySQL keeps the assignments of projects of the legal entities in parameter n (a text
// array; NULL means any), as the project replica records them.
func entitySQL(n int) string {
	p := "$" + strconv.Itoa(n) + "::text[]"
	return `(` + p + ` IS NULL OR EXISTS (SELECT 1 FROM projects p WHERE p.id = assignments.project_id AND p.legal_entity_id = ANY(` + p + `)))`
}

// CountAssignments counts the assignments of f's project and resource (rate-missing only when
// f says so), ignoring paging.
func (s *Store) CountAssignments(ctx context.Context, f resource.AssignmentFilter) (int64, error) {
	var n int64
	err := s.Q(ctx).QueryRow(ctx, `SELECT count(*) FROM assignments WHERE ($1 = '' OR project_id = $1::uuid) AND ($2 = '' OR resource_id = $2::uuid)
		AND (NOT $3 OR rate_missing) AND `+entitySQL(4), f.ProjectID, f.ResourceID, f.RateMissingOnly, f.LegalEntities).Scan(&n)
	return n, err
}

// SaveAssignment inserts (version 1) or updates an assignment with its costed plan.
func (s *Store) SaveAssignment(ctx context.Context, a resource.Assignment) error {
	plan, err := encodePlan(a)
	if err != nil {
		return err
	}
	var cost *decimal.Decimal
	if a.Plan.Cost != nil {
		cost = &a.Plan.Cost.Value
	}
	missing := len(a.Plan.Missing) > 0
	if a.Version == 1 {
		_, err = s.Q(ctx).Exec(ctx, `INSERT INTO assignments (id, resource_id, project_id, task_id, role, start_date, end_date, hours_per_week,
			total_hours, status, plan, planned_hours, planned_cost, rate_missing, version, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
			a.ID, a.ResourceID, a.ProjectID, a.TaskID, a.Role, a.Start.Time(), a.End.Time(), a.HoursPerWeek, a.TotalHours,
			string(a.Status), plan, a.Plan.Hours, cost, missing, a.Version, a.UpdatedAt)
		return err
	}
	_, err = s.Q(ctx).Exec(ctx, `UPDATE assignments SET project_id = $2, task_id = $3, role = $4, start_date = $5, end_date = $6,
		hours_per_week = $7, total_hours = $8, status = $9, plan = $10, planned_hours = $11, planned_cost = $12,
		rate_missing = $13, version = $14, updated_at = $15 WHERE id = $1`,
		a.ID, a.ProjectID, a.TaskID, a.Role, a.Start.Time(), a.End.Time(), a.HoursPerWeek, a.TotalHours, string(a.Status),
		plan, a.Plan.Hours, cost, missing, a.Version, a.UpdatedAt)
	return err
}

// CountRateMissing counts non-cancelled assignments lacking a cost rate (the KPI).
func (s *Store) CountRateMissing(ctx context.Context) (int64, error) {
	var n int64
	err := s.Q(ctx).QueryRow(ctx, `SELECT count(*) FROM assignments WHERE rate_missing AND status <> 'CANCELLED'`).Scan(&n)
	return n, err
}
