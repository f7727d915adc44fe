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
//
// Budget and ForecastRevenue are in the project's Currency (its contract's). PlannedCost (cost
// rates) and the actuals (ActualCost, ActualSubcontractorCost, ActualRevenue, RecognizedRevenue:
// billing's postings) are in the legal entity's FunctionalCurrency. The two are the same for most
// projects; for a foreign-currency contract they differ and there is no forecast margin (see
// ForecastMargin).
type Economics struct {
	ProjectID, Name, Currency string
	// FunctionalCurrency is the currency the project's legal entity keeps its books in.
	FunctionalCurrency   string
	Status               project.Status
	Budget               project.Budget
	PlannedHours         decimal.Decimal
	PlannedBillableHours decimal.Decimal
	PlannedCost          decimal.Decimal
	ForecastRevenue      decimal.Decimal
	ActualHours          decimal.Decimal
	ActualCost           decimal.Decimal
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

// Foreign says the project's contract is in another currency than its legal entity's books.
func (e Economics) Foreign() bool {
	return e.FunctionalCurrency != "" && e.FunctionalCurrency != e.Currency
}

// ForecastMargin is forecast revenue less planned cost, and its percent of the revenue; ok is
// false for a foreign-currency project, whose forecast revenue (contract currency) and planned
// cost (functional currency) cannot be subtracted: the project service holds no exchange rates
// (billing converts at each posting's date; the ledger has the functional P&L per project).
func (e Economics) ForecastMargin() (margin decimal.Decimal, pct *decimal.Decimal, ok bool) {
	if e.Foreign() {
		return decimal.Zero, nil, false
	}
	m, p := Margin(e.ForecastRevenue, e.PlannedCost)
	return m, p, true
}

// CostCurrency is the currency of the planned cost and the actuals: the functional currency.
func (e Economics) CostCurrency() string {
	if e.FunctionalCurrency == "" {
		return e.Currency
	}
	return e.FunctionalCurrency
}

// ActualMargin is actual revenue less actual cost (both in the functional currency), and its
// percent of the revenue.
func (e Economics) ActualMargin() (decimal.Decimal, *decimal.Decimal) {
	return Margin(e.ActualRevenue, e.ActualCost)
}
