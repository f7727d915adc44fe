package resource_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/resource/internal/resource"
)

func day(m time.Month, d int) civil.Date { return civil.Date{Year: 2026, Month: m, Day: d} }

func rate(amount string, from, to civil.Date) resource.Rate {
	return resource.Rate{Rate: money.Amount{Value: decimal.RequireFromString(amount), Currency: "USD"}, From: from, To: to}
}

// A period inside an open-ended one splits it in three; the stored one is superseded.
func TestSetCutsAroundTheNewPeriod(t *testing.T) {
	cur := resource.Timeline{rate("60", day(1, 1), civil.Date{})}
	cur[0].ID = 7
	next, superseded, err := cur.Set(rate("66", day(6, 16), day(6, 30)))
	if err != nil || len(superseded) != 1 || superseded[0] != 0 || len(next) != 3 {
		t.Fatalf("set: %+v %v %v", next, superseded, err)
	}
	if next[0].To != day(6, 15) || next[1].From != day(6, 16) || next[2].From != day(7, 1) || !next[2].To.IsZero() ||
		next[0].ID != 0 || next[2].ID != 0 {
		t.Fatalf("pieces: %+v (new pieces have no id)", next)
	}
	if r, ok := next.At(day(6, 20)); !ok || !r.Rate.Value.Equal(decimal.NewFromInt(66)) {
		t.Fatalf("rate on June 20: %+v %v", r, ok)
	}
	if !next.Same(rate("66", day(6, 16), day(6, 30))) || next.Same(rate("66", day(6, 16), civil.Date{})) {
		t.Fatal("Same must compare the exact period and rate")
	}
}

// Total hours spread over working days: hundredths, the last day absorbing the rounding.
func TestPlanTotalSumsExactly(t *testing.T) {
	segs := resource.PlanTotal(day(6, 1), day(6, 3), decimal.NewFromInt(10)) // Mon..Wed
	days := resource.Days(segs)
	sum := decimal.Zero
	for _, d := range days {
		sum = sum.Add(d.Hours)
	}
	if len(days) != 3 || !days[0].Hours.Equal(decimal.RequireFromString("3.33")) || !days[2].Hours.Equal(decimal.RequireFromString("3.34")) || !sum.Equal(decimal.NewFromInt(10)) {
		t.Fatalf("days %+v, sum %s", days, sum)
	}
}

// Each month is rounded once; a month with a day lacking a rate has no cost, nor has the plan.
func TestCostRoundsPerMonthAndFlagsMissingRates(t *testing.T) {
	rates := resource.Timeline{rate("33.333", day(6, 1), day(6, 30))}
	c := resource.Cost(resource.Days(resource.PlanWeekly(day(6, 29), day(7, 1), decimal.NewFromInt(10))), rates, "")
	if len(c.Periods) != 2 || c.Periods[0].Cost == nil || c.Periods[0].Cost.Format() != "133.33" || c.Periods[1].Cost != nil ||
		c.Cost != nil || len(c.Missing) != 1 || c.Missing[0] != day(7, 1) {
		t.Fatalf("costed: %+v", c)
	}
	again := resource.Cost(resource.Days(resource.PlanWeekly(day(6, 29), day(7, 1), decimal.NewFromInt(10))), rates, "")
	if !c.Equal(again) {
		t.Fatal("the same plan must be Equal")
	}
}

func TestOverbookedWeeksEarliestFirst(t *testing.T) {
	h := decimal.NewFromInt(40)
	a := resource.Assignment{ID: "a", Start: day(6, 1), End: day(6, 12), HoursPerWeek: &h}
	a.Segments = a.Planned()
	other := resource.Assignment{ID: "b", Start: day(6, 8), End: day(6, 19), HoursPerWeek: &h}
	other.Segments = other.Planned()
	over := resource.Overbooked(a, []resource.Assignment{a, other}, h)
	if len(over) != 1 || over[0].Monday != day(6, 8) || !over[0].Hours.Equal(decimal.NewFromInt(80)) {
		t.Fatalf("over %+v, want the week of June 8 at 80h (June 15 is outside a)", over)
	}
}
