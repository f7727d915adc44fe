package app

import (
	"context"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/services/resource/internal/resource"
	"github.com/accrue/accrue/services/resource/internal/store"
)

// UtilizationPeriod is one month of a resource's utilization.
type UtilizationPeriod struct {
	Start, End     civil.Date
	Capacity       decimal.Decimal
	Planned        decimal.Decimal
	PlannedBill    decimal.Decimal
	PlannedPercent *decimal.Decimal
	Target         decimal.Decimal
	ActualBill     *decimal.Decimal
	ActualPercent  *decimal.Decimal
}

// Utilization returns capacity, planned (billable) hours and utilization per month of [from, to].
// Capacity is the working days × weekly capacity / 5; planned billable hours are the planned
// hours of active assignments on billable tasks.
func (s *Service) Utilization(ctx context.Context, resourceID string, from, to civil.Date) ([]UtilizationPeriod, error) {
	res, err := store.GetResource(ctx, s.Pool, resourceID, false)
	if err != nil {
		return nil, err
	}
	list, err := store.ListAssignments(ctx, s.Pool, store.AssignmentFilter{ResourceID: resourceID, ActiveOnly: true, From: from, To: to})
	if err != nil {
		return nil, err
	}
	billable := map[string]bool{}
	for _, a := range list {
		if _, seen := billable[a.TaskID]; seen {
			continue
		}
		view, found, err := store.ProjectView(ctx, s.Pool, a.ProjectID)
		if err != nil {
			return nil, err
		}
		billable[a.TaskID] = found && view.Tasks[a.TaskID]
	}
	actuals, err := store.ActualBillableHours(ctx, s.Pool, resourceID, from, to)
	if err != nil {
		return nil, err
	}
	perDay := res.WeeklyCapacity.Div(decimal.NewFromInt(5))
	var out []UtilizationPeriod
	for start := from; !start.After(to); {
		end := civil.Of(civil.Date{Year: start.Year, Month: start.Month, Day: 1}.Time().AddDate(0, 1, -1))
		if end.After(to) {
			end = to
		}
		p := UtilizationPeriod{Start: start, End: end, Target: res.UtilizationTarget,
			Capacity: perDay.Mul(decimal.NewFromInt(int64(len(resource.WorkingDays(start, end)))))}
		for _, a := range list {
			for _, d := range resource.Days(a.Segments) {
				if d.Date.Before(start) || d.Date.After(end) {
					continue
				}
				p.Planned = p.Planned.Add(d.Hours)
				if billable[a.TaskID] {
					p.PlannedBill = p.PlannedBill.Add(d.Hours)
				}
			}
		}
		if p.Capacity.IsPositive() {
			pct := p.PlannedBill.Div(p.Capacity).Mul(decimal.NewFromInt(100)).Round(2)
			p.PlannedPercent = &pct
		}
		if h, ok := actuals[start.String()[:7]]; ok {
			p.ActualBill = &h
			if p.Capacity.IsPositive() {
				pct := h.Div(p.Capacity).Mul(decimal.NewFromInt(100)).Round(2)
				p.ActualPercent = &pct
			}
		}
		out = append(out, p)
		start = end.AddDays(1)
	}
	return out, nil
}
