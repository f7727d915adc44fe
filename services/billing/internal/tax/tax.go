// Package tax holds the rules of tax on invoices: a rate table per legal entity, tax region and
// item type (time, expense; "" for every type), effective-dated; a customer's tax profile (a
// replica of the customer service's); what an invoice needs before it can be taxed; and the tax
// of a line: rate × line amount, rounded half-up once per line. No I/O here.
//
// A legal entity without any rate does not charge tax: its invoices are never blocked and carry
// no tax (the entity has not been set up for tax). Once it has a rate, every invoice needs its
// customer's tax profile: an exempt customer is taxed at zero with its exemption certificate
// reference on the invoice; a B2B customer (a tax id) in another country than the legal entity
// is reverse charged (zero tax and a reverse-charge note); anyone else is taxed at the rate of
// their tax region. A customer without that data makes the invoice BLOCKED_TAX.
package tax

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
)

// What an invoice may lack (stable codes, listed on the exception queue).
const (
	MissingProfile      = "TAX_PROFILE_MISSING"
	MissingRegion       = "TAX_REGION_MISSING"
	MissingExemptionRef = "EXEMPTION_CERTIFICATE_MISSING"
)

// Faults of rejected requests, with their stable reasons.
var (
	ErrBlocked     = fault.New(fault.FailedPrecondition, "INVOICE_BLOCKED_TAX", "the customer lacks the tax data the invoice needs; fix its tax profile")
	ErrRateMissing = fault.New(fault.FailedPrecondition, "TAX_RATE_MISSING", "no tax rate for the customer's tax region and the item type on the issue date")
	ErrInvalidRate = fault.New(fault.Invalid, "TAX_RATE_INVALID", "a tax rate needs a legal entity, a tax region, an effective date and a rate from 0 to below 1")
)

// ReverseChargeNote is printed on a reverse-charged invoice.
const ReverseChargeNote = "Reverse charge: VAT to be accounted for by the recipient"

// Profile is a customer's tax profile as billing holds it.
type Profile struct {
	CustomerID   string
	TaxID        string
	Region       string // e.g. "DE", "US-CA"
	Exempt       bool
	ExemptionRef string
	Version      int64
}

// Rate is the tax rate of a legal entity for a region and item type from a date on.
type Rate struct {
	LegalEntityID string
	Region        string
	ItemType      string // "" applies to every item type without a rate of its own
	EffectiveFrom civil.Date
	Rate          decimal.Decimal // 0.19 for 19 %
}

// Validate checks r.
func (r Rate) Validate() error {
	if r.LegalEntityID == "" || r.Region == "" || r.EffectiveFrom.IsZero() || r.Rate.IsNegative() || !r.Rate.LessThan(decimal.NewFromInt(1)) {
		return ErrInvalidRate
	}
	return nil
}

// Missing lists what profile (nil: the customer has none) lacks for an invoice to be taxed.
func Missing(p *Profile) []string {
	switch {
	case p == nil:
		return []string{MissingProfile}
	case p.Exempt && p.ExemptionRef == "":
		return []string{MissingExemptionRef}
	case !p.Exempt && p.Region == "":
		return []string{MissingRegion}
	}
	return nil
}

// Treatment is how an invoice is taxed.
type Treatment struct {
	Exempt        bool
	ReverseCharge bool
	ExemptionRef  string
	Note          string
}

// TreatmentOf is the treatment of an invoice to a customer with profile p (complete: Missing is
// empty) from a legal entity in entityCountry.
func TreatmentOf(p Profile, entityCountry string) Treatment {
	switch {
	case p.Exempt:
		return Treatment{Exempt: true, ExemptionRef: p.ExemptionRef, Note: "Tax exempt, certificate " + p.ExemptionRef}
	case p.TaxID != "" && entityCountry != "" && country(p.Region) != strings.ToUpper(entityCountry):
		return Treatment{ReverseCharge: true, Note: ReverseChargeNote}
	}
	return Treatment{}
}

func country(region string) string {
	c, _, _ := strings.Cut(region, "-")
	return c
}

// Lookup picks the rate in effect on d for region and itemType from rates: the item type's own
// rate, else the region's rate for every type; the latest effective date not after d wins.
func Lookup(rates []Rate, region, itemType string, d civil.Date) (decimal.Decimal, bool) {
	for _, want := range []string{itemType, ""} {
		var best *Rate
		for i := range rates {
			r := &rates[i]
			if r.Region != region || r.ItemType != want || d.Before(r.EffectiveFrom) {
				continue
			}
			if best == nil || best.EffectiveFrom.Before(r.EffectiveFrom) {
				best = r
			}
		}
		if best != nil {
			return best.Rate, true
		}
		if want == "" {
			break
		}
	}
	return decimal.Zero, false
}

// Line is rate × amount rounded half-up once to the currency's minor unit.
func Line(rate decimal.Decimal, amount money.Amount) money.Amount {
	return money.Amount{Value: amount.Value.Mul(rate), Currency: amount.Currency}.Round()
}

// Item is what a line needs to be taxed.
type Item struct {
	ItemType string
	Amount   money.Amount
}

// Compute is the rate and tax of each item of an invoice issued on d under t for region, and
// ErrRateMissing when a taxed item has no rate.
func Compute(t Treatment, rates []Rate, region string, d civil.Date, items []Item) (rate []decimal.Decimal, taxes []money.Amount, err error) {
	for _, it := range items {
		if t.Exempt || t.ReverseCharge {
			rate, taxes = append(rate, decimal.Zero), append(taxes, money.Zero(it.Amount.Currency))
			continue
		}
		r, ok := Lookup(rates, region, it.ItemType, d)
		if !ok {
			return nil, nil, ErrRateMissing.With(fmt.Sprintf("no rate for region %s, item type %q on %s", region, it.ItemType, d))
		}
		rate, taxes = append(rate, r), append(taxes, Line(r, it.Amount))
	}
	return rate, taxes, nil
}
