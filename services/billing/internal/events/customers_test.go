package events_test

import (
	"testing"

	"github.com/shopspring/decimal"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/events"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
	"github.com/accrue/accrue/services/billing/internal/tax"
)

func upserted(t testing.TB, version int64, p *customerv1.TaxProfile) *commonv1.EventEnvelope {
	return envelope(t, customerv1.EventTypeCustomerUpserted, &customerv1.CustomerUpserted{Customer: &customerv1.Customer{
		CustomerId: "01a22200-0000-7000-8000-0000000000c1", TaxProfile: p, Version: version}})
}

// customer.upserted without a tax region leaves a draft BLOCKED_TAX; the event with the region
// unblocks it and it posts with 19 % tax (1,000.00 → 190.00).
func TestCustomerUpsertedUnblocksTaxBlockedDraft(t *testing.T) {
	f := setup(t, legalentity.Reject)
	if err := f.UC.SetTaxRate(f.Ctx, tax.Rate{LegalEntityID: f.LE.ID, Region: "US-CA", EffectiveFrom: billingtest.Day("2026-01-01"),
		Rate: decimal.RequireFromString("0.19")}); err != nil {
		t.Fatal(err)
	}
	apply(t, f, events.Postings(f.UC), approved(t, entry("T-1", consult, taskBill, "2026-06-10", "20", true)))
	apply(t, f, events.Customers(f.UC), upserted(t, 1, &customerv1.TaxProfile{TaxId: "US-1"}))
	c := billingtest.Scalar[string](f, `SELECT id::text FROM contracts LIMIT 1`)
	draft, err := f.UC.ProposeInvoice(f.Ctx, c, billingtest.Day("2026-06-30"))
	if err != nil {
		t.Fatal(err)
	}
	if draft.Status != invoice.BlockedTax {
		t.Fatalf("status %s, want BLOCKED_TAX", draft.Status)
	}
	apply(t, f, events.Customers(f.UC), upserted(t, 2, &customerv1.TaxProfile{TaxId: "US-1", TaxRegion: "US-CA"}))
	inv, err := f.UC.PostInvoice(f.Ctx, draft.ID, billingtest.Day("2026-07-01"))
	if err != nil {
		t.Fatal(err)
	}
	if inv.Tax.String() != "190.00 USD" || inv.Gross().String() != "1190.00 USD" {
		t.Fatalf("tax %s gross %s, want 190.00 and 1190.00 USD", inv.Tax, inv.Gross())
	}
	if tp := account(f, "2200"); tp != "-190.00" {
		t.Fatalf("tax payable %s, want -190.00", tp)
	}
}
