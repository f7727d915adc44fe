// Package wire converts between the customer domain and its protobuf contract, for the gRPC API
// and for the events the service publishes.
package wire

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	"github.com/accrue/accrue/services/customer/internal/customer"
)

// Stream is the stream the customer service publishes to.
const Stream = "customer.events"

// EventUpserted is the type of the event published on every create and change.
const EventUpserted = "customer.upserted"

var statusToProto = map[customer.Status]customerv1.CustomerStatus{
	customer.StatusActive:   customerv1.CustomerStatus_CUSTOMER_STATUS_ACTIVE,
	customer.StatusOnHold:   customerv1.CustomerStatus_CUSTOMER_STATUS_ON_HOLD,
	customer.StatusInactive: customerv1.CustomerStatus_CUSTOMER_STATUS_INACTIVE,
}

// Input converts a contract input.
func Input(p *customerv1.CustomerInput) customer.Input {
	in := customer.Input{
		Details: customer.Details{
			Name:      p.GetName(),
			LegalName: p.GetLegalName(),
			Currency:  p.GetCurrencyCode(),
			ParentID:  p.GetParentCustomerId(),
		},
		PaymentTermsGiven: p.PaymentTermsDays != nil,
	}
	if a := p.GetBillingAddress(); a != nil {
		in.AddressGiven = true
		in.Address = customer.Address{Line1: a.GetLine1(), Line2: a.GetLine2(), City: a.GetCity(),
			Region: a.GetRegion(), PostalCode: a.GetPostalCode(), CountryCode: a.GetCountryCode()}
	}
	in.PaymentTermsDays = int(p.GetPaymentTermsDays())
	if t := p.GetTaxProfile(); t != nil {
		in.Tax = &customer.TaxProfile{TaxID: t.GetTaxId(), TaxRegion: t.GetTaxRegion(), Exempt: t.GetExempt(),
			ExemptionCertificateRef: t.GetExemptionCertificateRef()}
	}
	for _, c := range p.GetContacts() {
		in.Contacts = append(in.Contacts, customer.Contact{Name: c.GetName(), Email: c.GetEmail(), Role: c.GetRole(), Phone: c.GetPhone()})
	}
	for _, r := range p.GetExternalReferences() {
		in.Refs = append(in.Refs, customer.ExternalRef{System: r.GetSystem(), ObjectType: r.GetObjectType(), ExternalID: r.GetExternalId()})
	}
	for s, ps := range statusToProto {
		if ps == p.GetStatus() {
			in.Status = s
		}
	}
	return in
}

// Customer converts a stored customer.
func Customer(c customer.Customer) *customerv1.Customer {
	p := &customerv1.Customer{
		CustomerId:       c.ID,
		Name:             c.Name,
		LegalName:        c.LegalName,
		CurrencyCode:     c.Currency,
		ParentCustomerId: c.ParentID,
		BillingAddress: &customerv1.Address{Line1: c.Address.Line1, Line2: c.Address.Line2, City: c.Address.City,
			Region: c.Address.Region, PostalCode: c.Address.PostalCode, CountryCode: c.Address.CountryCode},
		PaymentTermsDays: int32(c.PaymentTermsDays),
		Status:           statusToProto[c.Status],
		Version:          c.Version,
		CreateTime:       timestamppb.New(c.CreatedAt),
		UpdateTime:       timestamppb.New(c.UpdatedAt),
	}
	if c.Tax != nil {
		p.TaxProfile = &customerv1.TaxProfile{TaxId: c.Tax.TaxID, TaxRegion: c.Tax.TaxRegion, Exempt: c.Tax.Exempt,
			ExemptionCertificateRef: c.Tax.ExemptionCertificateRef}
	}
	for _, ct := range c.Contacts {
		p.Contacts = append(p.Contacts, &customerv1.Contact{Name: ct.Name, Email: ct.Email, Role: ct.Role, Phone: ct.Phone})
	}
	for _, r := range c.Refs {
		p.ExternalReferences = append(p.ExternalReferences, &commonv1.ExternalReference{System: r.System, ObjectType: r.ObjectType, ExternalId: r.ExternalID})
	}
	return p
}
