package invoice

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/contract"
)

// Item types of fee lines (their tax rate keys: the region's rate for every type unless one is set).
const (
	ItemTypeMilestone = "milestone"
	ItemTypeFixedFee  = "fixed_fee"
)

// MilestoneItem is the billing item of milestone key (invoice_lines.billing_item).
func MilestoneItem(key string) string { return "milestone:" + key }

const schedulePrefix = "schedule:"

// ScheduleItem is the billing item of a fixed fee's schedule entry dated d (of a fixed fee
// without a schedule: its whole amount, dated its service start).
func ScheduleItem(d civil.Date) string { return schedulePrefix + d.String() }

// ItemBilled is what invoices and credit notes that are not void bill of one item of a contract
// line, net of credit notes, and the count of live invoice lines it is on.
type ItemBilled struct {
	Net  decimal.Decimal
	Live int
}

// FeeLines builds the fee lines of a proposal. Each entry of the billing schedule of a FIXED_FEE
// line dated on or before cutOff (zero: all) bills its amount less what billed holds of it, once;
// a FIXED_FEE line without a schedule bills its whole amount once, as the one entry
// ScheduleItem(its service start, else the contract start). What a FIXED_FEE line bills, net of
// credit notes and over all its entries, never exceeds the line amount (an amendment that adds or
// changes a schedule after part of the fee was billed bills only the rest). Then each milestone of a MILESTONE line of terms
// completed on or before cutOff (completed: line key → milestone key → completion date; zero
// cutOff: all) bills its amount less what billed already holds of it (key: line key + "\x00" +
// item), once: a milestone billed on a live invoice is not billed again until that invoice is
// voided or credited. Lines are numbered from first, by line then completion date then key.
func FeeLines(terms contract.Terms, completed map[string]map[string]civil.Date, cutOff civil.Date, billed map[string]ItemBilled,
	projectID string, first int) (lines []Line, total money.Amount) {
	total = money.Zero(terms.Currency)
	one := decimal.NewFromInt(1)
	// room, when not nil, is what the contract line may still bill; bill takes what it bills off it.
	bill := func(cl contract.Line, item, itemType, desc string, on civil.Date, full money.Amount, room *decimal.Decimal) {
		b := billed[cl.Key+"\x00"+item]
		amt := money.Amount{Value: full.Value.Sub(b.Net), Currency: terms.Currency}.Round()
		if room != nil {
			amt.Value = decimal.Min(amt.Value, *room)
		}
		if !amt.Value.IsPositive() {
			return
		}
		if room != nil {
			*room = room.Sub(amt.Value)
		}
		l := Line{No: first + len(lines), ProjectID: projectID, LineKey: cl.Key, Item: item, SourceDate: on, Quantity: one,
			UnitPrice: amt, Amount: amt, Round: b.Live, ItemType: itemType, Description: desc}
		l.Parts = []Part{{Item: item, SourceDate: on, Quantity: one, Amount: amt, Round: b.Live}}
		lines = append(lines, l)
		total.Value = total.Value.Add(amt.Value)
	}
	for _, cl := range terms.Lines {
		if cl.Billing == contract.FixedFee {
			sched := append([]contract.ScheduleEntry(nil), cl.Schedule...)
			sort.SliceStable(sched, func(i, j int) bool { return sched[i].Date.Before(sched[j].Date) })
			what := "fixed fee %s: instalment of %s"
			if len(sched) == 0 {
				on := cl.ServiceStart
				if on.IsZero() {
					on = terms.Start
				}
				sched, what = []contract.ScheduleEntry{{Date: on, Amount: cl.Amount}}, "fixed fee %s from %s"
			}
			room := cl.Amount.Value
			for k, b := range billed {
				if strings.HasPrefix(k, cl.Key+"\x00"+schedulePrefix) {
					room = room.Sub(b.Net)
				}
			}
			for _, e := range sched {
				if cutOff.IsZero() || !e.Date.After(cutOff) {
					bill(cl, ScheduleItem(e.Date), ItemTypeFixedFee, fmt.Sprintf(what, cl.Key, e.Date), e.Date, e.Amount, &room)
				}
			}
		}
		if cl.Billing == contract.Retainer && (cutOff.IsZero() || !cl.ServiceStart.After(cutOff)) {
			on := cl.ServiceStart
			if on.IsZero() {
				on = cutOff
			}
			if on.IsZero() {
				on = civil.Of(time.Now().UTC())
			}
			bill(cl, RetainerAdvanceItem, ItemTypeRetainer, fmt.Sprintf("retainer %s: advance", cl.Key), on, cl.Amount, nil)
		}
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
			bill(cl, MilestoneItem(m.Key), ItemTypeMilestone, fmt.Sprintf("milestone %s %s completed on %s", m.Key, m.Name, on), on, m.Amount, nil)
		}
	}
	return lines, total
}
