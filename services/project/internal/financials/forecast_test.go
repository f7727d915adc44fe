package financials

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
)

func day(s string) civil.Date {
	d, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// consultant is 8 hours a day on Mon 2026-06-01 .. Fri 2026-06-12 (ten working days, the weekend
// between them not worked), on a billable task of a time-and-materials line whose consultant
// rate is 150.00 until 2026-06-07 and 165.50 from 2026-06-08.
func consultant() Staffed {
	return Staffed{AssignmentID: "A1", Role: "CONSULTANT", Status: "CONFIRMED", Currency: "USD", Billable: true,
		BillingMethod: TimeAndMaterials,
		Segments:      []Segment{{From: day("2026-06-01"), To: day("2026-06-12"), HoursPerDay: dec("8")}},
		Rates: []BillRate{
			{Role: "CONSULTANT", Rate: dec("150.00"), From: day("2026-01-01"), To: day("2026-06-07")},
			{Role: "CONSULTANT", Rate: dec("165.50"), From: day("2026-06-08")},
			{Role: "ARCHITECT", Rate: dec("210.00"), From: day("2026-01-01")},
		}}
}

func TestPriceUsesTheRateInEffectOnEachWorkingDay(t *testing.T) {
	f := Price(consultant())
	// 5 days × 8h × 150.00 + 5 days × 8h × 165.50 = 6000.00 + 6620.00
	if !f.BillableHours.Equal(dec("80")) || !f.Revenue.Equal(dec("12620.00")) || !f.MissingRateHours.IsZero() {
		t.Fatalf("forecast %+v, want 80 billable hours, 12620.00 revenue, no hours missing a rate", f)
	}
}

func TestPriceCountsHoursWithoutARateAsMissing(t *testing.T) {
	s := consultant()
	s.Role = "DESIGNER"
	f := Price(s)
	if !f.BillableHours.Equal(dec("80")) || !f.Revenue.IsZero() || !f.MissingRateHours.Equal(dec("80")) {
		t.Fatalf("forecast %+v, want 80 billable hours, all missing a rate, no revenue", f)
	}
	s = consultant()
	s.BillingMethod, s.Rates = "", nil // the project has no contract yet: priced when it does
	if f := Price(s); !f.BillableHours.Equal(dec("80")) || !f.MissingRateHours.Equal(dec("80")) {
		t.Fatalf("forecast without contract %+v, want 80 billable hours missing a rate", f)
	}
}

func TestPriceEarnsNoHourlyRevenueOnFixedFeeLines(t *testing.T) {
	s := consultant()
	s.BillingMethod = "FIXED_FEE"
	f := Price(s)
	if !f.BillableHours.Equal(dec("80")) || !f.Revenue.IsZero() || !f.MissingRateHours.IsZero() {
		t.Fatalf("forecast %+v, want 80 billable hours and no hourly revenue", f)
	}
}

func TestPriceForecastsNothingForCancelledOrNonBillableWork(t *testing.T) {
	cancelled, internal := consultant(), consultant()
	cancelled.Status, internal.Billable = Cancelled, false
	for name, s := range map[string]Staffed{"cancelled": cancelled, "non-billable": internal} {
		if f := Price(s); !f.BillableHours.IsZero() || !f.Revenue.IsZero() || !f.MissingRateHours.IsZero() || f.AssignmentID != "A1" {
			t.Errorf("%s: forecast %+v, want zeros for A1", name, f)
		}
	}
}

// Revenue is summed exactly and rounded once: 2 × 0.333h × 100.01 = 66.60666 → 66.61, where
// rounding each day (33.30) would lose a cent.
func TestRevenueRoundsOnceToTheCurrency(t *testing.T) {
	days := []Day{{Date: day("2026-06-01"), Hours: dec("0.333")}, {Date: day("2026-06-02"), Hours: dec("0.333")}}
	rates := []BillRate{{Role: "CONSULTANT", Rate: dec("100.01"), From: day("2026-01-01")}}
	if rev, _ := Revenue(days, "CONSULTANT", rates, "USD"); rev.Format() != "66.61" {
		t.Fatalf("revenue %s, want 66.61", rev.Format())
	}
}

func TestMarginsAndActuals(t *testing.T) {
	e := Economics{Currency: "USD", FunctionalCurrency: "USD", ForecastRevenue: dec("26000"), PlannedCost: dec("19500"),
		ActualRevenue: decimal.Zero, ActualCost: dec("10")}
	m, pct, ok := e.ForecastMargin()
	if !m.Equal(dec("6500")) || pct == nil || pct.StringFixed(2) != "25.00" || !ok {
		t.Fatalf("forecast margin %s (%v, %v), want 6500 at 25.00%%", m, pct, ok)
	}
	// A EUR contract under a USD entity: 26000 EUR less 19500 USD is no margin at all.
	foreign := e
	foreign.Currency = "EUR"
	if _, pct, ok := foreign.ForecastMargin(); ok || pct != nil || !foreign.Foreign() || foreign.CostCurrency() != "USD" {
		t.Fatalf("foreign-currency forecast margin known=%v (%v), cost in %s; want unknown, cost in USD", ok, pct, foreign.CostCurrency())
	}
	if m, pct := e.ActualMargin(); !m.Equal(dec("-10")) || pct != nil {
		t.Fatalf("actual margin %s (%v), want -10 and no percent without revenue", m, pct)
	}
	a := ActualsByProject([]Posting{{ProjectID: "P1", Hours: dec("8"), Cost: dec("400"), Revenue: dec("1200")},
		{ProjectID: "P1", Hours: dec("-2"), Cost: dec("-100"), Revenue: dec("-300")}, {ProjectID: "P2", Hours: dec("1")}})
	if p1 := a["P1"]; !p1.Hours.Equal(dec("6")) || !p1.Cost.Equal(dec("300")) || !p1.Revenue.Equal(dec("900")) || len(a) != 2 {
		t.Fatalf("actuals %+v, want P1 at 6h, 300 cost, 900 revenue (a reversal nets out), and P2", a)
	}
}
