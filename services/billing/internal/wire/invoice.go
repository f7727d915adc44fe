package wire

import (
	"github.com/shopspring/decimal"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/invoice"
)

var invoiceKinds = map[invoice.Kind]billingv1.InvoiceKind{
	invoice.KindInvoice: billingv1.InvoiceKind_INVOICE_KIND_INVOICE, invoice.KindCreditNote: billingv1.InvoiceKind_INVOICE_KIND_CREDIT_NOTE,
}

var invoiceStatuses = map[invoice.Status]billingv1.InvoiceStatus{
	invoice.Draft: billingv1.InvoiceStatus_INVOICE_STATUS_DRAFT, invoice.Posted: billingv1.InvoiceStatus_INVOICE_STATUS_POSTED,
	invoice.Void: billingv1.InvoiceStatus_INVOICE_STATUS_VOID, invoice.BlockedTax: billingv1.InvoiceStatus_INVOICE_STATUS_BLOCKED_TAX,
}

// Invoice converts an invoice or a credit note.
func Invoice(inv invoice.Invoice) *billingv1.Invoice {
	p := &billingv1.Invoice{InvoiceId: inv.ID, Kind: invoiceKinds[inv.Kind], Status: invoiceStatuses[inv.Status], CreditsInvoiceId: inv.CreditsID,
		ContractId: inv.ContractID, LegalEntityId: inv.LegalEntityID, CustomerId: inv.CustomerID, Number: inv.Number,
		IssueDate: civilpb.To(inv.IssueDate), CutOff: civilpb.To(inv.CutOff), FiscalYear: int32(inv.FiscalYear),
		Total: moneyProto(inv.Total), OverCap: moneyProto(inv.OverCap), JournalEntryId: inv.JournalEntryID,
		TaxNote: inv.TaxNote, ExemptionRef: inv.ExemptionRef, TaxMissing: inv.TaxMissing}
	if inv.Tax.Currency != "" {
		p.Tax, p.Gross = moneyProto(inv.Tax), moneyProto(inv.Gross())
	}
	for _, l := range inv.Lines {
		pl := &billingv1.InvoiceLine{LineNo: int32(l.No), ProjectId: l.ProjectID, LineKey: l.LineKey,
			Description: l.Description, CandidateId: l.CandidateID, SourceDate: civilpb.To(l.SourceDate), Quantity: l.Quantity.String(),
			UnitPrice: rateProto(l.UnitPrice), Amount: moneyProto(l.Amount), TaxRate: l.TaxRate.String(), Tax: moneyProto(l.Tax)}
		for _, pt := range l.Parts {
			pl.Parts = append(pl.Parts, &billingv1.InvoiceLinePart{CandidateId: pt.CandidateID, SourceDate: civilpb.To(pt.SourceDate),
				Quantity: pt.Quantity.String(), Amount: moneyProto(pt.Amount)})
		}
		p.Lines = append(p.Lines, pl)
	}
	return p
}

// InvoicePosted is the event of a posted invoice or credit note.
func InvoicePosted(inv invoice.Invoice, ids *commonv1.CrossSystemIds, billedToDate money.Amount) *billingv1.InvoicePosted {
	return &billingv1.InvoicePosted{Invoice: Invoice(inv), CrossIds: ids, ContractBilledToDate: moneyProto(billedToDate)}
}

// CreditNotePosted is the credit_note.posted payload of credit note cn, which credits the invoice
// numbered creditedNumber.
func CreditNotePosted(cn invoice.Invoice, creditedNumber string, ids *commonv1.CrossSystemIds, billedToDate money.Amount) *billingv1.CreditNotePosted {
	return &billingv1.CreditNotePosted{CreditNote: Invoice(cn), CreditedInvoiceNumber: creditedNumber, CrossIds: ids,
		ContractBilledToDate: moneyProto(billedToDate)}
}

// InvoiceBlockedTax is the invoice.blocked_tax payload of draft inv and its exception.
func InvoiceBlockedTax(inv invoice.Invoice, exceptionID string, ids *commonv1.CrossSystemIds) *billingv1.InvoiceBlockedTax {
	return &billingv1.InvoiceBlockedTax{Invoice: Invoice(inv), ExceptionId: exceptionID, CrossIds: ids}
}

// InvoiceCrossIDs are the ids partners match an invoice event on: the customer, contract, legal
// entity and the first line's project in Accrue, the CRM opportunity the contract came from (its
// external reference), and as ERP document the journal entry the ERP journal export carries.
func InvoiceCrossIDs(inv invoice.Invoice, ref contract.ExternalRef) *commonv1.CrossSystemIds {
	ids := &commonv1.CrossSystemIds{CustomerId: inv.CustomerID, ContractId: inv.ContractID, LegalEntityId: inv.LegalEntityID,
		ErpDocumentId: inv.JournalEntryID}
	if len(inv.Lines) > 0 {
		ids.ProjectId = inv.Lines[0].ProjectID
	}
	if ref.ExternalID != "" {
		ids.References = []*commonv1.ExternalReference{{System: ref.System, ObjectType: ref.ObjectType, ExternalId: ref.ExternalID}}
		if ref.ObjectType == "Opportunity" {
			ids.CrmSystem, ids.CrmOpportunityId = ref.System, ref.ExternalID
		}
	}
	return ids
}

