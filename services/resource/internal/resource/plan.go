package resource

import (
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
)

// ReasonRateMissing flags assignments planned on days without a cost rate.
const ReasonRateMissing = "RATE_MISSING_FOR_DATE"

// Segment is a run of working days with the same planned hours per day.
type Segment struct {
	From, To    civil.Date
	HoursPerDay decimal.Decimal
}

// WorkingDays returns the working days of [from, to] (the firm calendar of civil.Workdays).
func WorkingDays(from, to civil.Date) []civil.Date { return civil.Workdays(from, to) }

// PlanWeekly spreads hoursPerWeek evenly over the working days of [from, to]: hoursPerWeek / 5
// per working day (exact for the two-decimal inputs the contract allows).
func PlanWeekly(from, to civil.Date, hoursPerWeek decimal.Decimal) []Segment {
	if len(WorkingDays(from, to)) == 0 {
		return nil
	}
	return []Segment{{From: from, To: to, HoursPerDay: hoursPerWeek.Div(decimal.NewFromInt(5))}}
}

// PlanTotal spreads total hours over the working days of [from, to]: each day gets total / n
// rounded to hundredths, and the last day absorbs the rounding, so the days sum to total exactly.
func PlanTotal(from, to civil.Date, total decimal.Decimal) []Segment {
	days := WorkingDays(from, to)
	n := len(days)
	if n == 0 {
		return nil
	}
	per := total.Div(decimal.NewFromInt(int64(n))).Round(2)
	last := total.Sub(per.Mul(decimal.NewFromInt(int64(n - 1))))
	if n == 1 || last.Equal(per) {
		return []Segment{{From: from, To: to, HoursPerDay: per}}
	}
	return []Segment{{From: from, To: days[n-2], HoursPerDay: per}, {From: days[n-1], To: days[n-1], HoursPerDay: last}}
}

// Day is one planned working day.
type Day struct {
	Date  civil.Date
	Hours decimal.Decimal
}

// Days expands segments into working days.
func Days(segs []Segment) []Day {
	var out []Day
	for _, s := range segs {
		for _, d := range WorkingDays(s.From, s.To) {
			out = append(out, Day{Date: d, Hours: s.HoursPerDay})
		}
	}
	return out
}

// Period is the plan of one calendar month.
type Period struct {
	Start, End civil.Date
	Hours      decimal.Decimal
	// Cost is nil when a day of the period has no cost rate.
	Cost *money.Amount
}

// Costed is an assignment's costed plan.
type Costed struct {
	Hours   decimal.Decimal
	Cost    *money.Amount // nil when any day lacks a rate
	Periods []Period
	Missing []civil.Date
}

// Cost prices the days at the rate effective on each day. Each month's cost is computed exactly
// and rounded once to the currency's minor unit; the total is the sum of the rounded months.
func Cost(days []Day, rates Timeline, currency string) Costed {
	var c Costed
	c.Hours = decimal.Zero
	idx := map[string]int{}
	exact := map[string]decimal.Decimal{}
	missing := map[string]bool{}
	for _, d := range days {
		key := d.Date.String()[:7]
		i, ok := idx[key]
		if !ok {
			start := civil.Date{Year: d.Date.Year, Month: d.Date.Month, Day: 1}
			end := civil.Of(start.Time().AddDate(0, 1, -1))
			c.Periods = append(c.Periods, Period{Start: start, End: end, Hours: decimal.Zero})
			i = len(c.Periods) - 1
			idx[key] = i
			exact[key] = decimal.Zero
		}
		c.Periods[i].Hours = c.Periods[i].Hours.Add(d.Hours)
		c.Hours = c.Hours.Add(d.Hours)
		r, ok := rates.At(d.Date)
		if !ok {
			if d.Hours.IsPositive() {
				missing[key] = true
				c.Missing = append(c.Missing, d.Date)
			}
			continue
		}
		if currency == "" {
			currency = r.Rate.Currency
		}
		exact[key] = exact[key].Add(d.Hours.Mul(r.Rate.Value))
	}
	total := money.Zero(currency)
	for i := range c.Periods {
		key := c.Periods[i].Start.String()[:7]
		if missing[key] || currency == "" {
			continue
		}
		cost := money.Amount{Value: exact[key], Currency: currency}.Round()
		c.Periods[i].Cost = &cost
		total.Value = total.Value.Add(cost.Value)
	}
	if len(c.Missing) == 0 && currency != "" {
		c.Cost = &total
	}
	return c
}

// Equal reports whether c and o plan the same hours at the same costs (and miss the same
// number of rates).
func (c Costed) Equal(o Costed) bool {
	if !c.Hours.Equal(o.Hours) || len(c.Periods) != len(o.Periods) || len(c.Missing) != len(o.Missing) || !sameCost(c.Cost, o.Cost) {
		return false
	}
	for i := range c.Periods {
		pc, po := c.Periods[i], o.Periods[i]
		if pc.Start != po.Start || !pc.Hours.Equal(po.Hours) || !sameCost(pc.Cost, po.Cost) {
			return false
		}
	}
	return true
}

// CostMoved reports whether the planned hours or the planned cost differ from o's (what
// assignment.costed announces; a change of dates that keeps both is no news to cost consumers).
func (c Costed) CostMoved(o Costed) bool {
	return !c.Hours.Equal(o.Hours) || !sameCost(c.Cost, o.Cost)
}

func sameCost(a, b *money.Amount) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Equal(*b))
}
