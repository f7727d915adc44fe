package project

import (
	"fmt"

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
	Amount      money.Amount
	BudgetHours decimal.Decimal
}

// Deal is what the project domain checks of a won opportunity before anything is written.
type Deal struct {
	Amount money.Amount
	Start  civil.Date
	End    civil.Date
	Lines  []DealLine
	// AccountChain is the account id followed by its parents' ids, nearest first.
	AccountChain []string
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

// BudgetHours sums the lines' planned hours.
func (d Deal) BudgetHours() decimal.Decimal {
	sum := decimal.Zero
	for _, l := range d.Lines {
		sum = sum.Add(l.BudgetHours)
	}
	return sum
}
