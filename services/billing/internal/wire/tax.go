package wire

import (
	"github.com/shopspring/decimal"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/tax"
)

// TaxProfile converts a customer's tax profile (none: an empty profile, which lacks a region).
func TaxProfile(c *customerv1.Customer) tax.Profile {
	p := c.GetTaxProfile()
	return tax.Profile{CustomerID: c.GetCustomerId(), TaxID: p.GetTaxId(), Region: p.GetTaxRegion(), Exempt: p.GetExempt(),
		ExemptionRef: p.GetExemptionCertificateRef(), Version: c.GetVersion()}
}

// TaxRate converts a request's tax rate of legalEntityID (tax.Rate.Validate checks it).
func TaxRate(legalEntityID string, r *billingv1.TaxRate) (tax.Rate, error) {
	d, err := civilpb.From(r.GetEffectiveFrom(), "tax_rate.effective_from")
	if err != nil {
		return tax.Rate{}, err
	}
	v, err := decimal.NewFromString(r.GetRate())
	if err != nil {
		return tax.Rate{}, fault.Invalidf("INVALID_RATE", "tax_rate.rate", "%q is not a rate", r.GetRate())
	}
	return tax.Rate{LegalEntityID: legalEntityID, Region: r.GetTaxRegion(), ItemType: r.GetItemType(), EffectiveFrom: d, Rate: v}, nil
}

// TaxRateProto converts a tax rate.
func TaxRateProto(r tax.Rate) *billingv1.TaxRate {
	return &billingv1.TaxRate{TaxRegion: r.Region, ItemType: r.ItemType, EffectiveFrom: civilpb.To(r.EffectiveFrom), Rate: r.Rate.String()}
}

// ListTaxRatesResponse converts a legal entity's tax rates.
func ListTaxRatesResponse(rates []tax.Rate) *billingv1.ListTaxRatesResponse {
	resp := &billingv1.ListTaxRatesResponse{}
	for _, r := range rates {
		resp.TaxRates = append(resp.TaxRates, TaxRateProto(r))
	}
	return resp
}

// ListTaxBlockedInvoicesResponse converts the BLOCKED_TAX drafts.
func ListTaxBlockedInvoicesResponse(invs []invoice.Invoice) *billingv1.ListTaxBlockedInvoicesResponse {
	resp := &billingv1.ListTaxBlockedInvoicesResponse{}
	for _, inv := range invs {
		resp.Invoices = append(resp.Invoices, Invoice(inv))
	}
	return resp
}
