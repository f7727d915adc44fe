package ledger

import (
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/contract"
)

// Project is what posting needs of a project.
type Project struct {
	ID            string
	LegalEntityID string
	ContractID    string
	Tasks         map[string]Task
}

// Task is what posting needs of a task.
type Task struct {
	Billable bool
	LineKey  string
}

// LegalEntity is what posting needs of a legal entity.
type LegalEntity struct {
	ID                 string
	FunctionalCurrency string
	RollForward        bool
	// Closed holds its closed periods ("YYYY-MM").
	Closed map[string]bool
}

// ContractLine is what posting needs of a contract line.
type ContractLine struct {
	ContractID    string
	Key           string
	Currency      string
	TimeAndMat    bool // billable time at the rate card: TIME_AND_MATERIALS and RETAINER lines
	AsDelivered   bool
	ExpenseMarkup *decimal.Decimal
	// Rates is the line's rate card (in the line's currency).
	Rates contract.RateCard
}

// CostRate is a cost-rate period of a resource.
type CostRate struct {
	Rate     money.Amount
	From, To civil.Date
}

// Covers reports whether the rate applies on d (contract.InEffect: the one rule of effective-dated
// rates).
func (r CostRate) Covers(d civil.Date) bool { return contract.InEffect(r.From, r.To, d) }

// Book is everything a batch of postings reads. Maps are keyed by id.
type Book struct {
	Projects     map[string]Project
	Entities     map[string]LegalEntity
	Lines        map[string]ContractLine // contract id + "/" + line key
	CostRates    map[string][]CostRate   // resource id
	Roles        map[string]string       // resource id → role
	FX           func(from, to string, d civil.Date) (decimal.Decimal, bool)
	NewID        func() string
	PostedBefore map[string]Prior // source id of an original → how it was posted (reversals)
}

// Prior is how an original source was posted, for its reversal.
type Prior struct {
	Outcome Outcome
	// Version is the original's version (sources are versioned by their approval history).
	Version int64
	Entry   *Entry
}

func (b Book) costRate(resourceID string, d civil.Date) (money.Amount, bool) {
	for _, r := range b.CostRates[resourceID] {
		if r.Covers(d) {
			return r.Rate, true
		}
	}
	return money.Amount{}, false
}

// toFunctional converts a transaction amount to the functional currency at the rate of date d,
// rounding once.
func (b Book) toFunctional(a money.Amount, functional string, d civil.Date) (decimal.Decimal, decimal.Decimal, bool) {
	if a.Currency == functional {
		return a.Value, decimal.NewFromInt(1), true
	}
	if b.FX == nil {
		return decimal.Zero, decimal.Zero, false
	}
	rate, ok := b.FX(a.Currency, functional, d)
	if !ok {
		return decimal.Zero, decimal.Zero, false
	}
	return money.Amount{Value: a.Value.Mul(rate), Currency: functional}.Round().Value, rate, true
}

// postingDate applies the closed-period policy: the source date when its period is open; the
// first day of the next open period when the entity rolls forward (or force is set, for
// reversals); ok false when the entity rejects.
func (le LegalEntity) postingDate(d civil.Date, force bool) (civil.Date, bool) {
	if !le.Closed[PeriodOf(d)] {
		return d, true
	}
	if !le.RollForward && !force {
		return civil.Date{}, false
	}
	p := civil.Date{Year: d.Year, Month: d.Month, Day: 1}
	for i := 0; i < 240; i++ {
		p = civil.Of(p.Time().AddDate(0, 1, 0))
		if !le.Closed[PeriodOf(p)] {
			return p, true
		}
	}
	return civil.Date{}, false
}

