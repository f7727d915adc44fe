// Package suppliercost is the domain of supplier and subcontractor cost: bill lines from the
// procurement / AP system, the named, versioned allocation rules that spread them over projects,
// and the largest-remainder split to the minor unit. No I/O here: the use cases load what a rule
// needs (approved hours, labor cost) and pass it in.
package suppliercost

import (
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
)

// Stable reasons of supplier cost.
var (
	ErrUnknownProject  = fault.New(fault.FailedPrecondition, "SUPPLIER_COST_PROJECT_UNKNOWN", "unknown project")
	ErrProjectClosed   = fault.New(fault.FailedPrecondition, "SUPPLIER_COST_PROJECT_CLOSED", "project is closed")
	ErrUnknownCurrency = fault.New(fault.Invalid, money.ReasonUnknownCurrency, "unknown currency")
	ErrAmountPrecision = fault.New(fault.Invalid, money.ReasonPrecision, "too many decimals")
	ErrPeriodClosed    = fault.New(fault.FailedPrecondition, "SUPPLIER_COST_PERIOD_CLOSED", "the bill's period is closed")
	ErrRuleMissing     = fault.New(fault.FailedPrecondition, "ALLOCATION_RULE_MISSING", "no allocation rule")
	ErrRuleInvalid     = fault.New(fault.Invalid, "ALLOCATION_RULE_INVALID", "invalid allocation rule")
	ErrLineInvalid     = fault.New(fault.Invalid, "SUPPLIER_BILL_LINE_INVALID", "invalid supplier bill line")
	ErrLineNotFound    = fault.New(fault.NotFound, "SUPPLIER_BILL_LINE_NOT_FOUND", "supplier bill line not found")
)

// Line is a supplier bill line. Vendor, bill number and line number identify it; a new amount
// (or any other change) for the same key is a new version, which re-allocates by reversal.
type Line struct {
	ID            string
	LegalEntityID string
	VendorID      string
	VendorName    string
	BillNumber    string
	LineNo        int32
	Version       int64
	Amount        money.Amount
	BillDate      civil.Date
	PeriodStart   civil.Date
	PeriodEnd     civil.Date
	Description   string
	ProjectID     string // optional: direct allocation
	TaskID        string
	RuleName      string // optional: allocation rule
	RuleVersion   int64  // the rule's version when the line was taken in
	Billable      bool
}

// Validate checks the line on its own (not its project or rule).
func (l Line) Validate() error {
	switch {
	case strings.TrimSpace(l.VendorID) == "", strings.TrimSpace(l.BillNumber) == "", l.LineNo < 1:
		return fault.Invalidf(ErrLineInvalid.Reason, "line", "vendor id, bill number and a line number from 1 are required")
	case !money.KnownCurrency(l.Amount.Currency):
		return fault.Invalidf(ErrUnknownCurrency.Reason, "line.amount.currency_code", "unknown currency %q", l.Amount.Currency)
	case l.Amount.Value.IsZero():
		return fault.Invalidf(ErrLineInvalid.Reason, "line.amount", "amount must not be zero")
	case l.PeriodEnd.Before(l.PeriodStart):
		return fault.Invalidf(ErrLineInvalid.Reason, "line.service_period", "service period ends before it starts")
	case l.ProjectID == "" && l.RuleName == "":
		return fault.Invalidf(ErrRuleMissing.Reason, "line.allocation_rule", "a line needs a project or an allocation rule")
	case l.ProjectID == "" && l.TaskID != "":
		return fault.Invalidf(ErrLineInvalid.Reason, "line.task_id", "a task needs its project")
	}
	exp, _ := money.Exponent(l.Amount.Currency)
	if v := l.Amount.Value.Shift(exp); !v.Equal(v.Truncate(0)) {
		return fault.Invalidf(ErrAmountPrecision.Reason, "line.amount.amount", "more decimals than %s allows", l.Amount.Currency)
	}
	return nil
}

// SameContent reports whether o carries the same facts as l (a redelivery, not a correction).
func (l Line) SameContent(o Line) bool {
	return l.VendorName == o.VendorName && l.Amount.Equal(o.Amount) && l.BillDate == o.BillDate && l.PeriodStart == o.PeriodStart &&
		l.PeriodEnd == o.PeriodEnd && l.Description == o.Description && l.ProjectID == o.ProjectID && l.TaskID == o.TaskID &&
		l.RuleName == o.RuleName && l.Billable == o.Billable
}

// RuleKind is how a rule spreads a line.
type RuleKind string

const (
	Direct      RuleKind = "DIRECT"       // one project (and task)
	FixedShares RuleKind = "FIXED_SHARES" // percentages summing to exactly 100
	ByHours     RuleKind = "HOURS"        // approved hours of the projects in the service period
	ByLaborCost RuleKind = "LABOR_COST"   // labor cost of the projects in the service period
)

// Target is a project (and optional task) of a rule; Percent only for FixedShares.
type Target struct {
	ProjectID string
	TaskID    string
	Percent   decimal.Decimal
}

// Rule is a named, versioned allocation rule of a legal entity.
type Rule struct {
	LegalEntityID string
	Name          string
	Version       int64
	Kind          RuleKind
	Targets       []Target
	// CustomerID, for ByHours and ByLaborCost rules instead of Targets: the customer's open
	// projects (through its contracts) in the legal entity, resolved at each allocation.
	CustomerID string
}

