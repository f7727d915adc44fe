// Package wire converts between the customer domain and its protobuf contract, for the gRPC API
// and for the events the service publishes.
package wire

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/services/customer/internal/customer"
)

// Upserted is the event published on every create (created) and change of c.
func Upserted(c customer.Customer, created bool) outbox.Event {
	return outbox.Event{Stream: customerv1.EventStream, Type: customerv1.EventTypeCustomerUpserted, Subject: c.ID,
		Payload: &customerv1.CustomerUpserted{Customer: Customer(c), Created: created}}
}

var outcomes = map[customer.Outcome]customerv1.Outcome{
	customer.Created:   customerv1.Outcome_OUTCOME_CREATED,
	customer.Updated:   customerv1.Outcome_OUTCOME_UPDATED,
	customer.Unchanged: customerv1.Outcome_OUTCOME_UNCHANGED,
}

// Outcome converts what a write did.
func Outcome(o customer.Outcome) customerv1.Outcome { return outcomes[o] }

// Ref converts a contract external reference.
func Ref(r *commonv1.ExternalReference) customer.ExternalRef {
	return customer.ExternalRef{System: r.GetSystem(), ObjectType: r.GetObjectType(), ExternalID: r.GetExternalId()}
}

// Inputs converts contract inputs.
func Inputs(ps []*customerv1.CustomerInput) []customer.Input {
	ins := make([]customer.Input, len(ps))
	for i, p := range ps {
		ins[i] = Input(p)
	}
	return ins
}

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
		in.Refs = append(in.Refs, Ref(r))
	}
	for s, ps := range statusToProto {
		if ps == p.GetStatus() {
			in.Status = s
		}
	}
	return in
}

// Customers converts stored customers.
func Customers(cs []customer.Customer) []*customerv1.Customer {
	out := make([]*customerv1.Customer, len(cs))
	for i, c := range cs {
		out[i] = Customer(c)
	}
	return out
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

// HierarchyResponse converts the customers of a hierarchy upsert and what it did to each.
func HierarchyResponse(cs []customer.Customer, outs []customer.Outcome) *customerv1.UpsertCustomerHierarchyResponse {
	resp := &customerv1.UpsertCustomerHierarchyResponse{Customers: Customers(cs)}
	for _, o := range outs {
		resp.Outcomes = append(resp.Outcomes, Outcome(o))
	}
	return resp
}
