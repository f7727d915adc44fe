package financials

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
)

// Segment is a run of working days with the same planned hours per day.
type Segment struct {
	From, To    civil.Date
	HoursPerDay decimal.Decimal
}

// Days expands segments into their working days.
func Days(segs []Segment) []Day {
	var days []Day
	for _, s := range segs {
		for _, d := range civil.Workdays(s.From, s.To) {
			days = append(days, Day{Date: d, Hours: s.HoursPerDay})
		}
	}
	return days
}

// Plan is an assignment's staffing plan as the resource service published it (priced at cost
// there); only a newer version replaces a stored one.
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

// Cancelled is the status of a plan whose assignment was cancelled: it forecasts nothing.
const Cancelled = "CANCELLED"

// TimeAndMaterials is the billing method whose lines earn revenue by the hour.
const TimeAndMaterials = "TIME_AND_MATERIALS"

// Staffed is what pricing needs of a stored plan: the plan, the project's currency, and the task
// and contract line its hours book to.
type Staffed struct {
	AssignmentID string
	Role         string
	Status       string
	Segments     []Segment
	// Currency is the project's.
	Currency string
	// Billable says the plan's task is billable.
	Billable bool
	// BillingMethod is the method of the task's contract line; "" when the project has no
	// contract (line) yet.
	BillingMethod string
	// Rates is the rate card of the task's contract line (every role).
	Rates []BillRate
}

// Forecast is a priced plan.
type Forecast struct {
	AssignmentID string
	// BillableHours are the planned hours on a billable task (none when cancelled).
	BillableHours decimal.Decimal
	// Revenue is the billable hours at the line's rate for the plan's role on each day.
	Revenue decimal.Decimal
	// MissingRateHours are billable hours on days the rate card has no rate for the role.
	MissingRateHours decimal.Decimal
}

// Price forecasts a plan: hours on a billable task earn the rate of the plan's role on each day
// when the task's line is billed by the hour (or the project has no contract yet: priced again
// when it does). Hours on fixed-fee, milestone or retainer lines earn no hourly revenue (their line
// amount counts once per project); a cancelled plan forecasts nothing.
func Price(s Staffed) Forecast {
	f := Forecast{AssignmentID: s.AssignmentID, BillableHours: decimal.Zero, Revenue: decimal.Zero, MissingRateHours: decimal.Zero}
	if !s.Billable || s.Status == Cancelled {
		return f
	}
	days := Days(s.Segments)
	for _, d := range days {
		f.BillableHours = f.BillableHours.Add(d.Hours)
	}
	if s.BillingMethod == "" || s.BillingMethod == TimeAndMaterials {
		rev, missing := Revenue(days, s.Role, s.Rates, s.Currency)
		f.Revenue, f.MissingRateHours = rev.Value, missing
	}
	return f
}

// ContractLine is a line of the contract replica.
type ContractLine struct {
	Key           string
	BillingMethod string
	Amount        decimal.Decimal
	Currency      string
	Rates         []BillRate
}

// Contract is the replica of a contract's current version: its lines and rate cards.
type Contract struct {
	ID      string
	Version int64
	Lines   []ContractLine
}

// Scope selects the plans to price again: one assignment's (AssignmentID), one project's
// (ProjectID, when its contract changes) or those of every project of a contract (ContractID,
// when its rates change). Exactly one is set.
type Scope struct {
	AssignmentID, ProjectID, ContractID string
}