// ProposeInvoiceResponse, GetInvoiceResponse, PostInvoiceResponse, VoidInvoiceResponse and
// CreditInvoiceResponse wrap the invoice they return.
func ProposeInvoiceResponse(inv invoice.Invoice) *billingv1.ProposeInvoiceResponse {
	return &billingv1.ProposeInvoiceResponse{Invoice: Invoice(inv)}
}

// ProposeInvoicesResponse converts an invoice run: one result per contract and the counts.
func ProposeInvoicesResponse(run invoice.Run) *billingv1.ProposeInvoicesResponse {
	resp := &billingv1.ProposeInvoicesResponse{Results: make([]*billingv1.ProposedInvoice, len(run.Outcomes))}
	for i, o := range run.Outcomes {
		r := &billingv1.ProposedInvoice{ContractId: o.ContractID, LineCount: int32(o.LineCount), Reason: o.Reason, Message: o.Message}
		switch {
		case o.Invoice != nil:
			r.Invoice = Invoice(*o.Invoice)
			resp.Proposed++
		case o.Reason == invoice.ErrNothingToBill.Reason:
			resp.NothingToBill++
		default:
			resp.Failed++
		}
		resp.Results[i] = r
	}
	return resp
}

func GetInvoiceResponse(inv invoice.Invoice) *billingv1.GetInvoiceResponse {
	return &billingv1.GetInvoiceResponse{Invoice: Invoice(inv)}
}

func PostInvoiceResponse(inv invoice.Invoice) *billingv1.PostInvoiceResponse {
	return &billingv1.PostInvoiceResponse{Invoice: Invoice(inv)}
}

func VoidInvoiceResponse(inv invoice.Invoice) *billingv1.VoidInvoiceResponse {
	return &billingv1.VoidInvoiceResponse{Invoice: Invoice(inv)}
}

func CreditInvoiceResponse(inv invoice.Invoice) *billingv1.CreditInvoiceResponse {
	return &billingv1.CreditInvoiceResponse{CreditNote: Invoice(inv)}
}

// CreditRequests converts the lines of a credit request (a quantity absent: the whole line).
func CreditRequests(lines []*billingv1.CreditLine) ([]invoice.CreditRequest, error) {
	out := make([]invoice.CreditRequest, 0, len(lines))
	for _, l := range lines {
		r := invoice.CreditRequest{LineNo: int(l.GetLineNo())}
		if l.GetQuantity() != "" {
			q, err := decimal.NewFromString(l.GetQuantity())
			if err != nil || !q.IsPositive() {
				return nil, fault.Invalidf("INVALID_QUANTITY", "lines.quantity", "%q is not a quantity more than 0", l.GetQuantity())
			}
			r.Quantity = q
		}
		out = append(out, r)
	}
	return out, nil
}

// SetApplicationContract adds to a payment application its invoice's contract, CRM opportunity
// and what the contract has collected so far.
func SetApplicationContract(a *billingv1.PaymentApplication, contractID, crmOpportunityID string, collected money.Amount) {
	a.ContractId, a.CrmOpportunityId, a.ContractCollectedToDate = contractID, crmOpportunityID, moneyProto(collected)
}

// PaymentCrossIDs are the customer and legal entity of a payment applied to no invoice.
func PaymentCrossIDs(ev *billingv1.PaymentApplied) *commonv1.CrossSystemIds {
	return &commonv1.CrossSystemIds{CustomerId: ev.GetCustomerId(), LegalEntityId: ev.GetLegalEntityId()}
}

// OverCapLines converts what caps keep off invoices.
func OverCapLines(lines []invoice.OverCapLine) []*billingv1.OverCapLine {
	out := make([]*billingv1.OverCapLine, 0, len(lines))
	for _, l := range lines {
		pl := &billingv1.OverCapLine{LineKey: l.LineKey, NotToExceed: moneyProto(l.Limit), Billed: moneyProto(l.Billed), OverCap: moneyProto(l.Over)}
		for _, c := range l.Candidates {
			pl.Candidates = append(pl.Candidates, &billingv1.OverCapCandidate{CandidateId: c.CandidateID, ProjectId: c.ProjectID,
				SourceType: c.SourceType, SourceId: c.SourceID, SourceDate: civilpb.To(c.SourceDate), Quantity: c.Quantity.String(),
				Amount: moneyProto(c.Amount)})
		}
		out = append(out, pl)
	}
	return out
}

// ListOverCapResponse wraps the over-cap list of a contract.
func ListOverCapResponse(lines []invoice.OverCapLine) *billingv1.ListOverCapResponse {
	return &billingv1.ListOverCapResponse{Lines: OverCapLines(lines)}
}

// WriteOffOverCapResponse converts what a write-off wrote off, its total and journal entry.
func WriteOffOverCapResponse(lines []invoice.OverCapLine, total money.Amount, entryID string) *billingv1.WriteOffOverCapResponse {
	return &billingv1.WriteOffOverCapResponse{WrittenOff: OverCapLines(lines), Total: moneyProto(total), JournalEntryId: entryID}
}
