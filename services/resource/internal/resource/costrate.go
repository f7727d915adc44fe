// Package resource is the resource domain: people who deliver work, their effective-dated cost
// rates, their assignments to project tasks and the costed plan of each assignment. No I/O here.
package resource

import (
	"slices"
	"time"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
)

// Errors.
var (
	ErrNotFound          = fault.New(fault.NotFound, "RESOURCE_NOT_FOUND", "no such resource")
	ErrInactive          = fault.New(fault.FailedPrecondition, "RESOURCE_INACTIVE", "the resource is inactive and cannot be staffed")
	ErrRateCurrency      = fault.New(fault.FailedPrecondition, "CURRENCY_MISMATCH", "a resource's cost rates are all in one currency")
	ErrInvalidRatePeriod = fault.New(fault.Invalid, "INVALID_PERIOD", "the rate period ends before it starts")
)

// Rate is a cost rate over [From, To] (To zero: open-ended).
type Rate struct {
	// ID identifies a stored period (0 for a period not stored yet).
	ID         int64
	Rate       money.Amount
	From       civil.Date
	To         civil.Date
	RecordedAt time.Time
	Reason     string
}

// HistoricRate is a superseded cost-rate period.
type HistoricRate struct {
	Rate
	SupersededAt time.Time
}

// Covers reports whether the rate applies on d.
func (r Rate) Covers(d civil.Date) bool {
	return !d.Before(r.From) && (r.To.IsZero() || !d.After(r.To))
}

// Timeline is a resource's current cost rates: non-overlapping periods ordered by start.
type Timeline []Rate

// At returns the rate effective on d.
func (t Timeline) At(d civil.Date) (Rate, bool) {
	for _, r := range t {
		if r.Covers(d) {
			return r, true
		}
	}
	return Rate{}, false
}

// Set returns the timeline with r in force over [r.From, r.To]: periods it overlaps are cut
// around it (the parts outside keep their rate), never edited in place. It also returns the
// indexes of the periods of t that the change supersedes (to keep them in the history).
func (t Timeline) Set(r Rate) (Timeline, []int, error) {
	if !r.To.IsZero() && r.To.Before(r.From) {
		return nil, nil, ErrInvalidRatePeriod.At("effective_to")
	}
	for _, x := range t {
		if x.Rate.Currency != r.Rate.Currency {
			return nil, nil, ErrRateCurrency.With("the resource's cost rates are in " + x.Rate.Currency + ", not " + r.Rate.Currency)
		}
	}
	var out Timeline
	var superseded []int
	for i, x := range t {
		if !overlaps(x, r) {
			out = append(out, x)
			continue
		}
		superseded = append(superseded, i)
		if x.From.Before(r.From) { // the part before the new period
			before := x
			before.ID, before.To = 0, r.From.AddDays(-1)
			out = append(out, before)
		}
		if !r.To.IsZero() && (x.To.IsZero() || x.To.After(r.To)) { // the part after it
			after := x
			after.ID, after.From = 0, r.To.AddDays(1)
			out = append(out, after)
		}
	}
	out = append(out, r)
	slices.SortFunc(out, func(a, b Rate) int { return a.From.Compare(b.From) })
	return out, superseded, nil
}

func overlaps(a, b Rate) bool {
	aEndsBefore := !a.To.IsZero() && a.To.Before(b.From)
	bEndsBefore := !b.To.IsZero() && b.To.Before(a.From)
	return !aEndsBefore && !bEndsBefore
}

// Same reports whether setting r would change nothing: one current period already has r's rate
// and covers exactly r's period.
func (t Timeline) Same(r Rate) bool {
	for _, x := range t {
		if x.From == r.From && x.To == r.To && x.Rate.Equal(r.Rate) {
			return true
		}
	}
	return false
}
