package receivable

import (
	"fmt"
	"sort"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/money"
)

// Allocation asks to apply Amount of a payment to an invoice (instalment No, or 0: its
// instalments oldest due first).
type Allocation struct {
	InvoiceID string
	No        int
	Amount    decimal.Decimal
}

// Applied is what applying a payment does to one instalment.
type Applied struct {
	InvoiceID string
	No        int
	Amount    decimal.Decimal // applied from the payment (invoice currency)
	// Relieved is the functional receivable the payment takes off; Cash the functional amount
	// of the payment applied (at the payment-date rate): their difference is the realized FX
	// gain (Cash > Relieved) or loss.
	Relieved decimal.Decimal
	Cash     decimal.Decimal
	// WrittenOff is the remainder written off within tolerance, WriteOffFunctional its
	// functional amount.
	WrittenOff, WriteOffFunctional decimal.Decimal
}

// Apply decides how a payment with unapplied left (invoice currency, payment-date rate payFX)
// applies to dues (every instalment of the invoices concerned, oldest due first): the
// allocations as asked, or when there are none, oldest due first until the payment or the
// dues run out. An invoice left with no more than tolerance open is written off. It never
// applies more than an instalment has open or more than the payment has unapplied.
func Apply(dues []Due, allocs []Allocation, unapplied, payFX, tolerance decimal.Decimal, functional string) ([]Applied, error) {
	sort.SliceStable(dues, func(i, j int) bool {
		if c := dues[i].DueDate.Compare(dues[j].DueDate); c != 0 {
			return c < 0
		}
		if dues[i].InvoiceID != dues[j].InvoiceID {
			return dues[i].InvoiceNumber < dues[j].InvoiceNumber
		}
		return dues[i].No < dues[j].No
	})
	idx := map[string]int{}
	for i, d := range dues {
		idx[fmt.Sprintf("%s/%d", d.InvoiceID, d.No)] = i
	}
	apply := make([]decimal.Decimal, len(dues))
	left := unapplied
	take := func(i int, a decimal.Decimal) {
		apply[i] = apply[i].Add(a)
		left = left.Sub(a)
	}
	if len(allocs) == 0 {
		for i, d := range dues {
			if !left.IsPositive() {
				break
			}
			if a := decimal.Min(d.Open(), left); a.IsPositive() {
				take(i, a)
			}
		}
		if left.Equal(unapplied) {
			return nil, ErrNothingToApply
		}
	}
	for _, al := range allocs {
		if !al.Amount.IsPositive() {
			return nil, ErrOverApplied.With("an allocation must be positive")
		}
		if al.Amount.GreaterThan(left) {
			return nil, ErrUnappliedTooSmall.With(fmt.Sprintf("%s asked, %s left", al.Amount, left))
		}
		if al.No > 0 {
			i, ok := idx[fmt.Sprintf("%s/%d", al.InvoiceID, al.No)]
			if !ok {
				return nil, ErrInstalmentUnknown
			}
			if al.Amount.GreaterThan(dues[i].Open().Sub(apply[i])) {
				return nil, ErrOverApplied.With(fmt.Sprintf("instalment %d has %s open", al.No, dues[i].Open().Sub(apply[i])))
			}
			take(i, al.Amount)
			continue
		}
		rest := al.Amount
		for i, d := range dues {
			if d.InvoiceID != al.InvoiceID || !rest.IsPositive() {
				continue
			}
			if a := decimal.Min(d.Open().Sub(apply[i]), rest); a.IsPositive() {
				take(i, a)
				rest = rest.Sub(a)
			}
		}
		if rest.IsPositive() {
			return nil, ErrOverApplied.With(fmt.Sprintf("%s more than the invoice has open", rest))
		}
	}
	// Write off what an invoice the payment touched has left open, when within tolerance.
	openAfter := map[string]decimal.Decimal{}
	touched := map[string]bool{}
	for i, d := range dues {
		openAfter[d.InvoiceID] = openAfter[d.InvoiceID].Add(d.Open().Sub(apply[i]))
		if apply[i].IsPositive() {
			touched[d.InvoiceID] = true
		}
	}
	var out []Applied
	for i, d := range dues {
		a := apply[i]
		wo := decimal.Zero
		if rem := openAfter[d.InvoiceID]; touched[d.InvoiceID] && rem.IsPositive() && !rem.GreaterThan(tolerance) {
			wo = d.Open().Sub(a)
		}
		if !a.IsPositive() && !wo.IsPositive() {
			continue
		}
		ap := Applied{InvoiceID: d.InvoiceID, No: d.No, Amount: a, WrittenOff: wo, Relieved: decimal.Zero, Cash: decimal.Zero, WriteOffFunctional: decimal.Zero}
		if wo.IsPositive() {
			ap.Relieved = d.relieve(a, functional)
			if a.IsZero() {
				ap.Relieved = decimal.Zero
			}
			ap.WriteOffFunctional = d.OpenFunctional().Sub(ap.Relieved)
		} else {
			ap.Relieved = d.relieve(a, functional)
		}
		ap.Cash = money.Amount{Value: a.Mul(payFX), Currency: functional}.Round().Value
		out = append(out, ap)
	}
	return out, nil
}
