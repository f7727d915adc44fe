package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/project/internal/project"
)

const projectColumns = `id::text, name, customer_id::text, COALESCE(contract_id::text, ''), legal_entity_id::text,
	currency_code, start_date, end_date, manager_id, manager_name, budget_hours, budget_cost, budget_revenue,
	status, source_system, source_object_type, source_id, version, created_at, updated_at`

func scanProject(row pgx.Row) (project.Project, error) {
	var p project.Project
	var start, end time.Time
	var hours, cost, revenue *decimal.Decimal
	var status string
	err := row.Scan(&p.ID, &p.Name, &p.CustomerID, &p.ContractID, &p.LegalEntityID, &p.Currency, &start, &end,
		&p.ManagerID, &p.ManagerName, &hours, &cost, &revenue, &status, &p.Source.System, &p.Source.ObjectType,
		&p.Source.ExternalID, &p.Version, &p.CreatedAt, &p.UpdatedAt)
	if err != nil {
		return p, err
	}
	p.Start, p.End, p.Status = civil.Of(start), civil.Of(end), project.Status(status)
	p.Budget = budgetOf(p.Currency, hours, cost, revenue)
	return p, nil
}

// budgetOf is the budget of the stored columns (nil: not budgeted).
func budgetOf(currency string, hours, cost, revenue *decimal.Decimal) project.Budget {
	b := project.Budget{Hours: hours}
	if cost != nil {
		b.Cost = &money.Amount{Value: *cost, Currency: currency}
	}
	if revenue != nil {
		b.Revenue = &money.Amount{Value: *revenue, Currency: currency}
	}
	return b
}

func budgetValues(b project.Budget) (hours, cost, revenue *decimal.Decimal) {
	hours = b.Hours
	if b.Cost != nil {
		cost = &b.Cost.Value
	}
	if b.Revenue != nil {
		revenue = &b.Revenue.Value
	}
	return
}

// GetProject returns a project with its tasks (project.ErrNotFound when there is none).
func (s *Store) GetProject(ctx context.Context, id string) (project.Project, error) {
	return s.project(ctx, id, false)
}

// LockProject is GetProject that locks the project's row until the transaction ends.
func (s *Store) LockProject(ctx context.Context, id string) (project.Project, error) {
	return s.project(ctx, id, true)
}

func (s *Store) project(ctx context.Context, id string, forUpdate bool) (project.Project, error) {
	q := s.Q(ctx)
	sql := `SELECT ` + projectColumns + ` FROM projects WHERE id = $1`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	p, err := scanProject(q.QueryRow(ctx, sql, id))
	if err != nil {
		return p, pg.NotFound(err, project.ErrNotFound)
	}
	rows, err := q.Query(ctx, `SELECT id::text, COALESCE(parent_task_id::text, ''), wbs_code, name, billable, contract_line_key,
		service_line FROM tasks WHERE project_id = $1 ORDER BY string_to_array(wbs_code, '.')::int[]`, id)
	if err != nil {
		return p, err
	}
	p.Tasks, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (project.Task, error) {
		var t project.Task
		err := r.Scan(&t.ID, &t.ParentID, &t.WBS, &t.Name, &t.Billable, &t.ContractLineKey, &t.ServiceLine)
		return t, err
	})
	return p, err
}

// ListProjects returns up to limit projects (without tasks) by id after afterID, optionally
// filtered by status and customer, and the total matching count.
func (s *Store) ListProjects(ctx context.Context, status project.Status, customerID, afterID string, limit int, only []string) ([]project.Project, int64, error) {
	q := s.Q(ctx)
	rows, err := q.Query(ctx, `SELECT `+projectColumns+` FROM projects
		WHERE ($1 = '' OR status = $1) AND ($2::uuid IS NULL OR customer_id = $2::uuid) AND ($3::uuid IS NULL OR id > $3::uuid)
		  AND ($5::text[] IS NULL OR legal_entity_id::text = ANY($5::text[]))
		ORDER BY id LIMIT $4`, string(status), nullable(customerID), nullable(afterID), limit, only)
	if err != nil {
		return nil, 0, err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (project.Project, error) { return scanProject(r) })
	if err != nil {
		return nil, 0, err
	}
	var total int64
	err = q.QueryRow(ctx, `SELECT count(*) FROM projects WHERE ($1 = '' OR status = $1) AND ($2::uuid IS NULL OR customer_id = $2::uuid)
		AND ($3::text[] IS NULL OR legal_entity_id::text = ANY($3::text[]))`,
		string(status), nullable(customerID), only).Scan(&total)
	return list, total, err
}

