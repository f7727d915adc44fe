package revenue

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/contract"
)

// Estimate is the estimate to complete of a contract line, effective from a period on.
type Estimate struct {
	ContractID         string
	LineKey            string
	EffectivePeriod    string // YYYY-MM
	EstimateToComplete money.Amount
	Note               string
	SetBy              string
	SetAt              time.Time
}

// Prior is what a line recognized up to the period before the one being run.
type Prior struct {
	ToDate    decimal.Decimal
	Provision decimal.Decimal
}

// Recorded is what the run recorded for a contract line and period.
type Recorded struct {
	ContractID     string
	LineKey        string
	Period         string
	LegalEntityID  string
	RunID          string
	Method         contract.RevenueMethod
	Currency       string
	ToDate         decimal.Decimal
	Amount         decimal.Decimal
	CostToDate     decimal.Decimal
	EstimateTotal  *decimal.Decimal
	Progress       *decimal.Decimal
	LossContract   bool
	LossProvision  decimal.Decimal
	LossAmount     decimal.Decimal
	JournalEntryID string
	// Skipped says why nothing was recognized (not stored: a skipped line gets no row).
	Skipped string
}

// ContractPosition is a contract's recognized and billed to date and its asset or liability,
// with the ledger balances it ties to (as of a date or a period end).
type ContractPosition struct {
	ContractID    string
	LegalEntityID string
	Period        string
	AsOf          civil.Date
	Currency      string
	Recognized    decimal.Decimal
	Billed        decimal.Decimal
	Asset         decimal.Decimal
	Liability     decimal.Decimal
	// Reclassified is what the run moved from unbilled receivables to deferred revenue.
	Reclassified   decimal.Decimal
	JournalEntryID string
	// LedgerUnbilled and LedgerDeferred are the contract's balances (debit positive) of unbilled
	// receivables and deferred revenue in the ledger: after the run, Asset and −Liability.
	LedgerUnbilled decimal.Decimal
	LedgerDeferred decimal.Decimal
}

// Run is a recognition run of a legal entity and period.
type Run struct {
	ID            string
	LegalEntityID string
	Period        string
	DryRun        bool
	RunAt         time.Time
	RunBy         string
	Currency      string
	Recognized    decimal.Decimal
	Loss          decimal.Decimal
	Reclassified  decimal.Decimal
	Lines         []Recorded
	Positions     []ContractPosition
	// LossContracts names the contracts flagged as loss contracts by this run.
	LossContracts []string
}
