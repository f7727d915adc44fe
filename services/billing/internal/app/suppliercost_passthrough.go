package app

import (
	"context"
	"sort"
	"strings"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/suppliercost"
)

// Billable pass-through and project actuals of an allocation. Each allocated part becomes one
// per-project result of source type suppliercost.SourceCost (id "<line id>/<project>[/<task>]",
// version the allocation's entry sequence): its subcontractor cost, and for a billable line on a
// project with a contract line, an invoice candidate (quantity 1, unit price the part in the
// contract line's currency, amount the part times 1 + the line's expense markup, rounded half away
// from zero to the minor unit per part, as expense candidates are) whose WIP is posted in the
// allocation's entry (Dr 1200 unbilled receivables, Cr 4100 reimbursable expense revenue). A
// re-allocation reverses the entry (WIP included), cancels the parts' candidates and results, and
// creates new ones.

// passThrough adds the WIP lines of a billable line's parts to e and returns the parts' results
// (cost, revenue and candidate per project). ok is false when a rate to the contract currency is
// missing (the line parks).
func (s *Service) passThrough(ctx context.Context, l suppliercost.Line, e *ledger.Entry, txn, fn []suppliercost.Part) (
	results []ledger.Result, ok bool, err error) {
	var book ledger.Book
	if l.Billable {
		srcs := make([]ledger.Source, len(fn))
		for i, p := range fn {
			srcs[i] = ledger.Source{ProjectID: p.ProjectID}
		}
		if book, err = s.store.LoadBook(ctx, srcs); err != nil {
			return nil, false, err
		}
	}
	functional := e.Currency
	for i, p := range fn {
		r := ledger.Result{Source: ledger.Source{Type: suppliercost.SourceCost, ID: partID(l.ID, p), Version: e.SourceVersion,
			ProjectID: p.ProjectID, TaskID: p.TaskID, Date: l.BillDate}, Outcome: ledger.Posted, PostingDate: e.PostingDate,
			Cost: p.Amount, Revenue: money.Zero(functional)}
		line, has := contractLine(book, p)
		if l.Billable && has {
			inContract, found, err := s.convert(ctx, txn[i].Amount, p.Amount, line.Currency, l.BillDate)
			if err != nil || !found {
				return nil, false, err
			}
			factor := decimal.NewFromInt(1)
			if line.ExpenseMarkup != nil {
				factor = factor.Add(line.ExpenseMarkup.Div(decimal.NewFromInt(100)))
			}
			billed := money.Amount{Value: inContract.Value.Mul(factor), Currency: line.Currency}.Round()
			fbilled, found, err := s.convert(ctx, billed, billed, functional, l.BillDate)
			if err != nil || !found {
				return nil, false, err
			}
			fx := decimal.NewFromInt(1)
			if !billed.Value.IsZero() {
				fx = fbilled.Value.Div(billed.Value)
			}
			e.Lines = append(e.Lines,
				ledger.Line{Account: ledger.UnbilledReceivables, ProjectID: p.ProjectID, TaskID: p.TaskID, Debit: fbilled.Value, Credit: decimal.Zero,
					TxnAmount: billed, FXRate: fx, RateDate: l.BillDate},
				ledger.Line{Account: ledger.ReimbursableExpenseSales, ProjectID: p.ProjectID, TaskID: p.TaskID, Debit: decimal.Zero, Credit: fbilled.Value,
					TxnAmount: money.Amount{Value: billed.Value.Neg(), Currency: billed.Currency}, FXRate: fx, RateDate: l.BillDate})
			r.Revenue = fbilled
			r.Candidate = &ledger.Candidate{ID: uuid.Must(uuid.NewV7()).String(), ProjectID: p.ProjectID, ContractID: line.ContractID,
				LineKey: line.Key, SourceType: suppliercost.SourceCost, SourceID: r.Source.ID, Version: e.SourceVersion, SourceDate: l.BillDate,
				Quantity: decimal.NewFromInt(1), UnitPrice: inContract, Markup: line.ExpenseMarkup, Amount: billed, WIP: fbilled.Value,
				Status: ledger.CandidateOpen}
		}
		results = append(results, r)
	}
	return results, true, nil
}

// reversedParts are the per-project results cancelling those of prior, allocation seq of the
// line (negative cost and revenue).
func reversedParts(lineID string, prior ledger.Entry, seq int64, billDate, date civil.Date) []ledger.Result {
	type key struct{ project, task string }
	sums := map[key]*ledger.Result{}
	var order []key
	for _, ln := range prior.Lines {
		if ln.Account != ledger.SubcontractorCost && ln.Account != ledger.UnbilledReceivables {
			continue
		}
		k := key{ln.ProjectID, ln.TaskID}
		r, ok := sums[k]
		if !ok {
			id := partID(lineID, suppliercost.Part{ProjectID: k.project, TaskID: k.task})
			r = &ledger.Result{Source: ledger.Source{Type: suppliercost.SourceCostReversal, ID: id, Version: seq,
				ProjectID: k.project, TaskID: k.task, Date: billDate}, Outcome: ledger.Reversed, PostingDate: date,
				Cost: money.Zero(prior.Currency), Revenue: money.Zero(prior.Currency)}
			sums[k] = r
			order = append(order, k)
		}
		delta := ln.Credit.Sub(ln.Debit) // the reversal swaps the sides
		if ln.Account == ledger.SubcontractorCost {
			r.Cost.Value = r.Cost.Value.Add(delta)
		} else {
			r.Revenue.Value = r.Revenue.Value.Add(delta)
		}
	}
	out := make([]ledger.Result, 0, len(order))
	for _, k := range order {
		out = append(out, *sums[k])
	}
	return out
}

// convert expresses an amount in currency to: the transaction or functional side when it is
// already in to, else txn at the bill date's rate; found is false when that rate is missing.
func (s *Service) convert(ctx context.Context, txn, fn money.Amount, to string, d civil.Date) (money.Amount, bool, error) {
	switch to {
	case txn.Currency:
		return txn, true, nil
	case fn.Currency:
		return fn, true, nil
	}
	r, found, err := s.store.ExchangeRate(ctx, txn.Currency, to, d)
	if err != nil || !found {
		return money.Amount{}, false, err
	}
	return money.Amount{Value: txn.Value.Mul(r), Currency: to}.Round(), true, nil
}

// contractLine is the contract line a part bills on: its task's line, else the project
// contract's only line, else the contract's first line by key.
func contractLine(b ledger.Book, p suppliercost.Part) (ledger.ContractLine, bool) {
	proj, ok := b.Projects[p.ProjectID]
	if !ok || proj.ContractID == "" {
		return ledger.ContractLine{}, false
	}
	if t, ok := proj.Tasks[p.TaskID]; ok && p.TaskID != "" {
		l, ok := b.Lines[proj.ContractID+"/"+t.LineKey]
		return l, ok && t.Billable
	}
	var keys []string
	for k := range b.Lines {
		if strings.HasPrefix(k, proj.ContractID+"/") {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return ledger.ContractLine{}, false
	}
	sort.Strings(keys)
	return b.Lines[keys[0]], true
}

// partID is the source id of a part: the line, its project and (when set) task.
func partID(lineID string, p suppliercost.Part) string {
	id := lineID + "/" + p.ProjectID
	if p.TaskID != "" {
		id += "/" + p.TaskID
	}
	return id
}
