package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/project/internal/financials"
	"github.com/accrue/accrue/services/project/internal/project"
)

// ContractLine is a line of the contract replica.
type ContractLine struct {
	Key           string
	BillingMethod string
	Amount        decimal.Decimal
	Currency      string
	Rates         []financials.BillRate
}

// ApplyContract replaces the replica of a contract when version is newer; it reports whether it
// did.
func ApplyContract(ctx context.Context, q pg.Querier, contractID string, version int64, lines []ContractLine) (bool, error) {
	tag, err := q.Exec(ctx, `INSERT INTO contracts AS c (contract_id, version) VALUES ($1, $2)
		ON CONFLICT (contract_id) DO UPDATE SET version = EXCLUDED.version WHERE c.version < EXCLUDED.version`, contractID, version)
	if err != nil || tag.RowsAffected() == 0 {
		return false, err
	}
	if _, err := q.Exec(ctx, `DELETE FROM contract_rates WHERE contract_id = $1`, contractID); err != nil {
		return false, err
	}
	if _, err := q.Exec(ctx, `DELETE FROM contract_lines WHERE contract_id = $1`, contractID); err != nil {
		return false, err
	}
	b := &pgx.Batch{}
	for _, l := range lines {
		b.Queue(`INSERT INTO contract_lines (contract_id, line_key, billing_method, amount, currency_code) VALUES ($1, $2, $3, $4, $5)`,
			contractID, l.Key, l.BillingMethod, l.Amount, l.Currency)
		for _, r := range l.Rates {
			var to *time.Time
			if !r.To.IsZero() {
				t := r.To.Time()
				to = &t
			}
			b.Queue(`INSERT INTO contract_rates (contract_id, line_key, role, rate, effective_from, effective_to) VALUES ($1, $2, $3, $4, $5, $6)`,
				contractID, l.Key, r.Role, r.Rate, r.From.Time(), to)
		}
	}
	return true, q.SendBatch(ctx, b).Close()
}

// Plan is an assignment's staffing plan as the resource service published it.
type Plan struct {
	AssignmentID string
	ProjectID    string
	TaskID       string
	Role         string
	Status       string
	Segments     []Segment
	PlannedHours decimal.Decimal
	PlannedCost  *decimal.Decimal
	CostCurrency string
	CostMissing  bool
	Version      int64
	SourceTime   time.Time
}

// Segment is a run of working days with the same planned hours per day.
type Segment struct {
	From        civil.Date      `json:"-"`
	To          civil.Date      `json:"-"`
	FromS       string          `json:"from"`
	ToS         string          `json:"to"`
	HoursPerDay decimal.Decimal `json:"hours_per_day"`
}

// UpsertPlan stores a plan when its version is newer than the stored one; it reports whether it did.
func UpsertPlan(ctx context.Context, q pg.Querier, p Plan) (bool, error) {
	for i := range p.Segments {
		p.Segments[i].FromS, p.Segments[i].ToS = p.Segments[i].From.String(), p.Segments[i].To.String()
	}
	segs, err := json.Marshal(p.Segments)
	if err != nil {
		return false, err
	}
	tag, err := q.Exec(ctx, `INSERT INTO assignment_plans AS a (assignment_id, project_id, task_id, role, status, segments, planned_hours,
			planned_cost, cost_currency, cost_missing, version, source_time)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (assignment_id) DO UPDATE SET project_id = EXCLUDED.project_id, task_id = EXCLUDED.task_id, role = EXCLUDED.role,
			status = EXCLUDED.status, segments = EXCLUDED.segments, planned_hours = EXCLUDED.planned_hours,
			planned_cost = EXCLUDED.planned_cost, cost_currency = EXCLUDED.cost_currency, cost_missing = EXCLUDED.cost_missing,
			version = EXCLUDED.version, source_time = EXCLUDED.source_time, applied_at = clock_timestamp()
		WHERE a.version < EXCLUDED.version`,
		p.AssignmentID, p.ProjectID, p.TaskID, p.Role, p.Status, segs, p.PlannedHours, p.PlannedCost, p.CostCurrency, p.CostMissing,
		p.Version, p.SourceTime)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() > 0, nil
}

