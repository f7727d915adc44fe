package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
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
	p.Budget.Hours = hours
	if cost != nil {
		p.Budget.Cost = &money.Amount{Value: *cost, Currency: p.Currency}
	}
	if revenue != nil {
		p.Budget.Revenue = &money.Amount{Value: *revenue, Currency: p.Currency}
	}
	return p, nil
}

// GetProject returns a project with its tasks (locked when forUpdate).
func GetProject(ctx context.Context, q pg.Querier, id string, forUpdate bool) (project.Project, error) {
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

// ListProjects returns projects (without tasks) by id after afterID, optionally filtered, and
// the total matching count.
func ListProjects(ctx context.Context, q pg.Querier, status project.Status, customerID, afterID string, limit int) ([]project.Project, int64, error) {
	var after, cust *string
	if afterID != "" {
		after = &afterID
	}
	if customerID != "" {
		cust = &customerID
	}
	rows, err := q.Query(ctx, `SELECT `+projectColumns+` FROM projects
		WHERE ($1 = '' OR status = $1) AND ($2::uuid IS NULL OR customer_id = $2::uuid) AND ($3::uuid IS NULL OR id > $3::uuid)
		ORDER BY id LIMIT $4`, string(status), cust, after, limit)
	if err != nil {
		return nil, 0, err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (project.Project, error) { return scanProject(r) })
	if err != nil {
		return nil, 0, err
	}
	var total int64
	err = q.QueryRow(ctx, `SELECT count(*) FROM projects WHERE ($1 = '' OR status = $1) AND ($2::uuid IS NULL OR customer_id = $2::uuid)`,
		string(status), cust).Scan(&total)
	return list, total, err
}

// CountByStatus returns the number of projects in status.
func CountByStatus(ctx context.Context, q pg.Querier, status project.Status) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, `SELECT count(*) FROM projects WHERE status = $1`, string(status)).Scan(&n)
	return n, err
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
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

// InsertProject stores a new project and its tasks.
func InsertProject(ctx context.Context, q pg.Querier, p project.Project) error {
	var b pg.Batch
	QueueInsertProject(&b, p)
	return b.Run(ctx, q)
}

// QueueInsertProject adds the insert of a new project and its tasks to b.
func QueueInsertProject(b *pg.Batch, p project.Project) {
	hours, cost, revenue := budgetValues(p.Budget)
	b.Queue(`INSERT INTO projects (id, name, customer_id, contract_id, legal_entity_id, currency_code, start_date,
		end_date, manager_id, manager_name, budget_hours, budget_cost, budget_revenue, status, source_system,
		source_object_type, source_id, version, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19)`,
		p.ID, p.Name, p.CustomerID, nullable(p.ContractID), p.LegalEntityID, p.Currency, p.Start.Time(), p.End.Time(),
		p.ManagerID, p.ManagerName, hours, cost, revenue, string(p.Status), p.Source.System, p.Source.ObjectType,
		p.Source.ExternalID, p.Version, p.CreatedAt)
	QueueInsertTasks(b, p.ID, p.Tasks)
}

// InsertTasks adds tasks to a project.
func InsertTasks(ctx context.Context, q pg.Querier, projectID string, tasks []project.Task) error {
	var b pg.Batch
	QueueInsertTasks(&b, projectID, tasks)
	return b.Run(ctx, q)
}

// QueueInsertTasks adds the insert of tasks (one statement; a task may name a parent inserted by
// the same statement) to b.
func QueueInsertTasks(b *pg.Batch, projectID string, tasks []project.Task) {
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
func UpdateProject(ctx context.Context, q pg.Querier, p project.Project) error {
	hours, cost, revenue := budgetValues(p.Budget)
	_, err := q.Exec(ctx, `UPDATE projects SET name = $2, customer_id = $3, contract_id = $4, legal_entity_id = $5,
		currency_code = $6, start_date = $7, end_date = $8, manager_id = $9, manager_name = $10, budget_hours = $11,
		budget_cost = $12, budget_revenue = $13, status = $14, version = $15, updated_at = $16 WHERE id = $1`,
		p.ID, p.Name, p.CustomerID, nullable(p.ContractID), p.LegalEntityID, p.Currency, p.Start.Time(), p.End.Time(),
		p.ManagerID, p.ManagerName, hours, cost, revenue, string(p.Status), p.Version, p.UpdatedAt)
	return err
}

const selectTemplates = `SELECT service_line, name, tasks FROM project_templates
	WHERE cardinality($1::text[]) = 0 OR service_line = ANY($1) ORDER BY service_line`

// GetTemplates returns the templates of the given service lines (all when none given).
func GetTemplates(ctx context.Context, q pg.Querier, lines ...string) (map[string]project.Template, error) {
	rows, err := q.Query(ctx, selectTemplates, lines)
	if err != nil {
		return nil, err
	}
	return scanTemplates(rows)
}

func scanTemplates(rows pgx.Rows) (map[string]project.Template, error) {
	defer rows.Close()
	out := map[string]project.Template{}
	for rows.Next() {
		var t project.Template
		var tasks []byte
		if err := rows.Scan(&t.ServiceLine, &t.Name, &tasks); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(tasks, &t.Tasks); err != nil {
			return nil, err
		}
		out[t.ServiceLine] = t
	}
	return out, rows.Err()
}

// PutTemplate creates or replaces a template.
func PutTemplate(ctx context.Context, q pg.Querier, t project.Template) error {
	tasks, err := json.Marshal(t.Tasks)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `INSERT INTO project_templates (service_line, name, tasks) VALUES ($1, $2, $3)
		ON CONFLICT (service_line) DO UPDATE SET name = EXCLUDED.name, tasks = EXCLUDED.tasks, updated_at = now()`,
		t.ServiceLine, t.Name, tasks)
	return err
}

// LegalEntity is the replica of a legal entity.
type LegalEntity struct {
	ID                 string
	Code               string
	FunctionalCurrency string
	Policy             string
	Version            int64
}

// ErrUnknownLegalEntity is returned when the replica has no legal entity with the code.
var ErrUnknownLegalEntity = fault.New(fault.FailedPrecondition, project.ReasonUnknownLegalEntity, "no legal entity with that code")

const selectLegalEntity = `SELECT legal_entity_id::text, code, functional_currency, closed_period_policy, version
	FROM legal_entities WHERE code = $1`

// LegalEntityByCode returns the replica of the legal entity with code.
func LegalEntityByCode(ctx context.Context, q pg.Querier, code string) (LegalEntity, error) {
	return scanLegalEntity(q.QueryRow(ctx, selectLegalEntity, code), code)
}

func scanLegalEntity(row pgx.Row, code string) (LegalEntity, error) {
	var le LegalEntity
	err := row.Scan(&le.ID, &le.Code, &le.FunctionalCurrency, &le.Policy, &le.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		return le, ErrUnknownLegalEntity.With("no legal entity has code "+code, "legal_entity_code", code)
	}
	return le, err
}

// UpsertLegalEntity applies a replica row when its version is newer.
func UpsertLegalEntity(ctx context.Context, q pg.Querier, le LegalEntity) error {
	_, err := q.Exec(ctx, `INSERT INTO legal_entities AS l (legal_entity_id, code, functional_currency, closed_period_policy, version)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (legal_entity_id) DO UPDATE SET code = EXCLUDED.code, functional_currency = EXCLUDED.functional_currency,
			closed_period_policy = EXCLUDED.closed_period_policy, version = EXCLUDED.version, updated_at = now()
		WHERE l.version < EXCLUDED.version`, le.ID, le.Code, le.FunctionalCurrency, le.Policy, le.Version)
	return err
}