// OfCustomer reports whether the rule spreads over a customer's projects (ResolveTargets).
func (r Rule) OfCustomer() bool { return r.CustomerID != "" }

// ResolveTargets returns the rule with the customer's projects as its targets, in the order
// given (the caller sorts them, so a re-allocation splits ties the same way).
func (r Rule) ResolveTargets(projectIDs []string) Rule {
	r.Targets = make([]Target, len(projectIDs))
	for i, id := range projectIDs {
		r.Targets[i] = Target{ProjectID: id}
	}
	return r
}

// Validate checks the rule's shape.
func (r Rule) Validate() error {
	bad := func(format string, args ...any) error {
		return fault.Invalidf(ErrRuleInvalid.Reason, "rule", format, args...)
	}
	if strings.TrimSpace(r.Name) == "" {
		return bad("a rule needs a name")
	}
	if r.OfCustomer() {
		if r.Kind != ByHours && r.Kind != ByLaborCost {
			return bad("only hours and labor cost rules spread over a customer's projects")
		}
		if len(r.Targets) > 0 {
			return bad("a rule names either a customer or its projects, not both")
		}
		return nil
	}
	if len(r.Targets) == 0 {
		return bad("a rule needs at least one project or a customer")
	}
	seen := map[string]bool{}
	sum := decimal.Zero
	for _, t := range r.Targets {
		if t.ProjectID == "" {
			return bad("every target needs a project")
		}
		if seen[t.ProjectID+"/"+t.TaskID] {
			return bad("project %s is named twice", t.ProjectID)
		}
		seen[t.ProjectID+"/"+t.TaskID] = true
		if r.Kind == FixedShares {
			if !t.Percent.IsPositive() {
				return bad("every share must be positive")
			}
			sum = sum.Add(t.Percent)
		} else if !t.Percent.IsZero() {
			return bad("only fixed shares carry percentages")
		}
	}
	switch r.Kind {
	case Direct:
		if len(r.Targets) != 1 {
			return bad("a direct rule names exactly one project")
		}
	case FixedShares:
		if !sum.Equal(decimal.NewFromInt(100)) {
			return bad("shares sum to %s %%, not exactly 100 %%", sum)
		}
	case ByHours, ByLaborCost:
	default:
		return bad("unknown rule kind %q", r.Kind)
	}
	return nil
}

// Part is the share of a line booked on one project.
type Part struct {
	ProjectID string
	TaskID    string
	Amount    money.Amount
}

// Allocate splits total over the rule's targets. basis holds, per project, the approved hours or
// labor cost of the service period (ByHours, ByLaborCost); a rule of nil books total on the
// line's own project and task.
func Allocate(l Line, r *Rule, total money.Amount, basis map[string]decimal.Decimal) ([]Part, error) {
	if r == nil {
		if l.ProjectID == "" {
			return nil, ErrRuleMissing
		}
		return []Part{{ProjectID: l.ProjectID, TaskID: l.TaskID, Amount: total}}, nil
	}
	weights := make([]decimal.Decimal, len(r.Targets))
	for i, t := range r.Targets {
		switch r.Kind {
		case Direct:
			weights[i] = decimal.NewFromInt(1)
		case FixedShares:
			weights[i] = t.Percent
		case ByHours, ByLaborCost:
			weights[i] = basis[t.ProjectID]
		default:
			return nil, fmt.Errorf("suppliercost: rule kind %q", r.Kind)
		}
	}
	amounts, err := Split(total, weights)
	if err != nil {
		return nil, err
	}
	parts := make([]Part, 0, len(amounts))
	for i, a := range amounts {
		if a.IsZero() {
			continue
		}
		parts = append(parts, Part{ProjectID: r.Targets[i].ProjectID, TaskID: r.Targets[i].TaskID, Amount: a})
	}
	return parts, nil
}

// Status of a line.
type Status string

const (
	Awaiting  Status = "AWAITING"  // recorded or corrected, not allocated yet
	Allocated Status = "ALLOCATED" // its current version is posted
	Parked    Status = "PARKED"    // waiting for what it misses (Reason), re-driven when it arrives
)

// Reasons a line is parked.
const (
	ReasonFXRateMissing = "FX_RATE_MISSING"
	ReasonPeriodClosed  = "PERIOD_CLOSED"
	ReasonNoBasis       = "ALLOCATION_BASIS_EMPTY"
)

// Allocation is where a line's allocation stands: the version last posted and its entry.
type Allocation struct {
	Status  Status
	Version int64
	EntryID string
	// Seq counts the line's postings (each correction or re-allocation adds one).
	Seq int64
}

// Outcome of recording a line.
type Outcome string

const (
	Created   Outcome = "CREATED"
	Unchanged Outcome = "UNCHANGED"
	Corrected Outcome = "CORRECTED"
)

// KPIs are the supplier cost awaiting allocation of a legal entity.
type KPIs struct {
	Awaiting  int64
	Parked    int64
	Amounts   []money.Amount // per currency
	OldestAge time.Duration
}

// Source types of the journal entries of supplier cost.
const (
	SourceLine     = "supplier_bill_line"
	SourceReversal = "supplier_bill_line_reversal"
	// SourceCost is a part of an allocation on one project (its cost, and for a billable line
	// its invoice candidate); SourceCostReversal cancels one.
	SourceCost         = "supplier_cost"
	SourceCostReversal = "supplier_cost_reversal"
)