// PriceAssignment computes the billable hours and forecast revenue of one stored plan: hours on
// a billable task of a time-and-materials line, at the line's rate for the plan's role on each
// day. Hours on fixed-fee, milestone or retainer lines earn no hourly revenue (their line amount
// counts once per project).
func PriceAssignment(ctx context.Context, q pg.Querier, assignmentID string) error {
	var segs []byte
	var role, status, currency, contractID, lineKey, method string
	var billable bool
	err := q.QueryRow(ctx, `SELECT a.segments, a.role, a.status, p.currency_code, COALESCE(p.contract_id::text, ''),
			COALESCE(t.billable, false), COALESCE(t.contract_line_key, ''), COALESCE(l.billing_method, '')
		FROM assignment_plans a
		JOIN projects p ON p.id = a.project_id
		LEFT JOIN tasks t ON t.id = a.task_id
		LEFT JOIN contract_lines l ON l.contract_id = p.contract_id AND l.line_key = t.contract_line_key
		WHERE a.assignment_id = $1`, assignmentID).Scan(&segs, &role, &status, &currency, &contractID, &billable, &lineKey, &method)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // the project is not known here (yet): priced when it is
	}
	if err != nil {
		return err
	}
	days, err := planDays(segs)
	if err != nil {
		return err
	}
	hours := decimal.Zero
	revenue, missing := decimal.Zero, decimal.Zero
	if billable && status != "CANCELLED" {
		for _, d := range days {
			hours = hours.Add(d.Hours)
		}
		if method == "" || method == "TIME_AND_MATERIALS" {
			rates, err := lineRates(ctx, q, contractID, lineKey, role)
			if err != nil {
				return err
			}
			rev, miss := financials.Revenue(days, role, rates, currency)
			revenue, missing = rev.Value, miss
		}
	}
	_, err = q.Exec(ctx, `UPDATE assignment_plans SET billable_hours = $2, forecast_revenue = $3, bill_rate_missing_hours = $4
		WHERE assignment_id = $1`, assignmentID, hours, revenue, missing)
	return err
}

func planDays(segs []byte) ([]financials.Day, error) {
	var list []Segment
	if err := json.Unmarshal(segs, &list); err != nil {
		return nil, err
	}
	var days []financials.Day
	for _, s := range list {
		from, err := civil.Parse(s.FromS)
		if err != nil {
			return nil, err
		}
		to, err := civil.Parse(s.ToS)
		if err != nil {
			return nil, err
		}
		for _, d := range civil.Workdays(from, to) {
			days = append(days, financials.Day{Date: d, Hours: s.HoursPerDay})
		}
	}
	return days, nil
}

func lineRates(ctx context.Context, q pg.Querier, contractID, lineKey, role string) ([]financials.BillRate, error) {
	if contractID == "" {
		return nil, nil
	}
	rows, err := q.Query(ctx, `SELECT role, rate, effective_from, effective_to FROM contract_rates
		WHERE contract_id = $1 AND line_key = $2 AND role = $3`, contractID, lineKey, role)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (financials.BillRate, error) {
		var b financials.BillRate
		var from time.Time
		var to *time.Time
		err := r.Scan(&b.Role, &b.Rate, &from, &to)
		b.From = civil.Of(from)
		if to != nil {
			b.To = civil.Of(*to)
		}
		return b, err
	})
}

// PriceWhere re-prices every plan of the projects matching a condition: a project id or a
// contract id.
func PriceWhere(ctx context.Context, q pg.Querier, projectID, contractID string) error {
	rows, err := q.Query(ctx, `SELECT a.assignment_id::text FROM assignment_plans a JOIN projects p ON p.id = a.project_id
		WHERE ($1 = '' OR p.id = $1::uuid) AND ($2 = '' OR p.contract_id = $2::uuid)`, projectID, contractID)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := PriceAssignment(ctx, q, id); err != nil {
			return err
		}
	}
	return nil
}

// Financials is a project's economics.
type Financials struct {
	ProjectID, Name, Currency string
	Status                    project.Status
	Budget                    project.Budget
	PlannedHours              decimal.Decimal
	PlannedBillableHours      decimal.Decimal
	PlannedCost               decimal.Decimal
	ForecastRevenue           decimal.Decimal
	ActualHours               decimal.Decimal
	ActualCost                decimal.Decimal
	ActualRevenue             decimal.Decimal
	MissingCostAssignments    int32
	MissingBillRateHours      decimal.Decimal
	UpdatedAt                 time.Time
}

