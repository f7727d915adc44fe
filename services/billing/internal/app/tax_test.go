package app_test

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
	"github.com/accrue/accrue/services/billing/internal/tax"
)

const taxCustomer = "01a22200-0000-7000-8000-0000000000c1" // billingtest.Terms' customer

// taxed is an env whose legal entity charges 19 % in US-CA from 2026-01-01, with 20 h of a
// consultant at 50.00 (1,000.00) unbilled on its contract.
func taxed(t *testing.T) (env, string) {
	e := newEnv(t, legalentity.Reject)
	c := e.WithProject(e.Terms(billingtest.StandardCard()...))
	if err := e.UC.SetTaxRate(e.Ctx, tax.Rate{LegalEntityID: e.LE.ID, Region: "US-CA", EffectiveFrom: billingtest.Day("2026-01-01"),
		Rate: decimal.RequireFromString("0.19")}); err != nil {
		t.Fatal(err)
	}
	e.post(hours("T-1", billingtest.Consult, billingtest.TaskBill, "2026-06-10", "20"))
	return e, c.ID
}

func (e env) profile(p tax.Profile) {
	e.T.Helper()
	p.CustomerID = taxCustomer
	if err := e.UC.ApplyCustomerTaxProfile(e.Ctx, p); err != nil {
		e.T.Fatal(err)
	}
}

func (e env) blockedKPI() int64 {
	e.T.Helper()
	n, err := e.UC.BlockedTaxCount(e.Ctx)
	if err != nil {
		e.T.Fatal(err)
	}
	return n
}

