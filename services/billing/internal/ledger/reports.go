package ledger

import (
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/money"
)

// BalanceLine is one account's debit and credit totals.
type BalanceLine struct {
	Code, Name    string
	Debit, Credit decimal.Decimal
}

// Balance is debits minus credits.
func (l BalanceLine) Balance() decimal.Decimal { return l.Debit.Sub(l.Credit) }

// TrialBalance is the balances of a legal entity's accounts, in its functional currency.
type TrialBalance struct {
	Currency string
	Lines    []BalanceLine
}

// Totals returns the total debits and credits; the books balance when they are equal.
func (tb TrialBalance) Totals() (debit, credit decimal.Decimal, balanced bool) {
	debit, credit = decimal.Zero, decimal.Zero
	for _, l := range tb.Lines {
		debit, credit = debit.Add(l.Debit), credit.Add(l.Credit)
	}
	return debit, credit, debit.Equal(credit)
}

// EntryFilter selects journal entries ("" matches any).
type EntryFilter struct {
	LegalEntityID string
	ProjectID     string // entries with a line on the project
	SourceID      string
	// LegalEntities restricts the entries to these legal entities; nil means any.
	LegalEntities []string
}

// CandidateFilter selects invoice candidates ("" matches any).
type CandidateFilter struct {
	ProjectID string
	SourceID  string
	// LegalEntities restricts the candidates to projects of these legal entities; nil means any.
	LegalEntities []string
}

// KPIs are billing's business KPIs.
type KPIs struct {
	// UnbilledTime is the open candidates of time, per currency.
	UnbilledTime                []money.Amount
	EntriesRejectedClosedPeriod int64
	// TimesheetsRejectedClosedPeriod counts distinct resource-weeks with a rejected entry.
	TimesheetsRejectedClosedPeriod int64
	ParkedRateMissing              int64
	JournalEntries                 int64
	// InvoicesBlockedTax counts invoice drafts blocked by missing tax data (BLOCKED_TAX).
	InvoicesBlockedTax int64
	// LossContracts counts contracts flagged as loss contracts by revenue recognition.
	LossContracts int64
}
