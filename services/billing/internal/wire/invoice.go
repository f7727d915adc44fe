package wire

import (
	"github.com/shopspring/decimal"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
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
func InvoicePosted(inv invoice.Invoice) *billingv1.InvoicePosted {
	return &billingv1.InvoicePosted{Invoice: Invoice(inv)}
}

// ProposeInvoiceResponse, GetInvoiceResponse, PostInvoiceResponse, VoidInvoiceResponse and
// CreditInvoiceResponse wrap the invoice they return.
func ProposeInvoiceResponse(inv invoice.Invoice) *billingv1.ProposeInvoiceResponse {
	return &billingv1.ProposeInvoiceResponse{Invoice: Invoice(inv)}
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
