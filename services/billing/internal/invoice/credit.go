package invoice

import (
	"fmt"
	"slices"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/money"
)

// CreditRequest credits one line of an invoice: Quantity of it (zero: the whole line net).
type CreditRequest struct {
	LineNo   int
	Quantity decimal.Decimal
}

// Credit builds the lines of a credit note on inv: every line net of earlier credit notes
// (credited: quantity and amount already credited, both positive, keyed by candidate id: an
// invoice bills a candidate on one line; a fee item keyed "item:" + item, see Part.Key) when req is empty, else the lines and quantities asked.
// Amounts are the quantity times the unit price, rounded once; crediting a line's whole net
// quantity credits its whole net amount.
//
// Part of a grouped line is credited from its latest entries first: each whole entry returns its
// net quantity and amount to unbilled, and the entry where the credited quantity runs out is
// split (its part of the credit is what is left of the credited amount), so the credited hours
// are the latest ones and a later proposal bills exactly them again.
//
// On an invoice that draws time down against a retainer, crediting time credits the part billed
// beyond the balance first, then returns the drawdown of the rest to the balance (see
// keepDrawdownCovered); a credit note whose total would be positive is ErrOverCredit.
func Credit(inv Invoice, credited map[string][2]decimal.Decimal, req []CreditRequest) ([]Line, money.Amount, error) {
	byNo := map[int]Line{}
	for _, l := range inv.Lines {
		byNo[l.No] = l
	}
	if len(req) == 0 {
		for _, l := range inv.Lines {
			req = append(req, CreditRequest{LineNo: l.No})
		}
	}
	total := money.Zero(inv.Currency)
	var out []Line
	for _, r := range req {
		l, ok := byNo[r.LineNo]
		if !ok {
			return nil, total, ErrUnknownLine
		}
		if len(l.Parts) == 0 {
			l.Parts = []Part{{CandidateID: l.CandidateID, Item: l.Item, SourceDate: l.SourceDate, Quantity: l.Quantity, Amount: l.Amount, Round: l.Round}}
		}
		type net struct{ q, a decimal.Decimal }
		nets := make([]net, len(l.Parts))
		netQty, netAmt := decimal.Zero, decimal.Zero
		for i, p := range l.Parts {
			nets[i] = net{p.Quantity.Sub(credited[p.Key()][0]), p.Amount.Value.Sub(credited[p.Key()][1])}
			netQty, netAmt = netQty.Add(nets[i].q), netAmt.Add(nets[i].a)
		}
		qty, amt := r.Quantity, decimal.Zero
		whole := false
		switch {
		case qty.IsZero() || qty.Equal(netQty):
			qty, amt, whole = netQty, netAmt, true
		case qty.GreaterThan(netQty) || qty.IsNegative():
			return nil, total, ErrOverCredit
		default:
			amt = money.Amount{Value: qty.Mul(l.UnitPrice.Value), Currency: inv.Currency}.Round().Value
			if amt.GreaterThan(netAmt) {
				amt = netAmt
			}
		}
		if qty.IsZero() && amt.IsZero() {
			continue
		}
		// Latest entries first.
		var parts []Part
		remQ, remA := qty, amt
		for i := len(l.Parts) - 1; i >= 0; i-- {
			p, n := l.Parts[i], nets[i]
			if !n.q.IsPositive() && !n.a.IsPositive() {
				continue
			}
			q, a := n.q, n.a
			if !whole && remQ.LessThan(n.q) {
				q = remQ
				a = decimal.Min(remA, n.a)
				if a.IsNegative() {
					a = decimal.Zero
				}
			} else if !whole && a.GreaterThan(remA) {
				a = decimal.Max(remA, decimal.Zero)
			}
			if q.IsZero() && a.IsZero() {
				continue
			}
			parts = append(parts, Part{CandidateID: p.CandidateID, Item: p.Item, SourceDate: p.SourceDate, Quantity: q.Neg(),
				Amount: money.Amount{Value: a.Neg(), Currency: inv.Currency}})
			remQ, remA = remQ.Sub(q), remA.Sub(a)
			if !whole && !remQ.IsPositive() {
				break
			}
		}
		slices.Reverse(parts)
		amt = amt.Sub(remA) // what the parts credit (remA is zero but for rounding on a capped part)
		cl := Line{No: len(out) + 1, ProjectID: l.ProjectID, LineKey: l.LineKey, CandidateID: l.CandidateID, Item: l.Item, SourceDate: l.SourceDate,
			Description: fmt.Sprintf("credit of line %d of %s", l.No, inv.Number), Quantity: qty.Neg(), UnitPrice: l.UnitPrice,
			Amount: money.Amount{Value: amt.Neg(), Currency: inv.Currency}, ItemType: l.ItemType, TaxRate: l.TaxRate,
			Tax: money.Amount{Value: amt.Neg().Mul(l.TaxRate), Currency: inv.Currency}.Round(), Parts: parts}
		out = append(out, cl)
		total.Value = total.Value.Sub(amt)
	}
	if len(out) == 0 {
		return nil, total, ErrOverCredit
	}
	out, total = keepDrawdownCovered(inv, credited, out, total)
	if total.Value.IsPositive() {
		return nil, total, ErrOverCredit.With("a credit note cannot raise what the invoice bills: credit a retainer applied line only with the time it drew down")
	}
	return out, total, nil
}
