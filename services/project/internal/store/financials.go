package store

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/project/internal/financials"
	"github.com/accrue/accrue/services/project/internal/project"
)

const economicsSQL = `SELECT p.id::text, p.name, p.currency_code, p.status, p.budget_hours, p.budget_cost, p.budget_revenue,
		COALESCE(a.hours, 0) AS planned_hours, COALESCE(a.billable, 0) AS billable_hours, COALESCE(a.cost, 0) AS planned_cost,
		COALESCE(a.revenue, 0) + COALESCE(f.fees, 0) AS forecast_revenue,
		COALESCE(x.actual_hours, 0) AS actual_hours, COALESCE(x.actual_cost, 0) AS actual_cost, COALESCE(x.actual_revenue, 0) AS actual_revenue,
		COALESCE(x.actual_subcontractor_cost, 0) AS actual_subcontractor_cost, COALESCE(x.recognized_revenue, 0) AS recognized_revenue,
		COALESCE(a.missing_cost, 0) AS missing_cost, COALESCE(a.missing_rate, 0) AS missing_rate,
		GREATEST(p.updated_at, COALESCE(a.applied, p.updated_at)) AS updated_at, p.legal_entity_id::text AS legal_entity_id,
		COALESCE(NULLIF(le.functional_currency, ''), p.currency_code) AS functional_currency
	FROM projects p
	LEFT JOIN legal_entities le ON le.legal_entity_id = p.legal_entity_id
	LEFT JOIN LATERAL (SELECT sum(planned_hours) FILTER (WHERE status <> 'CANCELLED') AS hours, sum(billable_hours) AS billable,
			sum(planned_cost) FILTER (WHERE status <> 'CANCELLED') AS cost, sum(forecast_revenue) AS revenue,
			count(*) FILTER (WHERE cost_missing AND status <> 'CANCELLED') AS missing_cost,
			sum(bill_rate_missing_hours) AS missing_rate, max(applied_at) AS applied
		FROM assignment_plans WHERE project_id = p.id) a ON true
	LEFT JOIN LATERAL (SELECT sum(amount) AS fees FROM contract_lines
		WHERE contract_id = p.contract_id AND billing_method <> 'TIME_AND_MATERIALS') f ON true
	LEFT JOIN project_actuals x ON x.project_id = p.id`

func scanEconomics(row pgx.Row) (financials.Economics, error) {
	var e financials.Economics
	var status string
	var hours, cost, revenue *decimal.Decimal
	err := row.Scan(&e.ProjectID, &e.Name, &e.Currency, &status, &hours, &cost, &revenue, &e.PlannedHours, &e.PlannedBillableHours,
		&e.PlannedCost, &e.ForecastRevenue, &e.ActualHours, &e.ActualCost, &e.ActualRevenue, &e.ActualSubcontractorCost, &e.RecognizedRevenue, &e.MissingCostAssignments,
		&e.MissingBillRateHours, &e.UpdatedAt, &e.LegalEntityID, &e.FunctionalCurrency)
	e.Status = project.Status(status)
	e.Budget = budgetOf(e.Currency, hours, cost, revenue)
	return e, err
}

// Economics returns one project's economics (project.ErrNotFound when there is no such project).
func (s *Store) Economics(ctx context.Context, projectID string) (financials.Economics, error) {
	e, err := scanEconomics(s.Q(ctx).QueryRow(ctx, economicsSQL+` WHERE p.id = $1`, projectID))
	return e, pg.NotFound(err, project.ErrNotFound)
}

// Portfolio returns up to limit projects' economics (in status, when given; of the legal entities
// only, unless nil) ordered by forecast margin, lowest first; foreign-currency projects, which have
// no forecast margin (see financials.Economics.ForecastMargin), come last.
func (s *Store) Portfolio(ctx context.Context, status project.Status, limit int, only []string) ([]financials.Economics, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT * FROM (`+economicsSQL+` WHERE ($1 = '' OR p.status = $1)
		AND ($3::text[] IS NULL OR p.legal_entity_id::text = ANY($3::text[]))) x
		ORDER BY CASE WHEN x.currency_code = x.functional_currency THEN x.forecast_revenue - x.planned_cost END NULLS LAST, x.id LIMIT $2`, string(status), limit, only)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (financials.Economics, error) { return scanEconomics(r) })
}

// AddActuals adds posted actuals per project, in one statement.
func (s *Store) AddActuals(ctx context.Context, byProject map[string]financials.Actuals) error {
	if len(byProject) == 0 {
		return nil
	}
	var ids []string
	var hours, cost, revenue, sub, recognized []decimal.Decimal
	for id, a := range byProject {
		ids, hours, cost, revenue = append(ids, id), append(hours, a.Hours), append(cost, a.Cost), append(revenue, a.Revenue)
		sub, recognized = append(sub, a.SubcontractorCost), append(recognized, a.RecognizedRevenue)
	}
	_, err := s.Q(ctx).Exec(ctx, `INSERT INTO project_actuals AS a (project_id, actual_hours, actual_cost, actual_revenue, actual_subcontractor_cost,
			recognized_revenue)
		SELECT * FROM unnest($1::uuid[], $2::numeric[], $3::numeric[], $4::numeric[], $5::numeric[], $6::numeric[])
		ON CONFLICT (project_id) DO UPDATE SET actual_hours = a.actual_hours + EXCLUDED.actual_hours,
			actual_cost = a.actual_cost + EXCLUDED.actual_cost, actual_revenue = a.actual_revenue + EXCLUDED.actual_revenue,
			actual_subcontractor_cost = a.actual_subcontractor_cost + EXCLUDED.actual_subcontractor_cost,
			recognized_revenue = a.recognized_revenue + EXCLUDED.recognized_revenue`,
		ids, hours, cost, revenue, sub, recognized)
	return err
}
