package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/services/project/internal/financials"
)

// segmentRow is the stored form of a plan's segment (an element of assignment_plans.segments).
type segmentRow struct {
	From        string          `json:"from"`
	To          string          `json:"to"`
	HoursPerDay decimal.Decimal `json:"hours_per_day"`
}

// UpsertPlan stores a plan when its version is newer than the stored one; it reports whether it
// did.
func (s *Store) UpsertPlan(ctx context.Context, p financials.Plan) (bool, error) {
	rows := make([]segmentRow, len(p.Segments))
	for i, sg := range p.Segments {
		rows[i] = segmentRow{From: sg.From.String(), To: sg.To.String(), HoursPerDay: sg.HoursPerDay}
	}
	segs, err := json.Marshal(rows)
	if err != nil {
		return false, err
	}
	tag, err := s.Q(ctx).Exec(ctx, `INSERT INTO assignment_plans AS a (assignment_id, project_id, task_id, role, status, segments, planned_hours,
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

func segmentsOf(raw []byte) ([]financials.Segment, error) {
	var rows []segmentRow
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, err
	}
	out := make([]financials.Segment, len(rows))
	for i, r := range rows {
		from, err := civil.Parse(r.From)
		if err != nil {
			return nil, err
		}
		to, err := civil.Parse(r.To)
		if err != nil {
			return nil, err
		}
		out[i] = financials.Segment{From: from, To: to, HoursPerDay: r.HoursPerDay}
	}
	return out, nil
}

// The plans to price, by scope: one assignment's, one project's, or every project's of a contract.
const (
	selectStaffed = `SELECT a.assignment_id::text, a.segments, a.role, a.status, p.currency_code, COALESCE(p.contract_id::text, ''),
			COALESCE(t.billable, false), COALESCE(t.contract_line_key, ''), COALESCE(l.billing_method, '')
		FROM assignment_plans a
		JOIN projects p ON p.id = a.project_id
		LEFT JOIN tasks t ON t.id = a.task_id
		LEFT JOIN contract_lines l ON l.contract_id = p.contract_id AND l.line_key = t.contract_line_key`
	staffedByAssignment = selectStaffed + ` WHERE a.assignment_id = $1`
	staffedByProject    = selectStaffed + ` WHERE p.id = $1`
	staffedByContract   = selectStaffed + ` WHERE p.contract_id = $1`
)

// StaffedPlans returns what pricing needs of the plans of scope whose project is known here
// (a plan of a project not replicated yet is priced when the project is): each plan with its
// project's currency, its task, and its contract line's billing method and rate card.
func (s *Store) StaffedPlans(ctx context.Context, scope financials.Scope) ([]financials.Staffed, error) {
	sql, arg := staffedByAssignment, scope.AssignmentID
	switch {
	case scope.ProjectID != "":
		sql, arg = staffedByProject, scope.ProjectID
	case scope.ContractID != "":
		sql, arg = staffedByContract, scope.ContractID
	}
	q := s.Q(ctx)
	rows, err := q.Query(ctx, sql, arg)
	if err != nil {
		return nil, err
	}
	type line struct{ contract, key string }
	var lines []line
	var contracts []string
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (financials.Staffed, error) {
		var st financials.Staffed
		var segs []byte
		var l line
		if err := r.Scan(&st.AssignmentID, &segs, &st.Role, &st.Status, &st.Currency, &l.contract, &st.Billable, &l.key, &st.BillingMethod); err != nil {
			return st, err
		}
		lines = append(lines, l)
		if l.contract != "" {
			contracts = append(contracts, l.contract)
		}
		var err error
		st.Segments, err = segmentsOf(segs)
		return st, err
	})
	if err != nil || len(contracts) == 0 {
		return list, err
	}
	rates, err := s.rateCards(ctx, contracts)
	if err != nil {
		return nil, err
	}
	for i, l := range lines {
		list[i].Rates = rates[l.contract+"\n"+l.key]
	}
	return list, nil
}

// rateCards returns the rate cards of the contracts' lines, by contract id and line key.
func (s *Store) rateCards(ctx context.Context, contracts []string) (map[string][]financials.BillRate, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT contract_id::text, line_key, role, rate, effective_from, effective_to
		FROM contract_rates WHERE contract_id = ANY($1::uuid[])`, contracts)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]financials.BillRate{}
	for rows.Next() {
		var contract, key string
		var b financials.BillRate
		var from time.Time
		var to *time.Time
		if err := rows.Scan(&contract, &key, &b.Role, &b.Rate, &from, &to); err != nil {
			return nil, err
		}
		b.From = civil.Of(from)
		if to != nil {
			b.To = civil.Of(*to)
		}
		out[contract+"\n"+key] = append(out[contract+"\n"+key], b)
	}
	return out, rows.Err()
}

// SaveForecasts stores priced plans, in one statement.
func (s *Store) SaveForecasts(ctx context.Context, list []financials.Forecast) error {
	if len(list) == 0 {
		return nil
	}
	n := len(list)
	ids := make([]string, n)
	hours, revenue, missing := make([]decimal.Decimal, n), make([]decimal.Decimal, n), make([]decimal.Decimal, n)
	for i, f := range list {
		ids[i], hours[i], revenue[i], missing[i] = f.AssignmentID, f.BillableHours, f.Revenue, f.MissingRateHours
	}
	_, err := s.Q(ctx).Exec(ctx, `UPDATE assignment_plans a SET billable_hours = f.hours, forecast_revenue = f.revenue,
			bill_rate_missing_hours = f.missing
		FROM unnest($1::uuid[], $2::numeric[], $3::numeric[], $4::numeric[]) AS f(id, hours, revenue, missing)
		WHERE a.assignment_id = f.id`, ids, hours, revenue, missing)
	return err
}
