package invoice

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/contract"
)

// ItemTypeRetainer is the item type (tax rate key) of a retainer's advance and applied lines.
const ItemTypeRetainer = "retainer"

// RetainerAdvanceItem is the billing item of a RETAINER line's advance (billed once, like a
// schedule entry).
const RetainerAdvanceItem = "retainer:advance"

const retainerAppliedPrefix = "retainer:applied:"

// RetainerAppliedItem is the billing item of the negative "retainer applied" line of invoice id:
// what that invoice draws down of the advance.
func RetainerAppliedItem(invoiceID string) string { return retainerAppliedPrefix + invoiceID }

// IsRetainerApplied tells a "retainer applied" item (RetainerAppliedItem) from other items.
func IsRetainerApplied(item string) bool { return strings.HasPrefix(item, retainerAppliedPrefix) }

// SetRetainerWIP sets the functional WIP each "retainer applied" part of inv relieves (Part.WIP:
// negative on an invoice, Dr 1200; positive on a credit note, Cr 1200) when inv is in a foreign
// currency (same currency: nothing to do, Entry posts the amounts). The applied line relieves 1200
// at the carrying rate of the advance it draws, not at the drawing invoice's rate fx, so a
// foreign retainer leaves no translation residue in 1200; Entry posts the difference as FX.
//
// An invoice's parts take from advances, per contract line key: Amount and WIP are the advance
// billed on posted documents net of credit notes (contract currency; functional, at each
// document's rate), TakenAmt and TakenWIP what posted applied lines drew of it net (positive),
// Quantity and TakenQty equal to Amount and TakenAmt. An advance line of inv itself adds to it at
// fx. A draw takes pro rata and the draw that exhausts the advance the rest (Carrying.Take), so
// the advance is relieved exactly; a draw beyond what posted advances hold (an advance not posted
// yet) is at fx. A credit note's parts take from carrying ("item:" and the applied item: what the
// credited invoice's applied line drew net of its credit notes, positive; Quantity its quantity),
// so it puts back the WIP the invoice relieved, in proportion; an item missing from carrying (an
// applied line posted before its WIP was recorded, at its invoice's rate) is at fx.
func SetRetainerWIP(inv *Invoice, functional string, fx decimal.Decimal, advances, carrying map[string]Carrying) {
	if inv.Currency == functional {
		return
	}
	conv := func(v decimal.Decimal) decimal.Decimal {
		return money.Amount{Value: v.Mul(fx), Currency: functional}.Round().Value
	}
	if advances == nil {
		advances = map[string]Carrying{}
	}
	if inv.Kind == KindInvoice {
		for _, l := range inv.Lines {
			for _, p := range l.Parts {
				if p.CandidateID == "" && p.Item == RetainerAdvanceItem {
					c := advances[l.LineKey]
					c.Amount, c.Quantity, c.WIP = c.Amount.Add(p.Amount.Value), c.Quantity.Add(p.Amount.Value), c.WIP.Add(conv(p.Amount.Value))
					advances[l.LineKey] = c
				}
			}
		}
	}
	for i := range inv.Lines {
		l := &inv.Lines[i]
		for j := range l.Parts {
			p := &l.Parts[j]
			if p.CandidateID != "" || !IsRetainerApplied(p.Item) {
				continue
			}
			if inv.Kind == KindCreditNote {
				c, ok := carrying["item:"+p.Item]
				if !ok {
					p.WIP = conv(p.Amount.Value)
					continue
				}
				// A credit part is positive (the drawdown given back): it takes what it credits.
				var w decimal.Decimal
				w, c = c.Take(p.Quantity.Neg(), p.Amount.Value, functional)
				carrying["item:"+p.Item] = c
				p.WIP = w
				continue
			}
			draw := p.Amount.Value.Neg()
			c := advances[l.LineKey]
			open := c.Amount.Sub(c.TakenAmt)
			var w decimal.Decimal
			switch {
			case !open.IsPositive():
				w = conv(draw)
			case draw.LessThanOrEqual(open):
				w, c = c.Take(draw, draw, functional)
			default:
				w, c = c.Take(open, open, functional)
				w = w.Add(conv(draw.Sub(open)))
			}
			advances[l.LineKey] = c
			p.WIP = w.Neg()
		}
	}
}

