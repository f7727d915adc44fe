package app

import (
	"context"

	"github.com/shopspring/decimal"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// PartnerEventStore reads what the events partners subscribe to carry beyond the invoice.
type PartnerEventStore interface {
	// ContractBilledToDate sums the contract's posted invoices net of credit notes, before tax.
	ContractBilledToDate(ctx context.Context, contractID string) (decimal.Decimal, error)
	// ContractCollectedToDate sums the payments applied to the contract's invoices.
	ContractCollectedToDate(ctx context.Context, contractID string) (decimal.Decimal, error)
}

// paymentPartnerIDs fills payment.applied's cross ids and, per application, the invoice's
// contract, what it has collected so far and its CRM opportunity.
func (s *Service) paymentPartnerIDs(ctx context.Context, ev *billingv1.PaymentApplied) error {
	for i, a := range ev.GetApplications() {
		inv, err := s.store.Invoice(ctx, a.GetInvoiceId(), false)
		if err != nil {
			return err
		}
		c, err := s.store.Contract(ctx, inv.ContractID, 0)
		if err != nil {
			return err
		}
		collected, err := s.store.ContractCollectedToDate(ctx, inv.ContractID)
		if err != nil {
			return err
		}
		ids := wire.InvoiceCrossIDs(inv, c.Ref)
		wire.SetApplicationContract(a, inv.ContractID, ids.GetCrmOpportunityId(), money.Amount{Value: collected, Currency: inv.Currency}.Round())
		if i == 0 {
			ids.ErpDocumentId = ""
			ev.CrossIds = ids
		}
	}
	if ev.CrossIds == nil {
		ev.CrossIds = wire.PaymentCrossIDs(ev)
	}
	return nil
}

// publishPosted publishes invoice.posted for a posted invoice or credit note, and
// credit_note.posted for a credit note, each with the cross-system ids and what the contract has
// billed so far (this document included).
func (s *Service) publishPosted(ctx context.Context, inv invoice.Invoice) error {
	c, err := s.store.Contract(ctx, inv.ContractID, 0)
	if err != nil {
		return err
	}
	billed, err := s.store.ContractBilledToDate(ctx, inv.ContractID)
	if err != nil {
		return err
	}
	billedToDate := money.Amount{Value: billed, Currency: inv.Currency}.Round()
	ids := wire.InvoiceCrossIDs(inv, c.Ref)
	events := []outbox.Event{{Stream: billingv1.EventStream, Type: billingv1.EventTypeInvoicePosted, Subject: inv.ID,
		Payload: wire.InvoicePosted(inv, ids, billedToDate)}}
	if inv.Kind == invoice.KindCreditNote {
		credited, err := s.store.Invoice(ctx, inv.CreditsID, false)
		if err != nil {
			return err
		}
		events = append(events, outbox.Event{Stream: billingv1.EventStream, Type: billingv1.EventTypeCreditNotePosted, Subject: inv.ID,
			Payload: wire.CreditNotePosted(inv, credited.Number, ids, billedToDate)})
	}
	return s.store.Publish(ctx, events...)
}

// publishBlockedTax publishes invoice.blocked_tax for draft inv, just made BLOCKED_TAX with the
// exception exceptionID.
func (s *Service) publishBlockedTax(ctx context.Context, inv invoice.Invoice, exceptionID string) error {
	c, err := s.store.Contract(ctx, inv.ContractID, 0)
	if err != nil {
		return err
	}
	return s.store.Publish(ctx, outbox.Event{Stream: billingv1.EventStream, Type: billingv1.EventTypeInvoiceBlockedTax, Subject: inv.ID,
		Payload: wire.InvoiceBlockedTax(inv, exceptionID, wire.InvoiceCrossIDs(inv, c.Ref))})
}
