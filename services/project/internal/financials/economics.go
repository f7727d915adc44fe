package financials

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/services/project/internal/project"
)

// Posting is the part of one posting result that counts toward a project's actuals.
type Posting struct {
	ProjectID            string
	Hours, Cost, Revenue decimal.Decimal
	// SubcontractorCost is the allocated supplier cost part of Cost.
	SubcontractorCost decimal.Decimal
	// RecognizedRevenue is revenue billing recognized for the project (revenue.recognized).
	RecognizedRevenue decimal.Decimal
}

// Actuals are posted hours, cost (with its subcontractor part), revenue (WIP) and recognized
// revenue to add to a project.
type Actuals struct {
	Hours, Cost, Revenue, SubcontractorCost, RecognizedRevenue decimal.Decimal
}

// ActualsByProject sums postings per project.
func ActualsByProject(postings []Posting) map[string]Actuals {
	out := map[string]Actuals{}
	for _, p := range postings {
		a := out[p.ProjectID]
		a.Hours, a.Cost, a.Revenue = a.Hours.Add(p.Hours), a.Cost.Add(p.Cost), a.Revenue.Add(p.Revenue)
		a.SubcontractorCost = a.SubcontractorCost.Add(p.SubcontractorCost)
		a.RecognizedRevenue = a.RecognizedRevenue.Add(p.RecognizedRevenue)
		out[p.ProjectID] = a
	}
	return out
}

// Economics is a project's budget, forecast (from its staffing plans and fixed-fee lines) and
// actuals (from its postings).
type Economics struct {
	ProjectID, Name, Currency string
	Status                    project.Status
	Budget                    project.Budget
	PlannedHours              decimal.Decimal
	PlannedBillableHours      decimal.Decimal
	PlannedCost               decimal.Decimal
	ForecastRevenue           decimal.Decimal
	ActualHours               decimal.Decimal
	ActualCost                decimal.Decimal
	// ActualSubcontractorCost is the allocated supplier cost part of ActualCost.
	ActualSubcontractorCost decimal.Decimal
	ActualRevenue           decimal.Decimal
	// RecognizedRevenue is what billing's revenue recognition recognized for the project so far.
	RecognizedRevenue      decimal.Decimal
	MissingCostAssignments int32
	MissingBillRateHours   decimal.Decimal
	UpdatedAt              time.Time
	// LegalEntityID is the legal entity the project belongs to.
	LegalEntityID string
}

// ForecastMargin is forecast revenue less planned cost, and its percent of the revenue.
func (e Economics) ForecastMargin() (decimal.Decimal, *decimal.Decimal) {
	return Margin(e.ForecastRevenue, e.PlannedCost)
}

// ActualMargin is actual revenue less actual cost, and its percent of the revenue.
func (e Economics) ActualMargin() (decimal.Decimal, *decimal.Decimal) {
	return Margin(e.ActualRevenue, e.ActualCost)
}
