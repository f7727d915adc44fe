package receivable

import (
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
)

// Buckets of the AR aging, by days past the instalment's due date.
const (
	BucketCurrent = "current"
	Bucket1To30   = "1-30"
	Bucket31To60  = "31-60"
	Bucket61To90  = "61-90"
	BucketOver90  = "over-90"
)

// BucketNames lists the buckets in order.
var BucketNames = []string{BucketCurrent, Bucket1To30, Bucket31To60, Bucket61To90, BucketOver90}

// BucketOf is the aging bucket of an instalment due on due, as of asOf.
func BucketOf(due, asOf civil.Date) string {
	switch late := due.DaysUntil(asOf); {
	case late <= 0:
		return BucketCurrent
	case late <= 30:
		return Bucket1To30
	case late <= 60:
		return Bucket31To60
	case late <= 90:
		return Bucket61To90
	default:
		return BucketOver90
	}
}

// Buckets are open functional amounts by aging bucket.
type Buckets map[string]decimal.Decimal

// Total sums the buckets.
func (b Buckets) Total() decimal.Decimal {
	t := decimal.Zero
	for _, v := range b {
		t = t.Add(v)
	}
	return t
}

// CustomerAging is one customer's line of the aging.
type CustomerAging struct {
	CustomerID string
	Buckets    Buckets
}

// Aging is the AR aging of a legal entity as of a date, in its functional currency; Ledger is
// the receivable account's balance on that date (equal to Total's sum when the books agree).
type Aging struct {
	AsOf      civil.Date
	Currency  string
	Customers []CustomerAging
	Total     Buckets
	Ledger    decimal.Decimal
}

// Age buckets the functional open amount of each instalment (dues as of asOf, by customer) by
// days past its due date.
func Age(dues []Due, asOf civil.Date, currency string) Aging {
	a := Aging{AsOf: asOf, Currency: currency, Total: Buckets{}}
	idx := map[string]int{}
	for _, d := range dues {
		open := d.OpenFunctional()
		if open.IsZero() {
			continue
		}
		i, ok := idx[d.CustomerID]
		if !ok {
			i = len(a.Customers)
			idx[d.CustomerID] = i
			a.Customers = append(a.Customers, CustomerAging{CustomerID: d.CustomerID, Buckets: Buckets{}})
		}
		b := BucketOf(d.DueDate, asOf)
		a.Customers[i].Buckets[b] = a.Customers[i].Buckets[b].Add(open)
		a.Total[b] = a.Total[b].Add(open)
	}
	return a
}

// Statement is a customer's open items on To and payments and refunds dated From..To.
type Statement struct {
	CustomerID string
	From, To   civil.Date
	Open       []Due
	Payments   []Payment
	Refunds    []Refund
}
