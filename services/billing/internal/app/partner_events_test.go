package app_test

import (
	"testing"

	"github.com/shopspring/decimal"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/streamtest"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
	"github.com/accrue/accrue/services/billing/internal/tax"
)

// published returns the events of typ billing wrote, oldest first.
func (e env) published(typ string) []struct {
	subject string
	payload any
} {
	e.T.Helper()
	msgs, err := streamtest.Published(e.Ctx, e.DB.Pool, typ)
	if err != nil {
		e.T.Fatal(err)
	}
	out := make([]struct {
		subject string
		payload any
	}, len(msgs))
	for i, m := range msgs {
		out[i].subject, out[i].payload = m.Envelope.GetSubject(), m.Payload
	}
	return out
}

func wantInvoiceIDs(t *testing.T, what string, ids *commonv1.CrossSystemIds, inv invoice.Invoice) {
	t.Helper()
	if ids.GetCustomerId() != inv.CustomerID || ids.GetContractId() != inv.ContractID || ids.GetLegalEntityId() != inv.LegalEntityID ||
		ids.GetProjectId() != inv.Lines[0].ProjectID || ids.GetCrmSystem() != "crm" || ids.GetCrmOpportunityId() != "O1" ||
		ids.GetErpDocumentId() != inv.JournalEntryID {
		t.Fatalf("%s cross ids %v; want customer %s, contract %s, project %s, crm opportunity O1, ERP document %q",
			what, ids, inv.CustomerID, inv.ContractID, inv.Lines[0].ProjectID, inv.JournalEntryID)
	}
}

// Posting an invoice of 1,190.00 (1,000.00 + 19 % tax) publishes invoice.posted about it with
// its cross ids and the contract's billed to date (1,000.00, net of tax); a credit note of 4 h
// (200.00) publishes credit_note.posted (and invoice.posted) with billed to date 800.00.
func TestInvoiceAndCreditNotePostedCarryCrossIdsAndBilledToDate(t *testing.T) {
	e, contractID := taxed(t)
	e.profile(tax.Profile{TaxID: "94-1111111", Region: "US-CA", Version: 1})
	inv := e.postInvoice(e.propose(contractID, "").ID, "2026-07-01")
	cn, err := e.UC.CreditInvoice(e.Ctx, inv.ID, []invoice.CreditRequest{{LineNo: 1, Quantity: decimal.RequireFromString("4")}}, billingtest.Day("2026-07-02"))
	if err != nil {
		t.Fatal(err)
	}
	posted := e.published(billingv1.EventTypeInvoicePosted)
	if len(posted) != 2 || posted[0].subject != inv.ID || posted[1].subject != cn.ID {
		t.Fatalf("%d invoice.posted events, want 2: the invoice %s then the credit note %s", len(posted), inv.ID, cn.ID)
	}
	first := posted[0].payload.(*billingv1.InvoicePosted)
	wantInvoiceIDs(t, "invoice.posted", first.GetCrossIds(), inv)
	if b := first.GetContractBilledToDate(); b.GetAmount() != "1000.00" || b.GetCurrencyCode() != "USD" ||
		first.GetInvoice().GetNumber() != inv.Number {
		t.Fatalf("invoice.posted billed to date %v for %s, want 1000.00 USD for %s", b, first.GetInvoice().GetNumber(), inv.Number)
	}
	credits := e.published(billingv1.EventTypeCreditNotePosted)
	if len(credits) != 1 || credits[0].subject != cn.ID {
		t.Fatalf("%d credit_note.posted events, want 1 about %s", len(credits), cn.ID)
	}
	ev := credits[0].payload.(*billingv1.CreditNotePosted)
	wantInvoiceIDs(t, "credit_note.posted", ev.GetCrossIds(), cn)
	if ev.GetCreditedInvoiceNumber() != inv.Number || ev.GetContractBilledToDate().GetAmount() != "800.00" ||
		ev.GetCreditNote().GetTotal().GetAmount() != "-200.00" {
		t.Fatalf("credit note %s of %s credits %s, billed to date %s; want -200.00 of %s, 800.00",
			ev.GetCreditNote().GetTotal().GetAmount(), ev.GetCreditedInvoiceNumber(), ev.GetCreditNote().GetNumber(),
			ev.GetContractBilledToDate().GetAmount(), inv.Number)
	}
}