// 1,000.00 at 19 % → 190.00 tax, 1,190.00 owed: Dr receivable 1,190.00 / Cr WIP 1,000.00 / Cr
// tax payable 190.00; a credit note of 4 h (200.00) reverses 38.00 of tax.
func TestTaxNineteenPercent(t *testing.T) {
	e, contractID := taxed(t)
	e.profile(tax.Profile{Region: "US-CA", Version: 1})
	inv := e.postInvoice(e.propose(contractID, "").ID, "2026-07-01")
	wantMoney(t, "net", inv.Total, "1000.00 USD")
	wantMoney(t, "tax", inv.Tax, "190.00 USD")
	wantMoney(t, "gross", inv.Gross(), "1190.00 USD")
	if ar, tp := e.balance(ledger.AccountsReceivable), e.balance(ledger.TaxPayable); ar != "1190.00" || tp != "-190.00" {
		t.Fatalf("receivable %s, tax payable %s; want 1190.00 and -190.00", ar, tp)
	}
	got, err := e.UC.Invoice(e.Ctx, inv.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantMoney(t, "stored tax", got.Tax, "190.00 USD")
	wantMoney(t, "stored line tax", got.Lines[0].Tax, "190.00 USD")

	cn, err := e.UC.CreditInvoice(e.Ctx, inv.ID, []invoice.CreditRequest{{LineNo: 1, Quantity: decimal.NewFromInt(4)}}, billingtest.Day("2026-07-10"))
	if err != nil {
		t.Fatal(err)
	}
	wantMoney(t, "credit note net", cn.Total, "-200.00 USD")
	wantMoney(t, "credit note tax", cn.Tax, "-38.00 USD")
	if ar, tp := e.balance(ledger.AccountsReceivable), e.balance(ledger.TaxPayable); ar != "952.00" || tp != "-152.00" {
		t.Fatalf("after the credit note: receivable %s, tax payable %s; want 952.00 and -152.00", ar, tp)
	}
}

// An exempt customer is taxed at 0.00 and the invoice carries its certificate reference.
func TestTaxExemptCustomer(t *testing.T) {
	e, contractID := taxed(t)
	e.profile(tax.Profile{Exempt: true, ExemptionRef: "CERT-2026-0042", Version: 1})
	inv := e.postInvoice(e.propose(contractID, "").ID, "2026-07-01")
	wantMoney(t, "tax", inv.Tax, "0.00 USD")
	wantMoney(t, "gross", inv.Gross(), "1000.00 USD")
	got, err := e.UC.Invoice(e.Ctx, inv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ExemptionRef != "CERT-2026-0042" || got.TaxNote != "Tax exempt, certificate CERT-2026-0042" {
		t.Fatalf("exemption ref %q note %q, want CERT-2026-0042 printed", got.ExemptionRef, got.TaxNote)
	}
	if tp := e.balance(ledger.TaxPayable); tp != "0.00" {
		t.Fatalf("tax payable %s, want 0.00", tp)
	}
}

// A B2B customer in another country than the legal entity is reverse charged: 0.00 and a note.
func TestTaxReverseCharge(t *testing.T) {
	e, contractID := taxed(t)
	e.profile(tax.Profile{TaxID: "DE123456789", Region: "DE", Version: 1})
	inv := e.postInvoice(e.propose(contractID, "").ID, "2026-07-01")
	wantMoney(t, "tax", inv.Tax, "0.00 USD")
	if inv.TaxNote != tax.ReverseChargeNote {
		t.Fatalf("note %q, want the reverse-charge note", inv.TaxNote)
	}
}

// A customer without a tax region → BLOCKED_TAX (posting refused, KPI 1, an open exception
// saying what is missing); the fixed profile unblocks it → posted with tax, KPI 0.
func TestTaxBlockedUntilProfileFixed(t *testing.T) {
	e, contractID := taxed(t)
	e.profile(tax.Profile{TaxID: "", Region: "", Version: 1})
	draft := e.propose(contractID, "")
	if draft.Status != invoice.BlockedTax {
		t.Fatalf("status %s, want BLOCKED_TAX", draft.Status)
	}
	_, err := e.UC.PostInvoice(e.Ctx, draft.ID, billingtest.Day("2026-07-01"))
	wantReason(t, err, "INVOICE_BLOCKED_TAX")
	if n := e.blockedKPI(); n != 1 {
		t.Fatalf("KPI blocked = %d, want 1", n)
	}
	listed, err := e.UC.TaxExceptions(e.Ctx, e.LE.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != 1 || len(listed[0].TaxMissing) != 1 || listed[0].TaxMissing[0] != tax.MissingRegion {
		t.Fatalf("tax exceptions %+v, want the draft missing %s", listed, tax.MissingRegion)
	}
	open, err := e.Queue.List(e.Ctx, exceptions.Filter{Kind: "invoice.blocked_tax", Status: exceptions.StatusOpen, LegalEntityID: e.LE.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 1 || open[0].EntityID != draft.ID || open[0].LegalEntityID != e.LE.ID {
		t.Fatalf("open exceptions of legal entity %s: %+v, want one for the draft", e.LE.ID, open)
	}
	if other, err := e.Queue.List(e.Ctx, exceptions.Filter{Kind: "invoice.blocked_tax", LegalEntityID: "another-le"}); err != nil || len(other) != 0 {
		t.Fatalf("exceptions of another legal entity: %+v, %v; want none", other, err)
	}

	e.profile(tax.Profile{Region: "US-CA", Version: 2})
	if n := e.blockedKPI(); n != 0 {
		t.Fatalf("KPI blocked after the fix = %d, want 0", n)
	}
	open, err = e.Queue.List(e.Ctx, exceptions.Filter{Kind: "invoice.blocked_tax", Status: exceptions.StatusOpen})
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 0 {
		t.Fatalf("open exceptions after the fix %+v, want none", open)
	}
	inv := e.postInvoice(draft.ID, "2026-07-01")
	if inv.Status != invoice.Posted {
		t.Fatalf("status %s, want POSTED", inv.Status)
	}
	wantMoney(t, "tax", inv.Tax, "190.00 USD")
}

// A customer billing has never heard of blocks the draft too; an older profile changes nothing.
func TestTaxNoProfileBlocksAndStaleVersionIgnored(t *testing.T) {
	e, contractID := taxed(t)
	draft := e.propose(contractID, "")
	if draft.Status != invoice.BlockedTax || draft.TaxMissing[0] != tax.MissingProfile {
		t.Fatalf("status %s missing %v, want BLOCKED_TAX missing %s", draft.Status, draft.TaxMissing, tax.MissingProfile)
	}
	e.profile(tax.Profile{Version: 3})
	e.profile(tax.Profile{Region: "US-CA", Version: 2}) // stale: ignored
	if n := e.blockedKPI(); n != 1 {
		t.Fatalf("KPI blocked = %d, want 1", n)
	}
}
