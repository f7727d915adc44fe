package invoice

import (
	"fmt"
	"sort"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/contract"
)

// ItemType of a fee line (its tax rate key: the region's rate for every type unless one is set).
const ItemTypeMilestone = "milestone"

// MilestoneItem is the billing item of milestone key (invoice_lines.billing_item).
func MilestoneItem(key string) string { return "milestone:" + key }

// ItemBilled is what invoices and credit notes that are not void bill of one item of a contract
// line, net of credit notes, and the count of live invoice lines it is on.
type ItemBilled struct {
	Net  decimal.Decimal
	Live int
}

// FeeLines builds the milestone lines of a proposal: each milestone of a MILESTONE line of terms
// completed on or before cutOff (completed: line key → milestone key → completion date; zero
// cutOff: all) bills its amount less what billed already holds of it (key: line key + "\x00" +
// item), once: a milestone billed on a live invoice is not billed again until that invoice is
// voided or credited. Lines are numbered from first, by line then completion date then key.
func FeeLines(terms contract.Terms, completed map[string]map[string]civil.Date, cutOff civil.Date, billed map[string]ItemBilled,
	projectID string, first int) (lines []Line, total money.Amount) {
	total = money.Zero(terms.Currency)
	for _, cl := range terms.Lines {
		if cl.Billing != contract.MilestoneBilling {
			continue
		}
		ms := append([]contract.Milestone(nil), cl.Milestones...)
		done := completed[cl.Key]
		sort.SliceStable(ms, func(i, j int) bool {
			di, dj := done[ms[i].Key], done[ms[j].Key]
			if di != dj {
				return di.Before(dj)
			}
			return ms[i].Key < ms[j].Key
		})
		for _, m := range ms {
			on, ok := done[m.Key]
			if !ok || (!cutOff.IsZero() && on.After(cutOff)) {
				continue
			}
			item := MilestoneItem(m.Key)
			b := billed[cl.Key+"\x00"+item]
			amt := money.Amount{Value: m.Amount.Value.Sub(b.Net), Currency: terms.Currency}.Round()
			if !amt.Value.IsPositive() {
				continue
			}
			one := decimal.NewFromInt(1)
			l := Line{No: first + len(lines), ProjectID: projectID, LineKey: cl.Key, Item: item, SourceDate: on, Quantity: one,
				UnitPrice: amt, Amount: amt, Round: b.Live, ItemType: ItemTypeMilestone,
				Description: fmt.Sprintf("milestone %s %s completed on %s", m.Key, m.Name, on)}
			l.Parts = []Part{{Item: item, SourceDate: on, Quantity: one, Amount: amt, Round: b.Live}}
			lines = append(lines, l)
			total.Value = total.Value.Add(amt.Value)
		}
	}
	return lines, total
}
