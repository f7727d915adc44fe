package wire

import (
	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	"github.com/accrue/accrue/services/billing/internal/tax"
)

// TaxProfile converts a customer's tax profile (none: an empty profile, which lacks a region).
func TaxProfile(c *customerv1.Customer) tax.Profile {
	p := c.GetTaxProfile()
	return tax.Profile{CustomerID: c.GetCustomerId(), TaxID: p.GetTaxId(), Region: p.GetTaxRegion(), Exempt: p.GetExempt(),
		ExemptionRef: p.GetExemptionCertificateRef(), Version: c.GetVersion()}
}
