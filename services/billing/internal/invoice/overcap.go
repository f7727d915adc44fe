package invoice

import (
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/ledger"
)

// SourceWriteOff is the journal source type of a write-off of work over a cap.
const SourceWriteOff = "over_cap_write_off"

// OverCapLine is the unbilled work a contract line's cap keeps off invoices: Candidates hold the
// part of each candidate over the cap (quantity and amount).
type OverCapLine struct {
	LineKey    string
	Limit      money.Amount
	Billed     money.Amount
	Over       money.Amount
	Candidates []Open
}

// OverCap returns, per capped contract line (in the order of open), what Propose would keep off a
// proposal of open (all of the contract's unbilled candidates, by date then id): the candidate
// crossing the cap is over by what passes the headroom (and by its quantity less the quantity
// Propose would bill), every later candidate of the line wholly.
func OverCap(currency string, open []Open, caps map[string]Cap) []OverCapLine {
	head := map[string]decimal.Decimal{}
	for k, c := range caps {
		h := c.Limit.Value.Sub(c.Billed.Value)
		if h.IsNegative() {
			h = decimal.Zero
		}
		head[k] = h
	}
	var out []OverCapLine
	at := map[string]int{}
	for _, o := range open {
		h, capped := head[o.LineKey]
		if !capped {
			continue
		}
		amt := money.Amount{Value: o.Amount.Value, Currency: currency}.Round()
		if !amt.Value.GreaterThan(h) {
			head[o.LineKey] = h.Sub(amt.Value)
			continue
		}
		head[o.LineKey] = decimal.Zero
		over := o
		over.Amount = money.Amount{Value: amt.Value.Sub(h), Currency: currency}
		if !h.IsZero() && !o.UnitPrice.Value.IsZero() {
			over.Quantity = o.Quantity.Sub(h.Div(o.UnitPrice.Value).Round(4))
		}
		i, ok := at[o.LineKey]
		if !ok {
			c := caps[o.LineKey]
			i, at[o.LineKey] = len(out), len(out)
			out = append(out, OverCapLine{LineKey: o.LineKey, Limit: c.Limit, Billed: c.Billed, Over: money.Zero(currency)})
		}
		out[i].Over.Value = out[i].Over.Value.Add(over.Amount.Value)
		out[i].Candidates = append(out[i].Candidates, over)
	}
	return out
}

// WriteOffEntry is the journal entry writing off lines on d: per project, Dr work written off /
// Cr unbilled receivables, in the functional currency: the WIP each candidate part relieves (wip,
// by candidate id: its carrying amount, see Carrying.Take), so no FX arises.
func WriteOffEntry(entryID, writeOffID, legalEntityID, functional string, d civil.Date, lines []OverCapLine, wip map[string]decimal.Decimal) ledger.Entry {
	e := ledger.Entry{ID: entryID, LegalEntityID: legalEntityID, Currency: functional, PostingDate: d, SourceDate: d,
		SourceType: SourceWriteOff, SourceID: writeOffID, SourceVersion: 1, Description: "work over the not-to-exceed cap written off"}
	byProject, txnByProject := map[string]decimal.Decimal{}, map[string]decimal.Decimal{}
	var order []string
	currency := functional
	for _, l := range lines {
		for _, c := range l.Candidates {
			if _, ok := byProject[c.ProjectID]; !ok {
				order = append(order, c.ProjectID)
			}
			byProject[c.ProjectID] = byProject[c.ProjectID].Add(wip[c.CandidateID])
			txnByProject[c.ProjectID] = txnByProject[c.ProjectID].Add(c.Amount.Value)
			currency = c.Amount.Currency
		}
	}
	for _, p := range order {
		rate := decimal.NewFromInt(1)
		if t := txnByProject[p]; !t.IsZero() && currency != functional {
			rate = byProject[p].Div(t).Round(8)
		}
		e.Lines = append(e.Lines, pair(ledger.WorkWrittenOff, ledger.UnbilledReceivables, p, byProject[p],
			money.Amount{Value: txnByProject[p], Currency: currency}, rate, d)...)
	}
	return e
}
