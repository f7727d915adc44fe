package project

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
)

// Reasons of rejected conversions.
const (
	ReasonLinesMismatch      = "CONTRACT_LINES_MISMATCH"
	ReasonUnknownServiceLine = "UNKNOWN_SERVICE_LINE"
	ReasonUnknownLegalEntity = "UNKNOWN_LEGAL_ENTITY"
	ReasonCurrencyMismatch   = "CURRENCY_MISMATCH"
	ReasonTaxProfileMissing  = "TAX_PROFILE_MISSING"
	ReasonHierarchyCycle     = "HIERARCHY_CYCLE"
	ReasonDuplicateLine      = "DUPLICATE_LINE_KEY"
	ReasonInvalidPeriod      = "INVALID_PERIOD"
)

// DealLine is one service line of a won deal.
type DealLine struct {
	Key         string
	ServiceLine string
	// Description names the line's summary task; the template's name when empty.
	Description string
	Amount      money.Amount
	BudgetHours decimal.Decimal
}

// Deal is what the project domain checks of a won opportunity before anything is written, and
// what its project is built from.
type Deal struct {
	Name        string
	ManagerID   string
	ManagerName string
	// Source is the opportunity.
	Source SourceRef
	Amount money.Amount
	Start  civil.Date
	End    civil.Date
	Lines  []DealLine
	// AccountChain is the account id followed by its parents' ids, nearest first.
	AccountChain []string
	// LegalEntityCode names the legal entity that books the deal.
	LegalEntityCode string
}

// Validate checks that the lines are in the deal currency and sum to the deal amount, that line
// keys are unique, the dates ordered and the account hierarchy free of cycles. Field paths are
// relative to the request's "opportunity".
func (d Deal) Validate() error {
	if d.End.Before(d.Start) {
		return fault.Invalidf(ReasonInvalidPeriod, "opportunity.end_date", "the project ends (%s) before it starts (%s)", d.End, d.Start)
	}
	keys := map[string]bool{}
	sum := decimal.Zero
	for i, l := range d.Lines {
		if l.Amount.Currency != d.Amount.Currency {
			e := fault.Invalidf(ReasonCurrencyMismatch, fmt.Sprintf("opportunity.service_lines[%d].amount.currency_code", i),
				"service line %q is in %s, the deal in %s", l.Key, l.Amount.Currency, d.Amount.Currency)
			e.Kind = fault.FailedPrecondition
			return e
		}
		if keys[l.Key] {
			return fault.Invalidf(ReasonDuplicateLine, fmt.Sprintf("opportunity.service_lines[%d].line_key", i), "line key %q is used twice", l.Key)
		}
		keys[l.Key] = true
		sum = sum.Add(l.Amount.Value)
	}
	if !sum.Equal(d.Amount.Value) {
		return fault.Invalidf(ReasonLinesMismatch, "opportunity.service_lines",
			"the service lines sum to %s %s but the deal amount is %s %s",
			money.Amount{Value: sum, Currency: d.Amount.Currency}.Format(), d.Amount.Currency, d.Amount.Format(), d.Amount.Currency)
	}
	seen := map[string]int{}
	for i, id := range d.AccountChain {
		if j, ok := seen[id]; ok {
			field := fmt.Sprintf("opportunity.parent_accounts[%d].account_id", i-1)
			e := fault.Invalidf(ReasonHierarchyCycle, field, "account %s appears twice in its own hierarchy (positions %d and %d)", id, j, i)
			e.Kind = fault.FailedPrecondition
			return e
		}
		seen[id] = i
	}
	return nil
}

// CheckSetup checks the deal against what the project service knows (see ConversionLookup):
// every service line has a project template, and the legal entity exists. The deal may be in any
// currency (Validate keeps its lines in the deal currency): its contract is then a foreign-currency
// contract, which billing books in the legal entity's functional currency at each date's rate.
func (d Deal) CheckSetup(look ConversionLookup) error {
	for i, l := range d.Lines {
		if _, ok := look.Templates[l.ServiceLine]; !ok {
			e := fault.Invalidf(ReasonUnknownServiceLine, fmt.Sprintf("opportunity.service_lines[%d].service_line", i),
				"service line %s has no project template", l.ServiceLine)
			e.Kind = fault.FailedPrecondition
			return e
		}
	}
	if !look.LegalEntityFound {
		return UnknownLegalEntity(d.LegalEntityCode)
	}
	return nil
}

// ServiceLines returns the service lines of the deal's lines, in order.
func (d Deal) ServiceLines() []string {
	out := make([]string, len(d.Lines))
	for i, l := range d.Lines {
		out[i] = l.ServiceLine
	}
	return out
}

// BudgetHours sums the lines' planned hours.
func (d Deal) BudgetHours() decimal.Decimal {
	sum := decimal.Zero
	for _, l := range d.Lines {
		sum = sum.Add(l.BudgetHours)
	}
	return sum
}

// NewProject builds the project of a deal's first conversion with a task tree per line:
// ACTIVE at once when the contract exists (contractID), PENDING_FINANCIAL_ACTIVATION otherwise.
// newID mints the project and task ids.
func (d Deal) NewProject(customerID, legalEntityID, contractID string, templates map[string]Template, now time.Time, newID func() string) (Project, error) {
	p := Project{ID: newID(), Name: d.Name, CustomerID: customerID, LegalEntityID: legalEntityID,
		Currency: d.Amount.Currency, Start: d.Start, End: d.End, ManagerID: d.ManagerID, ManagerName: d.ManagerName,
		Status: PendingFinancialActivation, Source: d.Source, Version: 1, CreatedAt: now, UpdatedAt: now}
	if contractID != "" {
		p.ContractID = contractID
		if err := p.Move(Active); err != nil {
			return p, err
		}
	}
	p.budget(d)
	for i, l := range d.Lines {
		p.Tasks = append(p.Tasks, LineTasks(i+1, l.Key, l.name(templates), templates[l.ServiceLine], newID)...)
	}
	return p, nil
}

// Amend applies a newer version of its deal to the project: header and budget, and a task tree
// for each line its tasks do not cover yet (numbered after the existing ones). It returns the
// tasks added.
func (p *Project) Amend(d Deal, customerID string, templates map[string]Template, now time.Time, newID func() string) []Task {
	p.Name, p.CustomerID, p.Start, p.End = d.Name, customerID, d.Start, d.End
	p.ManagerID, p.ManagerName = d.ManagerID, d.ManagerName
	p.budget(d)
	covered := p.LineKeys()
	var added []Task
	n := p.NextRootNumber()
	for _, l := range d.Lines {
		if covered[l.Key] {
			continue
		}
		added = append(added, LineTasks(n, l.Key, l.name(templates), templates[l.ServiceLine], newID)...)
		n++
	}
	p.Tasks = append(p.Tasks, added...)
	p.Version++
	p.UpdatedAt = now
	return added
}

// budget sets the revenue budget to the deal amount and the hours budget to the lines' hours
// (when any).
func (p *Project) budget(d Deal) {
	rev := d.Amount
	p.Budget.Revenue = &rev
	if h := d.BudgetHours(); h.IsPositive() {
		p.Budget.Hours = &h
	}
}

func (l DealLine) name(templates map[string]Template) string {
	if l.Description != "" {
		return l.Description
	}
	return templates[l.ServiceLine].Name
}
