package ledger

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
)

// SourceCostAdjustment is the source type of the entries that re-cost posted time when a cost
// rate changes after it was posted: the source id is the time entry's, the version the
// resource's rates version that caused it (so each rate change adjusts an entry at most once).
const SourceCostAdjustment = "cost_adjustment"

// PostedCost is a posted, unreversed time entry with the labor cost it carries now: its
// original entry plus every cost adjustment since.
type PostedCost struct {
	SourceID   string
	Version    int64
	EntryID    string // the original journal entry
	ResourceID string
	ProjectID  string
	TaskID     string
	Date       civil.Date
	Hours      decimal.Decimal
	// Cost is the net labor cost posted (functional currency), TxnCost the same in the
	// transaction currency of the original.
	Cost    decimal.Decimal
	TxnCost money.Amount
}

// Recost returns the adjustment that brings p to the cost rate in effect on its work date now:
// ok false when nothing is to post (same cost, no rate or exchange rate for the date). The
// delta is dated on the work date when its period is open, else per the legal entity's policy
// (the first open period, or RejectedClosedPeriod without an entry).
func (b Book) Recost(p PostedCost, ratesVersion int64) (Result, bool) {
	src := Source{Type: SourceCostAdjustment, ID: p.SourceID, Version: ratesVersion, ResourceID: p.ResourceID,
		ProjectID: p.ProjectID, TaskID: p.TaskID, Date: p.Date, Hours: decimal.Zero}
	proj, ok := b.Projects[p.ProjectID]
	if !ok {
		return Result{}, false
	}
	le := b.Entities[proj.LegalEntityID]
	rate, ok := b.costRate(p.ResourceID, p.Date)
	if !ok {
		return Result{}, false
	}
	cost := money.Amount{Value: p.Hours.Mul(rate.Value), Currency: rate.Currency}.Round()
	fcost, fx, ok := b.toFunctional(cost, le.FunctionalCurrency, p.Date)
	if !ok {
		return Result{}, false
	}
	delta := fcost.Sub(p.Cost)
	if delta.IsZero() {
		return Result{}, false
	}
	txn := money.Amount{Value: cost.Value.Sub(p.TxnCost.Value), Currency: cost.Currency}
	if p.TxnCost.Currency != cost.Currency {
		// The rate changed currency: the delta is only meaningful in the functional one.
		txn, fx = money.Amount{Value: delta, Currency: le.FunctionalCurrency}, decimal.NewFromInt(1)
	}
	r := Result{Source: src, Cost: money.Amount{Value: delta, Currency: le.FunctionalCurrency},
		Revenue: money.Zero(le.FunctionalCurrency), BillableHrs: decimal.Zero}
	date, ok := le.postingDate(p.Date, false)
	if !ok {
		r.Outcome, r.Reason = RejectedClosedPeriod, ReasonPeriodClosed
		return r, true
	}
	r.Outcome, r.PostingDate = Posted, date
	r.Entry = &Entry{ID: b.NewID(), LegalEntityID: le.ID, Currency: le.FunctionalCurrency, PostingDate: date, SourceDate: p.Date,
		SourceType: SourceCostAdjustment, SourceID: p.SourceID, SourceVersion: ratesVersion,
		Description: fmt.Sprintf("cost re-rate of time %s v%d (entry %s): %sh at %s, was %s; resource %s rates v%d",
			p.SourceID, p.Version, p.EntryID, p.Hours, rate, money.Amount{Value: p.Cost, Currency: le.FunctionalCurrency}, p.ResourceID, ratesVersion),
		Lines: debitCredit(LaborCost, LaborCostClearing, p.ProjectID, p.TaskID, delta, txn, fx, p.Date)}
	return r, true
}
