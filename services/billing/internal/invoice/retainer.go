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