const financialsSQL = `SELECT p.id::text, p.name, p.currency_code, p.status, p.budget_hours, p.budget_cost, p.budget_revenue,
		COALESCE(a.hours, 0) AS planned_hours, COALESCE(a.billable, 0) AS billable_hours, COALESCE(a.cost, 0) AS planned_cost,
		COALESCE(a.revenue, 0) + COALESCE(f.fees, 0) AS forecast_revenue,
		COALESCE(x.actual_hours, 0) AS actual_hours, COALESCE(x.actual_cost, 0) AS actual_cost, COALESCE(x.actual_revenue, 0) AS actual_revenue,
		COALESCE(a.missing_cost, 0) AS missing_cost, COALESCE(a.missing_rate, 0) AS missing_rate,
		GREATEST(p.updated_at, COALESCE(a.applied, p.updated_at)) AS updated_at
	FROM projects p
	LEFT JOIN LATERAL (SELECT sum(planned_hours) FILTER (WHERE status <> 'CANCELLED') AS hours, sum(billable_hours) AS billable,
			sum(planned_cost) FILTER (WHERE status <> 'CANCELLED') AS cost, sum(forecast_revenue) AS revenue,
			count(*) FILTER (WHERE cost_missing AND status <> 'CANCELLED') AS missing_cost,
			sum(bill_rate_missing_hours) AS missing_rate, max(applied_at) AS applied
		FROM assignment_plans WHERE project_id = p.id) a ON true
	LEFT JOIN LATERAL (SELECT sum(amount) AS fees FROM contract_lines
		WHERE contract_id = p.contract_id AND billing_method <> 'TIME_AND_MATERIALS') f ON true
	LEFT JOIN project_actuals x ON x.project_id = p.id`

func scanFinancials(row pgx.Row) (Financials, error) {
	var f Financials
	var status string
	var hours, cost, revenue *decimal.Decimal
	err := row.Scan(&f.ProjectID, &f.Name, &f.Currency, &status, &hours, &cost, &revenue, &f.PlannedHours, &f.PlannedBillableHours,
		&f.PlannedCost, &f.ForecastRevenue, &f.ActualHours, &f.ActualCost, &f.ActualRevenue, &f.MissingCostAssignments,
		&f.MissingBillRateHours, &f.UpdatedAt)
	f.Status = project.Status(status)
	f.Budget.Hours = hours
	if cost != nil {
		f.Budget.Cost = &money.Amount{Value: *cost, Currency: f.Currency}
	}
	if revenue != nil {
		f.Budget.Revenue = &money.Amount{Value: *revenue, Currency: f.Currency}
	}
	return f, err
}

// GetFinancials returns one project's economics.
func GetFinancials(ctx context.Context, q pg.Querier, projectID string) (Financials, error) {
	f, err := scanFinancials(q.QueryRow(ctx, financialsSQL+` WHERE p.id = $1`, projectID))
	return f, pg.NotFound(err, project.ErrNotFound)
}

// Portfolio returns project economics ordered by forecast margin, lowest first.
func Portfolio(ctx context.Context, q pg.Querier, status project.Status, limit int) ([]Financials, error) {
	rows, err := q.Query(ctx, `SELECT * FROM (`+financialsSQL+` WHERE ($1 = '' OR p.status = $1)) x
		ORDER BY x.forecast_revenue - x.planned_cost, x.id LIMIT $2`, string(status), limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Financials, error) { return scanFinancials(r) })
}

// Actuals are posted hours, cost and revenue to add to a project.
type Actuals struct {
	Hours, Cost, Revenue decimal.Decimal
}

// AddActuals adds posted actuals per project, in one statement.
func AddActuals(ctx context.Context, q pg.Querier, byProject map[string]*Actuals) error {
	if len(byProject) == 0 {
		return nil
	}
	var ids []string
	var hours, cost, revenue []decimal.Decimal
	for id, a := range byProject {
		ids, hours, cost, revenue = append(ids, id), append(hours, a.Hours), append(cost, a.Cost), append(revenue, a.Revenue)
	}
	_, err := q.Exec(ctx, `INSERT INTO project_actuals AS a (project_id, actual_hours, actual_cost, actual_revenue)
		SELECT * FROM unnest($1::uuid[], $2::numeric[], $3::numeric[], $4::numeric[])
		ON CONFLICT (project_id) DO UPDATE SET actual_hours = a.actual_hours + EXCLUDED.actual_hours,
			actual_cost = a.actual_cost + EXCLUDED.actual_cost, actual_revenue = a.actual_revenue + EXCLUDED.actual_revenue`,
		ids, hours, cost, revenue)
	return err
}
