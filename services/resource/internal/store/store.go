// Package store keeps the resource service's data in Postgres; only it knows SQL and pgx.
package store

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/resource/internal/resource"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations returns the service's migration files.
func Migrations() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations")
	return sub
}

// RefsConstraint is the unique constraint on external references.
const RefsConstraint = "resource_external_refs_pkey"

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

// GetResource returns a resource with its references (locked when forUpdate).
func GetResource(ctx context.Context, q pg.Querier, id string, forUpdate bool) (resource.Resource, error) {
	sql := `SELECT ` + resourceColumns + ` FROM resources WHERE id = $1`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	r, err := scanResource(q.QueryRow(ctx, sql, id))
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
func ResourceByRef(ctx context.Context, q pg.Querier, refs []resource.ExternalRef) (string, bool, error) {
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

// ListResources returns resources by id after afterID.
func ListResources(ctx context.Context, q pg.Querier, afterID string, limit int) ([]resource.Resource, error) {
	var after *string
	if afterID != "" {
		after = &afterID
	}
	rows, err := q.Query(ctx, `SELECT `+resourceColumns+` FROM resources WHERE ($1::uuid IS NULL OR id > $1::uuid) ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (resource.Resource, error) { return scanResource(r) })
}

// SaveResource inserts (version 1) or updates a resource and adds missing references.
func SaveResource(ctx context.Context, q pg.Querier, r resource.Resource, newRefs []resource.ExternalRef) error {
	var err error
	if r.Version == 1 {
		_, err = q.Exec(ctx, `INSERT INTO resources (id, kind, name, email, home_legal_entity, location, role, weekly_capacity,
			utilization_target, active, content_hash, version, source_version, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			r.ID, string(r.Kind), r.Name, r.Email, r.HomeLegalEntity, r.Location, r.Role, r.WeeklyCapacity, r.UtilizationTarget,
			r.Active, r.Hash(), r.Version, r.SourceVersion, r.UpdatedAt)
	} else {
		_, err = q.Exec(ctx, `UPDATE resources SET kind = $2, name = $3, email = $4, home_legal_entity = $5, location = $6, role = $7,
			weekly_capacity = $8, utilization_target = $9, active = $10, content_hash = $11, version = $12, source_version = $13,
			updated_at = $14 WHERE id = $1`,
			r.ID, string(r.Kind), r.Name, r.Email, r.HomeLegalEntity, r.Location, r.Role, r.WeeklyCapacity, r.UtilizationTarget,
			r.Active, r.Hash(), r.Version, r.SourceVersion, r.UpdatedAt)
	}
	if err != nil {
		return err
	}
	for _, ref := range newRefs {
		if _, err := q.Exec(ctx, `INSERT INTO resource_external_refs (system, object_type, external_id, resource_id) VALUES ($1, $2, $3, $4)`,
			ref.System, ref.ObjectType, ref.ExternalID, r.ID); err != nil {
			return err
		}
	}
	return nil
}

// SetSourceVersion records the newest source version applied (even when the content was the same).
func SetSourceVersion(ctx context.Context, q pg.Querier, id string, v int64) error {
	_, err := q.Exec(ctx, `UPDATE resources SET source_version = $2 WHERE id = $1 AND source_version < $2`, id, v)
	return err
}

// CurrentRates returns the resource's current cost-rate timeline, ordered by start.
func CurrentRates(ctx context.Context, q pg.Querier, resourceID string) (resource.Timeline, error) {
	rows, err := q.Query(ctx, `SELECT id, rate, currency_code, effective_from, effective_to, reason, recorded_at FROM cost_rates
		WHERE resource_id = $1 AND superseded_at IS NULL ORDER BY effective_from`, resourceID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (resource.Rate, error) {
		var r resource.Rate
		var from time.Time
		var to *time.Time
		err := row.Scan(&r.ID, &r.Rate.Value, &r.Rate.Currency, &from, &to, &r.Reason, &r.RecordedAt)
		r.From = civil.Of(from)
		if to != nil {
			r.To = civil.Of(*to)
		}
		return r, err
	})
}

// HistoricRate is a superseded cost-rate period.
type HistoricRate struct {
	resource.Rate
	SupersededAt time.Time
}

// RateHistory returns the superseded periods, newest first.
func RateHistory(ctx context.Context, q pg.Querier, resourceID string) ([]HistoricRate, error) {
	rows, err := q.Query(ctx, `SELECT id, rate, currency_code, effective_from, effective_to, reason, recorded_at, superseded_at
		FROM cost_rates WHERE resource_id = $1 AND superseded_at IS NOT NULL ORDER BY superseded_at DESC, effective_from`, resourceID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (HistoricRate, error) {
		var h HistoricRate
		var from time.Time
		var to *time.Time
		err := row.Scan(&h.ID, &h.Rate.Rate.Value, &h.Rate.Rate.Currency, &from, &to, &h.Reason, &h.RecordedAt, &h.SupersededAt)
		h.From = civil.Of(from)
		if to != nil {
			h.To = civil.Of(*to)
		}
		return h, err
	})
}

// ApplyRates supersedes the stored periods in superseded and inserts the periods of next that are
// not stored yet (ID 0). It bumps and returns the resource's rates version.
func ApplyRates(ctx context.Context, q pg.Querier, resourceID string, superseded []int64, next resource.Timeline, now time.Time) (int64, error) {
	if len(superseded) > 0 {
		if _, err := q.Exec(ctx, `UPDATE cost_rates SET superseded_at = $2 WHERE id = ANY($1) AND superseded_at IS NULL`, superseded, now); err != nil {
			return 0, err
		}
	}
	for _, r := range next {
		if r.ID != 0 {
			continue
		}
		var to *time.Time
		if !r.To.IsZero() {
			t := r.To.Time()
			to = &t
		}
		if _, err := q.Exec(ctx, `INSERT INTO cost_rates (resource_id, rate, currency_code, effective_from, effective_to, reason, recorded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, resourceID, r.Rate.Value, r.Rate.Currency, r.From.Time(), to, r.Reason, now); err != nil {
			return 0, err
		}
	}
	var v int64
	err := q.QueryRow(ctx, `UPDATE resources SET rates_version = rates_version + 1 WHERE id = $1 RETURNING rates_version`, resourceID).Scan(&v)
	return v, err
}

// ProjectView returns the replica of a project.
func ProjectView(ctx context.Context, q pg.Querier, id string) (resource.ProjectView, bool, error) {
	var p resource.ProjectView
	var start, end time.Time
	err := q.QueryRow(ctx, `SELECT id::text, status, start_date, end_date FROM projects WHERE id = $1`, id).Scan(&p.ID, &p.Status, &start, &end)
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

// UpsertProjectView applies a project replica when version is newer; tasks are replaced.
func UpsertProjectView(ctx context.Context, q pg.Querier, p resource.ProjectView, version int64) error {
	tag, err := q.Exec(ctx, `INSERT INTO projects AS p (id, status, start_date, end_date, version) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, start_date = EXCLUDED.start_date, end_date = EXCLUDED.end_date,
			version = EXCLUDED.version WHERE p.version < EXCLUDED.version`, p.ID, p.Status, p.Start.Time(), p.End.Time(), version)
	if err != nil || tag.RowsAffected() == 0 {
		return err
	}
	ids := make([]string, 0, len(p.Tasks))
	billable := make([]bool, 0, len(p.Tasks))
	for id, b := range p.Tasks {
		ids, billable = append(ids, id), append(billable, b)
	}
	if _, err := q.Exec(ctx, `INSERT INTO project_tasks (id, project_id, billable) SELECT t, $1, b FROM unnest($2::uuid[], $3::bool[]) AS x(t, b)
		ON CONFLICT (id) DO UPDATE SET billable = EXCLUDED.billable`, p.ID, ids, billable); err != nil {
		return err
	}
	return nil
}

type planJSON struct {
	Segments []segJSON    `json:"segments"`
	Periods  []periodJSON `json:"periods"`
	Missing  []string     `json:"missing,omitempty"`
	Currency string       `json:"currency,omitempty"`
}

type segJSON struct {
	From        string          `json:"from"`
	To          string          `json:"to"`
	HoursPerDay decimal.Decimal `json:"hours_per_day"`
}

type periodJSON struct {
	Start string           `json:"start"`
	End   string           `json:"end"`
	Hours decimal.Decimal  `json:"hours"`
	Cost  *decimal.Decimal `json:"cost,omitempty"`
}

func encodePlan(a resource.Assignment) ([]byte, error) {
	p := planJSON{}
	for _, s := range a.Segments {
		p.Segments = append(p.Segments, segJSON{From: s.From.String(), To: s.To.String(), HoursPerDay: s.HoursPerDay})
	}
	for _, pr := range a.Plan.Periods {
		pj := periodJSON{Start: pr.Start.String(), End: pr.End.String(), Hours: pr.Hours}
		if pr.Cost != nil {
			pj.Cost = &pr.Cost.Value
			p.Currency = pr.Cost.Currency
		}
		p.Periods = append(p.Periods, pj)
	}
	for _, d := range a.Plan.Missing {
		p.Missing = append(p.Missing, d.String())
	}
	return json.Marshal(p)
}

func decodePlan(b []byte, a *resource.Assignment) error {
	var p planJSON
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	parse := func(s string) civil.Date { d, _ := civil.Parse(s); return d }
	for _, s := range p.Segments {
		a.Segments = append(a.Segments, resource.Segment{From: parse(s.From), To: parse(s.To), HoursPerDay: s.HoursPerDay})
	}
	for _, pj := range p.Periods {
		pr := resource.Period{Start: parse(pj.Start), End: parse(pj.End), Hours: pj.Hours}
		if pj.Cost != nil {
			pr.Cost = &money.Amount{Value: *pj.Cost, Currency: p.Currency}
		}
		a.Plan.Periods = append(a.Plan.Periods, pr)
	}
	for _, d := range p.Missing {
		a.Plan.Missing = append(a.Plan.Missing, parse(d))
	}
	return nil
}

const assignmentColumns = `id::text, resource_id::text, project_id::text, task_id::text, role, start_date, end_date,
	hours_per_week, total_hours, status, plan, planned_hours, planned_cost, version, updated_at`

func scanAssignment(row pgx.Row, currency *string) (resource.Assignment, error) {
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

// GetAssignment returns an assignment (locked when forUpdate).
func GetAssignment(ctx context.Context, q pg.Querier, id string, forUpdate bool) (resource.Assignment, error) {
	sql := `SELECT ` + assignmentColumns + ` FROM assignments WHERE id = $1`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	a, err := scanAssignment(q.QueryRow(ctx, sql, id), nil)
	return a, pg.NotFound(err, resource.ErrAssignmentNotFound)
}

// AssignmentFilter selects assignments.
type AssignmentFilter struct {
	ProjectID, ResourceID string
	RateMissingOnly       bool
	ActiveOnly            bool
	// Overlapping keeps assignments whose dates meet [From, To] (when From is set).
	From, To civil.Date
	AfterID  string
	Limit    int
}

// ListAssignments returns assignments by id.
func ListAssignments(ctx context.Context, q pg.Querier, f AssignmentFilter) ([]resource.Assignment, error) {
	if f.Limit == 0 {
		f.Limit = 10000
	}
	var from, to *time.Time
	if !f.From.IsZero() {
		a, b := f.From.Time(), f.To.Time()
		from, to = &a, &b
	}
	rows, err := q.Query(ctx, `SELECT `+assignmentColumns+` FROM assignments
		WHERE ($1 = '' OR project_id = $1::uuid) AND ($2 = '' OR resource_id = $2::uuid) AND (NOT $3 OR rate_missing)
		  AND (NOT $4 OR status <> 'CANCELLED') AND ($5::date IS NULL OR (start_date <= $6 AND end_date >= $5))
		  AND ($7 = '' OR id > $7::uuid)
		ORDER BY id LIMIT $8`, f.ProjectID, f.ResourceID, f.RateMissingOnly, f.ActiveOnly, from, to, f.AfterID, f.Limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (resource.Assignment, error) { return scanAssignment(r, nil) })
}

// CountAssignments counts assignments matching f (ignoring paging).
func CountAssignments(ctx context.Context, q pg.Querier, f AssignmentFilter) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, `SELECT count(*) FROM assignments WHERE ($1 = '' OR project_id = $1::uuid) AND ($2 = '' OR resource_id = $2::uuid)
		AND (NOT $3 OR rate_missing)`, f.ProjectID, f.ResourceID, f.RateMissingOnly).Scan(&n)
	return n, err
}

// SaveAssignment inserts (version 1) or updates an assignment with its costed plan.
func SaveAssignment(ctx context.Context, q pg.Querier, a resource.Assignment) error {
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
		_, err = q.Exec(ctx, `INSERT INTO assignments (id, resource_id, project_id, task_id, role, start_date, end_date, hours_per_week,
			total_hours, status, plan, planned_hours, planned_cost, rate_missing, version, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
			a.ID, a.ResourceID, a.ProjectID, a.TaskID, a.Role, a.Start.Time(), a.End.Time(), a.HoursPerWeek, a.TotalHours,
			string(a.Status), plan, a.Plan.Hours, cost, missing, a.Version, a.UpdatedAt)
		return err
	}
	_, err = q.Exec(ctx, `UPDATE assignments SET project_id = $2, task_id = $3, role = $4, start_date = $5, end_date = $6,
		hours_per_week = $7, total_hours = $8, status = $9, plan = $10, planned_hours = $11, planned_cost = $12,
		rate_missing = $13, version = $14, updated_at = $15 WHERE id = $1`,
		a.ID, a.ProjectID, a.TaskID, a.Role, a.Start.Time(), a.End.Time(), a.HoursPerWeek, a.TotalHours, string(a.Status),
		plan, a.Plan.Hours, cost, missing, a.Version, a.UpdatedAt)
	return err
}

// CountRateMissing counts non-cancelled assignments lacking a cost rate (the KPI).
func CountRateMissing(ctx context.Context, q pg.Querier) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, `SELECT count(*) FROM assignments WHERE rate_missing AND status <> 'CANCELLED'`).Scan(&n)
	return n, err
}

// ActualBillableHours returns approved billable hours per month ("YYYY-MM") of [from, to].
func ActualBillableHours(ctx context.Context, q pg.Querier, resourceID string, from, to civil.Date) (map[string]decimal.Decimal, error) {
	rows, err := q.Query(ctx, `SELECT to_char(work_date, 'YYYY-MM'), sum(billable_hours) FROM time_actuals
		WHERE resource_id = $1 AND work_date BETWEEN $2 AND $3 GROUP BY 1`, resourceID, from.Time(), to.Time())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]decimal.Decimal{}
	for rows.Next() {
		var m string
		var h decimal.Decimal
		if err := rows.Scan(&m, &h); err != nil {
			return nil, err
		}
		out[m] = h
	}
	return out, rows.Err()
}

// DayKey is a resource's day.
type DayKey struct {
	ResourceID string
	Date       civil.Date
}

// DayHours are posted hours of a day.
type DayHours struct {
	Total, Billable decimal.Decimal
}

// AddTimeActuals adds posted hours per resource and day, in one statement.
func AddTimeActuals(ctx context.Context, q pg.Querier, days map[DayKey]*DayHours) error {
	if len(days) == 0 {
		return nil
	}
	var ids []string
	var dates []time.Time
	var total, billable []decimal.Decimal
	for k, h := range days {
		ids, dates, total, billable = append(ids, k.ResourceID), append(dates, k.Date.Time()), append(total, h.Total), append(billable, h.Billable)
	}
	_, err := q.Exec(ctx, `INSERT INTO time_actuals AS a (resource_id, work_date, total_hours, billable_hours)
		SELECT * FROM unnest($1::uuid[], $2::date[], $3::numeric[], $4::numeric[])
		ON CONFLICT (resource_id, work_date) DO UPDATE SET total_hours = a.total_hours + EXCLUDED.total_hours,
			billable_hours = a.billable_hours + EXCLUDED.billable_hours`, ids, dates, total, billable)
	return err
}
