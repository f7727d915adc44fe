package reconcile

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// Imbalance is a journal entry whose debits and credits differ (in the functional currency, or in
// one transaction currency).
type Imbalance struct {
	EntryID  string
	Currency string // the transaction currency that does not balance; "" for the functional one
	Debit    decimal.Decimal
	Credit   decimal.Decimal
}

// Unbalanced turns imbalances into findings, one per entry.
func Unbalanced(list []Imbalance) []Finding {
	var out []Finding
	done := map[string]bool{}
	for _, im := range list {
		if done[im.EntryID] {
			continue
		}
		done[im.EntryID] = true
		where := "in the functional currency"
		if im.Currency != "" {
			where = "in " + im.Currency
		}
		out = append(out, Finding{Check: CheckJournal, Code: EntryUnbalanced, EntityType: "journal_entry", EntityIDs: []string{im.EntryID},
			Detail: fmt.Sprintf("debits %s ≠ credits %s %s", im.Debit, im.Credit, where)})
	}
	return out
}

// Allocation is a supplier bill line allocated to projects and what its allocation posted.
type Allocation struct {
	LineID    string
	Amount    decimal.Decimal
	Currency  string
	Allocated decimal.Decimal // subcontractor cost posted by its live allocation entry
}

// CompareAllocations checks every allocated supplier bill line against its allocation.
func CompareAllocations(list []Allocation) ([]Finding, Totals) {
	t := Totals{}
	t.Ensure("supplier.lines_allocated")
	var out []Finding
	for _, a := range list {
		t.Add("supplier.lines_allocated", "", decimal.NewFromInt(1))
		t.Add("supplier.bill_lines_amount", a.Currency, a.Amount)
		t.Add("supplier.allocated_amount", a.Currency, a.Allocated)
		if !a.Amount.Equal(a.Allocated) {
			out = append(out, Finding{Check: CheckSupplier, Code: AllocationDiffers, EntityType: "supplier_bill_line",
				EntityIDs: []string{a.LineID}, Detail: fmt.Sprintf("bill line %s %s, allocated %s %s", a.Amount, a.Currency, a.Allocated, a.Currency)})
		}
	}
	return out, t
}

// Event is an event a producer published.
type Event struct {
	ID, Producer, Stream, Type string
	// Consumers are the services whose groups subscribe to it (the catalogue).
	Consumers []string
}

// Unconsumed returns a finding per (event, consumer) whose consumer's inbox lacks the event.
func Unconsumed(events []Event, processed map[string]map[string]bool) []Finding {
	var out []Finding
	for _, e := range events {
		for _, c := range e.Consumers {
			if processed[c][e.ID] {
				continue
			}
			out = append(out, Finding{Check: CheckEvents, Code: EventNotConsumed, EntityType: "event", EntityIDs: []string{e.ID},
				Producer: e.Producer, Consumer: c,
				Detail: fmt.Sprintf("%s published %s on %s; %s never applied it (re-drive: accruectl replay --service %s --event-id %s)",
					e.Producer, e.Type, e.Stream, c, e.Producer, e.ID)})
		}
	}
	return out
}