// RetainerDrawdown adds to lines (a proposal's T&M and fee lines, numbered from 1) one negative
// "retainer applied" line per RETAINER line of terms whose T&M lines it can draw down: the
// smaller of their total and the advance balance, which is the advance billed (billed, net of
// credit notes, plus an advance line of this proposal) less what earlier applied lines drew (net).
// The drawn candidates stay on the invoice at their amounts, so the invoice nets to zero for
// the drawn part and bills the rest (the candidate that straddles the exhausted balance is billed
// for its part beyond it). The applied line's item names invoiceID.
func RetainerDrawdown(terms contract.Terms, lines []Line, billed map[string]ItemBilled, invoiceID, projectID string) ([]Line, money.Amount) {
	applied := money.Zero(terms.Currency)
	for _, cl := range terms.Lines {
		if cl.Billing != contract.Retainer {
			continue
		}
		balance := billed[cl.Key+"\x00"+RetainerAdvanceItem].Net
		for k, b := range billed {
			if strings.HasPrefix(k, cl.Key+"\x00"+retainerAppliedPrefix) {
				balance = balance.Add(b.Net) // applied lines are negative
			}
		}
		tm := decimal.Zero
		var last civil.Date
		for _, l := range lines {
			if l.LineKey != cl.Key {
				continue
			}
			if l.Item == RetainerAdvanceItem {
				balance = balance.Add(l.Amount.Value)
				continue
			}
			if l.Item == "" {
				tm = tm.Add(l.Amount.Value)
				if l.SourceDate.After(last) {
					last = l.SourceDate
				}
			}
		}
		draw := decimal.Min(balance, tm)
		if !draw.IsPositive() {
			continue
		}
		amt := money.Amount{Value: draw.Neg(), Currency: terms.Currency}
		item := RetainerAppliedItem(invoiceID)
		one := decimal.NewFromInt(1)
		lines = append(lines, Line{No: len(lines) + 1, ProjectID: projectID, LineKey: cl.Key, Item: item, SourceDate: last, Quantity: one,
			UnitPrice: amt, Amount: amt, ItemType: ItemTypeRetainer,
			Description: fmt.Sprintf("retainer %s applied: %s of the advance drawn down", cl.Key, draw.StringFixed(2)),
			Parts:       []Part{{Item: item, SourceDate: last, Quantity: one, Amount: amt}}})
		applied.Value = applied.Value.Add(amt.Value)
	}
	return lines, applied
}

// keepDrawdownCovered adds to the credit lines out of a credit note on inv what keeps each
// "retainer applied" line of inv covered by the time it drew down: after the credit, an applied
// line may draw (net, negative) no more than its contract line's T&M on inv bills net. Crediting
// time of a drawdown invoice thus credits the part billed beyond the balance first and then gives
// the drawdown of the rest back to the balance (a positive credit of the applied line), so the
// credited hours return to unbilled and the next proposal draws them down again. credited is
// what earlier credit notes took (see Credit). It returns the lines and their total.
func keepDrawdownCovered(inv Invoice, credited map[string][2]decimal.Decimal, out []Line, total money.Amount) ([]Line, money.Amount) {
	netOf := func(l Line) decimal.Decimal {
		parts := l.Parts
		if len(parts) == 0 {
			parts = []Part{{CandidateID: l.CandidateID, Item: l.Item, Amount: l.Amount}}
		}
		n := decimal.Zero
		for _, p := range parts {
			n = n.Add(p.Amount.Value).Sub(credited[p.Key()][1])
		}
		return n
	}
	for _, a := range inv.Lines {
		if !strings.HasPrefix(a.Item, retainerAppliedPrefix) {
			continue
		}
		drawn := netOf(a).Neg() // what the applied line still draws, positive
		tm := decimal.Zero
		for _, l := range inv.Lines {
			if l.LineKey == a.LineKey && l.Item == "" {
				tm = tm.Add(netOf(l))
			}
		}
		at := -1
		for i, l := range out {
			switch {
			case l.Item == a.Item:
				drawn, at = drawn.Sub(l.Amount.Value), i
			case l.LineKey == a.LineKey && l.Item == "":
				tm = tm.Add(l.Amount.Value)
			}
		}
		give := drawn.Sub(tm)
		if !give.IsPositive() {
			continue
		}
		full := a.Amount.Value.Neg()
		netQty := a.Quantity.Sub(credited["item:"+a.Item][0])
		if at < 0 {
			out = append(out, Line{No: len(out) + 1, ProjectID: a.ProjectID, LineKey: a.LineKey, Item: a.Item, SourceDate: a.SourceDate,
				Description: fmt.Sprintf("credit of line %d of %s: the drawdown of the credited time returns to the retainer", a.No, inv.Number),
				Quantity:    decimal.Zero, UnitPrice: a.UnitPrice, Amount: money.Zero(inv.Currency), ItemType: a.ItemType, TaxRate: a.TaxRate,
				Parts: []Part{{Item: a.Item, SourceDate: a.SourceDate, Quantity: decimal.Zero, Amount: money.Zero(inv.Currency)}}})
			at = len(out) - 1
		}
		l := &out[at]
		l.Amount.Value = l.Amount.Value.Add(give)
		var qty decimal.Decimal // what this line credits of the applied line's quantity, positive
		if give.Equal(drawn) || full.IsZero() {
			qty = netQty // the whole drawdown left
		} else {
			qty = decimal.Min(netQty, l.Amount.Value.Div(full).Round(4))
		}
		l.Quantity = qty.Neg()
		l.Tax = money.Amount{Value: l.Amount.Value.Mul(l.TaxRate), Currency: inv.Currency}.Round()
		l.Parts = []Part{{Item: a.Item, SourceDate: a.SourceDate, Quantity: qty.Neg(), Amount: l.Amount}}
		total.Value = total.Value.Add(give)
	}
	return out, total
}
