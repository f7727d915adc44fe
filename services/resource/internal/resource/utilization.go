package resource

import (
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
)

// MaxUtilizationDays is the longest period a utilization report covers.
const MaxUtilizationDays = 800

// ErrUtilizationPeriod refuses a period that ends before it starts or spans too many days.
var ErrUtilizationPeriod = fault.Invalidf("INVALID_PERIOD", "to", "the period must end after it starts and span at most 800 days")

// CheckUtilizationPeriod refuses a report period [from, to] that ends before it starts or spans
// more than MaxUtilizationDays.
func CheckUtilizationPeriod(from, to civil.Date) error {
	if to.Before(from) || from.DaysUntil(to) > MaxUtilizationDays {
		return ErrUtilizationPeriod
	}
	return nil
}

// UtilizationPeriod is one month of a resource's utilization.
type UtilizationPeriod struct {
	Start, End     civil.Date
	Capacity       decimal.Decimal
	Planned        decimal.Decimal
	PlannedBill    decimal.Decimal
	PlannedPercent *decimal.Decimal // nil without capacity
	Target         decimal.Decimal
	ActualBill     *decimal.Decimal // nil when no hours were posted
	ActualPercent  *decimal.Decimal
}

// PostedTime is hours the ledger posted for a resource's working day (a time entry posted or
// reversed).
type PostedTime struct {
	ResourceID string
	Date       civil.Date
	Hours      decimal.Decimal
	Billable   decimal.Decimal
}

// Utilization returns res's capacity, planned (billable) hours and utilization per month of
// [from, to]. Capacity is the working days × weekly capacity / 5; planned billable hours are the
// planned hours of active assignments on billable tasks (billable: task id → billable); actual
// holds the posted billable hours per month (keyed by the month's first day).
func Utilization(res Resource, active []Assignment, billable map[string]bool, actual map[civil.Date]decimal.Decimal, from, to civil.Date) []UtilizationPeriod {
	perDay := res.WeeklyCapacity.Div(decimal.NewFromInt(5))
	var out []UtilizationPeriod
	for start := from; !start.After(to); {
		month := civil.Date{Year: start.Year, Month: start.Month, Day: 1}
		end := civil.Of(month.Time().AddDate(0, 1, -1))
		if end.After(to) {
			end = to
		}
		p := UtilizationPeriod{Start: start, End: end, Target: res.UtilizationTarget,
			Capacity: perDay.Mul(decimal.NewFromInt(int64(len(WorkingDays(start, end)))))}
		for _, a := range active {
			for _, d := range Days(a.Segments) {
				if d.Date.Before(start) || d.Date.After(end) {
					continue
				}
				p.Planned = p.Planned.Add(d.Hours)
				if billable[a.TaskID] {
					p.PlannedBill = p.PlannedBill.Add(d.Hours)
				}
			}
		}
		p.PlannedPercent = percent(p.PlannedBill, p.Capacity)
		if h, ok := actual[month]; ok {
			p.ActualBill = &h
			p.ActualPercent = percent(h, p.Capacity)
		}
		out = append(out, p)
		start = end.AddDays(1)
	}
	return out
}

// percent is hours / capacity in percent, to hundredths; nil without capacity.
func percent(hours, capacity decimal.Decimal) *decimal.Decimal {
	if !capacity.IsPositive() {
		return nil
	}
	pct := hours.Div(capacity).Mul(decimal.NewFromInt(100)).Round(2)
	return &pct
}
