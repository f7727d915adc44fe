// Package periodclose is the month-end close of a legal entity's period (issue 16): the checklist
// the close enforces and reports, and the statuses a period moves through (open → soft closed →
// closed, reopened only with its own scope). No I/O: the app reads the figures each item checks
// and this package decides which items fail.
package periodclose

import (
	"fmt"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/fault"
)

// Item names a checklist item (stable: waivers and clients name items by it).
type Item string

const (
	// NoParkedPostings: no approved entry billing received waits unposted (parked) in the period.
	NoParkedPostings Item = "NO_PARKED_POSTINGS"
	// NoDraftInvoices: no draft (or tax-blocked) invoice is dated (cut off) in the period; may be
	// waived with a reason.
	NoDraftInvoices Item = "NO_DRAFT_INVOICES"
	// RecognitionRun: a revenue recognition run was done for the period.
	RecognitionRun Item = "RECOGNITION_RUN"
	// EntriesBalanced: every journal entry posted in the period balances.
	EntriesBalanced Item = "ENTRIES_BALANCED"
	// HoursReconciled: the latest reconciliation run of the legal entity and period (billing's
	// ReconciliationService: approved = posted = billed + unbilled, supplier lines, balanced
	// entries, events consumed) did not find drift, and billable hours posted in the period =
	// billed + unbilled hours. A DRIFT run fails the item naming the run; with no run (or an
	// INCOMPLETE one) the billing-local hours check alone decides.
	HoursReconciled Item = "HOURS_RECONCILED"
)

// Items is the checklist, in the order it is reported.
var Items = []Item{NoParkedPostings, NoDraftInvoices, RecognitionRun, EntriesBalanced, HoursReconciled}

// Waivable reports whether an item may be waived with a reason.
func Waivable(i Item) bool { return i == NoDraftInvoices }

// Faults with their stable reasons.
var (
	ErrChecklistFailed = fault.New(fault.FailedPrecondition, "CLOSE_CHECKLIST_FAILED", "the period's close checklist has failing items")
	ErrNotWaivable     = fault.New(fault.Invalid, "CLOSE_ITEM_NOT_WAIVABLE", "only the draft-invoice item can be waived")
	ErrWaiverReason    = fault.New(fault.Invalid, "CLOSE_WAIVER_REASON_REQUIRED", "a waiver needs a reason")
	ErrPeriodClosed    = fault.New(fault.FailedPrecondition, "PERIOD_CLOSED", "the period of the legal entity is closed")
	ErrReopenScope     = fault.New(fault.FailedPrecondition, "PERIOD_REOPEN_REQUIRED", "the period is closed: reopen it with ReopenPeriod (scope periods:reopen)")
	ErrNotClosed       = fault.New(fault.FailedPrecondition, "PERIOD_NOT_CLOSED", "the period is not closed or soft closed: nothing to reopen")
)

// Facts are the figures the checklist checks, read for one legal entity and period.
type Facts struct {
	ParkedPostings    int64
	DraftInvoices     int64
	Runs              int64
	UnbalancedEntries int64
	PostedHours       decimal.Decimal // billable hours posted in the period
	BilledHours       decimal.Decimal // of them, invoiced
	UnbilledHours     decimal.Decimal // of them, open
	// The latest reconciliation run of the period, if any: its id, status (CLEAN, DRIFT,
	// INCOMPLETE) and number of findings.
	ReconciliationRunID    string
	ReconciliationStatus   string
	ReconciliationFindings int
	// Waivers maps a waived item to its reason.
	Waivers map[Item]string
}

// Result is one checklist item's outcome.
type Result struct {
	Item   Item
	Passed bool
	Waived bool
	Detail string
}

// Checklist is the outcome of every item.
type Checklist struct {
	LegalEntityID string
	Period        string
	Results       []Result
}

// Evaluate decides every item from the facts.
func Evaluate(legalEntityID, period string, f Facts) Checklist {
	c := Checklist{LegalEntityID: legalEntityID, Period: period}
	add := func(i Item, ok bool, detail string) {
		r := Result{Item: i, Passed: ok, Detail: detail}
		if reason, w := f.Waivers[i]; w && !ok && Waivable(i) {
			r.Passed, r.Waived, r.Detail = true, true, detail+"; waived: "+reason
		}
		c.Results = append(c.Results, r)
	}
	add(NoParkedPostings, f.ParkedPostings == 0, fmt.Sprintf("%d parked postings dated in the period", f.ParkedPostings))
	add(NoDraftInvoices, f.DraftInvoices == 0, fmt.Sprintf("%d draft invoices dated in the period", f.DraftInvoices))
	add(RecognitionRun, f.Runs > 0, fmt.Sprintf("%d recognition runs for the period", f.Runs))
	add(EntriesBalanced, f.UnbalancedEntries == 0, fmt.Sprintf("%d unbalanced journal entries", f.UnbalancedEntries))
	sum := f.BilledHours.Add(f.UnbilledHours)
	hours := fmt.Sprintf("posted %s h, billed %s h + unbilled %s h = %s h", f.PostedHours, f.BilledHours, f.UnbilledHours, sum)
	switch {
	case f.ReconciliationRunID == "":
		add(HoursReconciled, f.PostedHours.Equal(sum), hours+"; no reconciliation run for the period")
	case f.ReconciliationStatus == "DRIFT":
		add(HoursReconciled, false, fmt.Sprintf("reconciliation run %s found drift (%d findings); %s",
			f.ReconciliationRunID, f.ReconciliationFindings, hours))
	default:
		add(HoursReconciled, f.PostedHours.Equal(sum), fmt.Sprintf("reconciliation run %s is %s; %s",
			f.ReconciliationRunID, f.ReconciliationStatus, hours))
	}
	return c
}

// Failing lists the items that fail (waived items pass).
func (c Checklist) Failing() []Item {
	var out []Item
	for _, r := range c.Results {
		if !r.Passed {
			out = append(out, r.Item)
		}
	}
	return out
}

// Passed reports whether every item passes.
func (c Checklist) Passed() bool { return len(c.Failing()) == 0 }

// Err is ErrChecklistFailed naming the failing items (metadata "failing_items", comma
// separated), nil when the checklist passes.
func (c Checklist) Err() error {
	f := c.Failing()
	if len(f) == 0 {
		return nil
	}
	names := make([]string, len(f))
	for i, it := range f {
		names[i] = string(it)
	}
	return ErrChecklistFailed.With("failing items: "+strings.Join(names, ", "), "failing_items", strings.Join(names, ","))
}

// ParseItem returns the item named s.
func ParseItem(s string) (Item, bool) {
	i := Item(s)
	return i, slices.Contains(Items, i)
}