// CountByStatus returns the number of projects in status.
func (s *Store) CountByStatus(ctx context.Context, status project.Status) (int64, error) {
	var n int64
	err := s.Q(ctx).QueryRow(ctx, `SELECT count(*) FROM projects WHERE status = $1`, string(status)).Scan(&n)
	return n, err
}

// CreateProject writes a new project with its tasks, events and audit records in one round trip.
func (s *Store) CreateProject(ctx context.Context, p project.Project, events []outbox.Event, records []audit.Record) error {
	var b pg.Batch
	if err := s.queueCreateProject(ctx, &b, p, events, records); err != nil {
		return err
	}
	return b.Run(ctx, s.Q(ctx))
}

// queueCreateProject adds the insert of a new project, its tasks, events and audit records to b.
func (s *Store) queueCreateProject(ctx context.Context, b *pg.Batch, p project.Project, events []outbox.Event, records []audit.Record) error {
	hours, cost, revenue := budgetValues(p.Budget)
	b.Queue(`INSERT INTO projects (id, name, customer_id, contract_id, legal_entity_id, currency_code, start_date,
		end_date, manager_id, manager_name, budget_hours, budget_cost, budget_revenue, status, source_system,
		source_object_type, source_id, version, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19)`,
		p.ID, p.Name, p.CustomerID, nullable(p.ContractID), p.LegalEntityID, p.Currency, p.Start.Time(), p.End.Time(),
		p.ManagerID, p.ManagerName, hours, cost, revenue, string(p.Status), p.Source.System, p.Source.ObjectType,
		p.Source.ExternalID, p.Version, p.CreatedAt)
	queueInsertTasks(b, p.ID, p.Tasks)
	if _, err := s.Outbox.Queue(ctx, b, events...); err != nil {
		return err
	}
	return audit.Queue(ctx, b, records...)
}

// InsertTasks adds tasks to a project.
func (s *Store) InsertTasks(ctx context.Context, projectID string, tasks []project.Task) error {
	var b pg.Batch
	queueInsertTasks(&b, projectID, tasks)
	return b.Run(ctx, s.Q(ctx))
}

// queueInsertTasks adds the insert of tasks (one statement; a task may name a parent inserted by
// the same statement) to b.
func queueInsertTasks(b *pg.Batch, projectID string, tasks []project.Task) {
	if len(tasks) == 0 {
		return
	}
	n := len(tasks)
	ids, parents, wbs, names, lines, services := make([]string, n), make([]*string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	billable := make([]bool, n)
	for i, t := range tasks {
		ids[i], parents[i], wbs[i], names[i], billable[i], lines[i], services[i] = t.ID, nullable(t.ParentID), t.WBS, t.Name, t.Billable, t.ContractLineKey, t.ServiceLine
	}
	b.Queue(`INSERT INTO tasks (id, project_id, parent_task_id, wbs_code, name, billable, contract_line_key, service_line)
		SELECT id, $1, parent, wbs, name, billable, line, service
		FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::bool[], $7::text[], $8::text[])
			AS t(id, parent, wbs, name, billable, line, service)`,
		projectID, ids, parents, wbs, names, billable, lines, services)
}

// UpdateProject stores the project's header fields (not its tasks).
func (s *Store) UpdateProject(ctx context.Context, p project.Project) error {
	hours, cost, revenue := budgetValues(p.Budget)
	_, err := s.Q(ctx).Exec(ctx, `UPDATE projects SET name = $2, customer_id = $3, contract_id = $4, legal_entity_id = $5,
		currency_code = $6, start_date = $7, end_date = $8, manager_id = $9, manager_name = $10, budget_hours = $11,
		budget_cost = $12, budget_revenue = $13, status = $14, version = $15, updated_at = $16 WHERE id = $1`,
		p.ID, p.Name, p.CustomerID, nullable(p.ContractID), p.LegalEntityID, p.Currency, p.Start.Time(), p.End.Time(),
		p.ManagerID, p.ManagerName, hours, cost, revenue, string(p.Status), p.Version, p.UpdatedAt)
	return err
}