// Post posts one source against the book.
func (b Book) Post(s Source) Result {
	r := Result{Source: s}
	p, ok := b.Projects[s.ProjectID]
	if !ok || p.LegalEntityID == "" {
		r.Outcome, r.Reason = Parked, ReasonProjectUnknown
		r.Missing = &Missing{Kind: "project", Key: s.ProjectID, Date: s.Date}
		return r
	}
	le := b.Entities[p.LegalEntityID]
	r.Cost, r.Revenue = money.Zero(le.FunctionalCurrency), money.Zero(le.FunctionalCurrency)
	if s.ReversesID != "" {
		return b.reverse(s, le, r)
	}
	date, ok := le.postingDate(s.Date, false)
	if !ok {
		r.Outcome, r.Reason = RejectedClosedPeriod, ReasonPeriodClosed
		return r
	}
	r.PostingDate = date
	task := p.Tasks[s.TaskID]
	line, hasLine := b.Lines[p.ContractID+"/"+task.LineKey]
	billable := s.Billable && task.Billable && hasLine
	e := &Entry{ID: b.NewID(), LegalEntityID: le.ID, Currency: le.FunctionalCurrency, PostingDate: date, SourceDate: s.Date,
		SourceType: s.Type, SourceID: s.ID, SourceVersion: s.Version, Description: describe(s)}
	park := func(reason string, m Missing) Result {
		r.Outcome, r.Reason, r.Missing, r.Entry, r.Candidate = Parked, reason, &m, nil, nil
		r.Cost, r.Revenue = money.Zero(le.FunctionalCurrency), money.Zero(le.FunctionalCurrency)
		return r
	}
	switch s.Type {
	case SourceTime:
		rate, ok := b.costRate(s.ResourceID, s.Date)
		if !ok {
			return park(ReasonRateMissing, Missing{Kind: "cost_rate", Key: s.ResourceID, Date: s.Date})
		}
		cost := money.Amount{Value: s.Hours.Mul(rate.Value), Currency: rate.Currency}.Round()
		fcost, fx, ok := b.toFunctional(cost, le.FunctionalCurrency, s.Date)
		if !ok {
			return park(ReasonFXMissing, Missing{Kind: "exchange_rate", Key: cost.Currency + "/" + le.FunctionalCurrency, Date: s.Date})
		}
		e.Lines = append(e.Lines, debitCredit(LaborCost, LaborCostClearing, s.ProjectID, s.TaskID, fcost, cost, fx, s.Date)...)
		r.Cost = money.Amount{Value: fcost, Currency: le.FunctionalCurrency}
		if billable && line.TimeAndMat {
			role := b.Roles[s.ResourceID]
			br, ok := line.Rates.Rate(role, s.Date)
			if !ok {
				return park(ReasonRateMissing, Missing{Kind: "bill_rate", Key: line.ContractID + "/" + line.Key + "/" + role, Date: s.Date})
			}
			wip := money.Amount{Value: s.Hours.Mul(br.Value), Currency: line.Currency}.Round()
			fwip, fx, ok := b.toFunctional(wip, le.FunctionalCurrency, s.Date)
			if !ok {
				return park(ReasonFXMissing, Missing{Kind: "exchange_rate", Key: wip.Currency + "/" + le.FunctionalCurrency, Date: s.Date})
			}
			credit := ServiceRevenue
			if !line.AsDelivered {
				credit = DeferredRevenue
			}
			e.Lines = append(e.Lines, debitCredit(UnbilledReceivables, credit, s.ProjectID, s.TaskID, fwip, wip, fx, s.Date)...)
			r.Revenue = money.Amount{Value: fwip, Currency: le.FunctionalCurrency}
			r.BillableHrs = s.Hours
			r.Candidate = &Candidate{ID: b.NewID(), ProjectID: s.ProjectID, ContractID: line.ContractID, LineKey: line.Key,
				SourceType: s.Type, SourceID: s.ID, Version: s.Version, SourceDate: s.Date, Quantity: s.Hours,
				UnitPrice: money.Amount{Value: br.Value, Currency: line.Currency}, Amount: wip, WIP: fwip, Status: CandidateOpen,
				ResourceID: s.ResourceID, Role: role, TaskID: s.TaskID}
		}
	case SourceExpense:
		fcost, fx, ok := b.toFunctional(s.Amount, le.FunctionalCurrency, s.Date)
		if !ok {
			return park(ReasonFXMissing, Missing{Kind: "exchange_rate", Key: s.Amount.Currency + "/" + le.FunctionalCurrency, Date: s.Date})
		}
		e.Lines = append(e.Lines, debitCredit(ExpenseCost, ReimbursementsPayable, s.ProjectID, s.TaskID, fcost, s.Amount, fx, s.Date)...)
		r.Cost = money.Amount{Value: fcost, Currency: le.FunctionalCurrency}
		if billable {
			// Rebilled in the contract currency, with the markup the contract line allows.
			inContract := s.Amount
			if s.Amount.Currency != line.Currency {
				v, _, ok := b.toFunctional(s.Amount, line.Currency, s.Date)
				if !ok {
					return park(ReasonFXMissing, Missing{Kind: "exchange_rate", Key: s.Amount.Currency + "/" + line.Currency, Date: s.Date})
				}
				inContract = money.Amount{Value: v, Currency: line.Currency}
			}
			factor := decimal.NewFromInt(1)
			if line.ExpenseMarkup != nil {
				factor = factor.Add(line.ExpenseMarkup.Div(decimal.NewFromInt(100)))
			}
			billed := money.Amount{Value: inContract.Value.Mul(factor), Currency: line.Currency}.Round()
			fbilled, fx, ok := b.toFunctional(billed, le.FunctionalCurrency, s.Date)
			if !ok {
				return park(ReasonFXMissing, Missing{Kind: "exchange_rate", Key: billed.Currency + "/" + le.FunctionalCurrency, Date: s.Date})
			}
			e.Lines = append(e.Lines, debitCredit(UnbilledReceivables, ReimbursableExpenseSales, s.ProjectID, s.TaskID, fbilled, billed, fx, s.Date)...)
			r.Revenue = money.Amount{Value: fbilled, Currency: le.FunctionalCurrency}
			r.Candidate = &Candidate{ID: b.NewID(), ProjectID: s.ProjectID, ContractID: line.ContractID, LineKey: line.Key,
				SourceType: s.Type, SourceID: s.ID, Version: s.Version, SourceDate: s.Date, Quantity: decimal.NewFromInt(1),
				UnitPrice: inContract, Markup: line.ExpenseMarkup, Amount: billed, WIP: fbilled, Status: CandidateOpen,
				ResourceID: s.ResourceID, TaskID: s.TaskID}
		}
	}
	r.Outcome, r.Entry = Posted, e
	return r
}