// A draft blocked by missing tax data publishes invoice.blocked_tax about the draft, naming its
// exception and what is missing, with the cross ids.
func TestBlockedTaxDraftPublishesInvoiceBlockedTax(t *testing.T) {
	e, contractID := taxed(t)
	e.profile(tax.Profile{TaxID: "", Region: "", Version: 1})
	draft := e.propose(contractID, "")
	evs := e.published(billingv1.EventTypeInvoiceBlockedTax)
	if len(evs) != 1 || evs[0].subject != draft.ID {
		t.Fatalf("%d invoice.blocked_tax events, want 1 about %s", len(evs), draft.ID)
	}
	ev := evs[0].payload.(*billingv1.InvoiceBlockedTax)
	exceptionID := billingtest.Scalar[string](e.Env, `SELECT id::text FROM exceptions WHERE entity_id = $1`, draft.ID)
	if ev.GetExceptionId() != exceptionID || ev.GetInvoice().GetStatus() != billingv1.InvoiceStatus_INVOICE_STATUS_BLOCKED_TAX ||
		len(ev.GetInvoice().GetTaxMissing()) != 1 || ev.GetInvoice().GetTaxMissing()[0] != tax.MissingRegion {
		t.Fatalf("event: exception %s, status %s, missing %v; want %s, BLOCKED_TAX, [%s]", ev.GetExceptionId(),
			ev.GetInvoice().GetStatus(), ev.GetInvoice().GetTaxMissing(), exceptionID, tax.MissingRegion)
	}
	draft.JournalEntryID = ""
	wantInvoiceIDs(t, "invoice.blocked_tax", ev.GetCrossIds(), draft)
}

// Closing a period publishes period.closed about the legal entity, with it as cross id.
func TestPeriodClosedCarriesTheLegalEntity(t *testing.T) {
	e, _ := taxed(t)
	if _, err := e.UC.SetPeriod(e.Ctx, e.LE.ID, "2026-05", true); err != nil {
		t.Fatal(err)
	}
	evs := e.published(billingv1.EventTypePeriodClosed)
	if len(evs) != 1 || evs[0].subject != e.LE.ID ||
		evs[0].payload.(*billingv1.PeriodChanged).GetCrossIds().GetLegalEntityId() != e.LE.ID {
		t.Fatalf("period.closed events %v, want one about legal entity %s carrying it as cross id", evs, e.LE.ID)
	}
}

// Two payments on an invoice of 1,000.00 (600.00, then 400.00) publish payment.applied with the
// customer, contract and CRM opportunity as cross ids and, on the application, what the contract
// has collected so far: 600.00, then 1000.00.
func TestPaymentAppliedCarriesCrossIdsAndCollectedToDate(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	inv := e.invoiceOf1000("", "2026-07-01")
	for _, p := range []struct{ ref, amount string }{{"P-1", "600.00"}, {"P-2", "400.00"}} {
		pay := e.pay(p.ref, p.amount, "2026-07-10")
		if _, err := e.UC.ApplyPayment(e.Ctx, pay.ID, "", nil); err != nil {
			t.Fatal(err)
		}
	}
	evs := e.published(billingv1.EventTypePaymentApplied)
	if len(evs) != 2 {
		t.Fatalf("%d payment.applied events, want 2", len(evs))
	}
	for i, want := range []string{"600.00", "1000.00"} {
		ev := evs[i].payload.(*billingv1.PaymentApplied)
		ids, app := ev.GetCrossIds(), ev.GetApplications()[0]
		if evs[i].subject != ev.GetPaymentId() || ids.GetCustomerId() != inv.CustomerID || ids.GetContractId() != inv.ContractID ||
			ids.GetCrmOpportunityId() != "O1" || ids.GetLegalEntityId() != inv.LegalEntityID || app.GetContractId() != inv.ContractID ||
			app.GetCrmOpportunityId() != "O1" || app.GetContractCollectedToDate().GetAmount() != want {
			t.Fatalf("payment %d: subject %s, cross ids %v, application contract %s, opportunity %s, collected %s; want the payment, customer %s, contract %s, O1, collected %s",
				i+1, evs[i].subject, ids, app.GetContractId(), app.GetCrmOpportunityId(), app.GetContractCollectedToDate().GetAmount(),
				inv.CustomerID, inv.ContractID, want)
		}
	}
}
