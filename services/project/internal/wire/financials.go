package wire

import (
	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/project/internal/financials"
	"github.com/accrue/accrue/services/project/internal/project"
)

// Financials converts a project's economics.
// RedactCost leaves a project's cost figures and the margins derived from them out and flags it
// (for callers without the costrates:read scope); hours and revenue stay.
func RedactCost(f *projectv1.ProjectFinancials) {
	if f == nil {
		return
	}
	f.PlannedCost, f.ActualCost, f.ForecastMargin, f.ActualMargin, f.ActualSubcontractorCost = nil, nil, nil, nil, nil
	f.ForecastMarginPercent, f.ActualMarginPercent, f.CostRedacted = "", "", true
	if f.Budget != nil {
		f.Budget.Cost = nil
	}
}

// Budget and forecast revenue are in the project (contract) currency; planned cost, the actuals,
// recognized revenue and the actual margin in the legal entity's functional currency. A
// foreign-currency project has no forecast margin (nil, "").
func Financials(e financials.Economics) *projectv1.ProjectFinancials {
	in := func(currency string) func(v decimal.Decimal) *commonv1.Money {
		return func(v decimal.Decimal) *commonv1.Money {
			a := money.Amount{Value: v, Currency: currency}
			return &commonv1.Money{Amount: a.Round().Format(), CurrencyCode: currency}
		}
	}
	amt, fn := in(e.Currency), in(e.CostCurrency())
	pct := func(p *decimal.Decimal) string {
		if p == nil {
			return ""
		}
		return p.StringFixed(2)
	}
	fm, fp, known := e.ForecastMargin()
	am, ap := e.ActualMargin()
	out := &projectv1.ProjectFinancials{ProjectId: e.ProjectID, Name: e.Name, Status: Status(e.Status), CurrencyCode: e.Currency,
		Budget:       &projectv1.Budget{Cost: moneyProto(e.Budget.Cost), Revenue: moneyProto(e.Budget.Revenue)},
		PlannedHours: e.PlannedHours.StringFixed(2), PlannedBillableHours: e.PlannedBillableHours.StringFixed(2),
		PlannedCost: fn(e.PlannedCost), ForecastRevenue: amt(e.ForecastRevenue), ForecastMarginPercent: pct(fp),
		ActualHours: e.ActualHours.StringFixed(2), ActualCost: fn(e.ActualCost),
		ActualSubcontractorCost: fn(e.ActualSubcontractorCost), ActualRevenue: fn(e.ActualRevenue),
		RecognizedRevenue: fn(e.RecognizedRevenue),
		ActualMargin:      fn(am), ActualMarginPercent: pct(ap), AssignmentsMissingCostRates: e.MissingCostAssignments,
		BillableHoursMissingBillRate: e.MissingBillRateHours.StringFixed(2), UpdateTime: timestamppb.New(e.UpdatedAt)}
	if known {
		out.ForecastMargin = amt(fm)
	}
	if e.Budget.Hours != nil {
		out.Budget.Hours = e.Budget.Hours.String()
	}
	return out
}

// DirectoryCustomer converts the replica of a customer.
func DirectoryCustomer(c project.DirectoryCustomer) *projectv1.DirectoryCustomer {
	return &projectv1.DirectoryCustomer{
		CustomerId: c.CustomerID, Name: c.Name, CurrencyCode: c.Currency, Status: c.Status,
		HasTaxProfile: c.HasTaxProfile, TaxExempt: c.TaxExempt, Version: c.Version,
		LastEventId: c.LastEventID, CorrelationId: c.CorrelationID, UpdateTime: timestamppb.New(c.UpdatedAt),
	}
}