// reverse posts the reversal of an original: the original's journal entry with debits and
// credits swapped (rolled into the next open period when its own is closed), or nothing when the
// original was never posted.
func (b Book) reverse(s Source, le LegalEntity, r Result) Result {
	r.Outcome = Reversed
	r.ReversedCandidateOf = s.ReversesID
	prior, ok := b.PostedBefore[s.ReversesID]
	r.ReversedVersion = 1
	if ok && prior.Version > 0 {
		r.ReversedVersion = prior.Version
	}
	if !ok || prior.Outcome != Posted || prior.Entry == nil {
		return r // nothing was posted: the reversal only cancels
	}
	date, _ := le.postingDate(s.Date, true)
	r.PostingDate = date
	e := &Entry{ID: b.NewID(), LegalEntityID: prior.Entry.LegalEntityID, Currency: prior.Entry.Currency, PostingDate: date,
		SourceDate: s.Date, SourceType: s.Type, SourceID: s.ID, SourceVersion: s.Version, ReversesID: prior.Entry.ID,
		Description: "reversal of " + prior.Entry.SourceID}
	for _, l := range prior.Entry.Lines {
		if l.Account == UnbilledReceivables && s.Type == SourceTime {
			r.BillableHrs = s.Hours // the reversal's hours are negative
		}
		rl := l
		rl.Debit, rl.Credit = l.Credit, l.Debit
		rl.TxnAmount = money.Amount{Value: l.TxnAmount.Value.Neg(), Currency: l.TxnAmount.Currency}
		e.Lines = append(e.Lines, rl)
		switch l.Account {
		case LaborCost, ExpenseCost:
			r.Cost.Value = r.Cost.Value.Sub(l.Debit).Add(l.Credit)
		case UnbilledReceivables:
			r.Revenue.Value = r.Revenue.Value.Sub(l.Debit).Add(l.Credit)
		}
	}
	r.Entry = e
	return r
}
