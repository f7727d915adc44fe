// Package civil is a calendar date without a time zone (work dates, period boundaries, due
// dates), as opposed to timestamps, which are UTC instants.
package civil

import (
	"fmt"
	"time"
)

// Date is a calendar date. The zero value is "no date".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ReasonInvalidDate is returned for impossible dates such as 2026-02-30.
const ReasonInvalidDate = "INVALID_DATE"

// Of returns the date of t in t's location.
func Of(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// Parse reads YYYY-MM-DD.
func Parse(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("civil: %q is not a YYYY-MM-DD date", s)
	}
	return Of(t), nil
}

// Valid reports whether d is a real calendar date.
func (d Date) Valid() bool {
	if d.Month < 1 || d.Month > 12 || d.Day < 1 {
		return false
	}
	return Of(d.Time()) == d
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Time returns midnight UTC of d.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// String formats d as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// AddDays returns d + n days.
func (d Date) AddDays(n int) Date { return Of(d.Time().AddDate(0, 0, n)) }

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.Time().Before(e.Time()) }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.Time().After(e.Time()) }

// Compare returns -1, 0 or +1.
func (d Date) Compare(e Date) int { return d.Time().Compare(e.Time()) }

// Weekday returns the day of the week.
func (d Date) Weekday() time.Weekday { return d.Time().Weekday() }

// DaysUntil returns the number of days from d to e (negative when e is before d).
func (d Date) DaysUntil(e Date) int { return int(e.Time().Sub(d.Time()).Hours() / 24) }

// StartOfISOWeek returns the Monday of d's week.
func (d Date) StartOfISOWeek() Date {
	wd := int(d.Weekday())
	if wd == 0 {
		wd = 7
	}
	return d.AddDays(1 - wd)
}

// IsWorkday reports whether d is a working day of the firm calendar: Monday to Friday (public
// holidays are not modelled yet). Every service plans and prices with this one calendar.
func IsWorkday(d Date) bool {
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// Workdays returns the working days of [from, to].
func Workdays(from, to Date) []Date {
	var out []Date
	for d := from; !d.After(to); d = d.AddDays(1) {
		if IsWorkday(d) {
			out = append(out, d)
		}
	}
	return out
}
