package grpcapi_test

import (
	"testing"

	"google.golang.org/grpc/codes"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/servicetest"
	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/grpcapi"
	"github.com/accrue/accrue/services/billing/internal/store"
)

// Tax rates through the API: a valid rate is listed back, a rate of 1 or more is refused with a
// violation and nothing written, and the KPI of blocked invoices starts at 0.
func TestTaxRatesAPI(t *testing.T) {
	t.Parallel()
	env := servicetest.New(t, "billing", store.Migrations(), func(e *servicetest.Env) {
		s := grpcapi.New(app.New(store.New(e.DB.Pool, e.Outbox, e.Queue), e.Queue, e.Log))
		billingv1.RegisterLegalEntityServiceServer(e.Server, s)
		billingv1.RegisterInvoiceServiceServer(e.Server, grpcapi.NewInvoices(s))
		billingv1.RegisterLedgerServiceServer(e.Server, grpcapi.NewLedger(s))
	})
	le := legalEntity(t, env, clients{le: billingv1.NewLegalEntityServiceClient(env.Conn)})
	inv := billingv1.NewInvoiceServiceClient(env.Conn)
	scopes := append([]string{"invoices:read", "invoices:write"}, rw...)

	_, err := inv.SetTaxRate(env.Ctx(scopes), &billingv1.SetTaxRateRequest{LegalEntityId: le,
		TaxRate: &billingv1.TaxRate{TaxRegion: "DE", EffectiveFrom: day(2026, 1, 1), Rate: "1.5"}})
	if code := grpcCode(err); code != codes.InvalidArgument {
		t.Fatalf("rate 1.5: %v, want INVALID_ARGUMENT", err)
	}
	if _, err := inv.SetTaxRate(env.Ctx(scopes), &billingv1.SetTaxRateRequest{LegalEntityId: le,
		TaxRate: &billingv1.TaxRate{TaxRegion: "DE", EffectiveFrom: day(2026, 1, 1), Rate: "0.19"}}); err != nil {
		t.Fatal(err)
	}
	list, err := inv.ListTaxRates(env.Ctx(scopes), &billingv1.ListTaxRatesRequest{LegalEntityId: le})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetTaxRates()) != 1 || list.GetTaxRates()[0].GetRate() != "0.19" || list.GetTaxRates()[0].GetTaxRegion() != "DE" {
		t.Fatalf("rates %v, want DE 0.19 only", list.GetTaxRates())
	}
	blocked, err := inv.ListTaxBlockedInvoices(env.Ctx(scopes), &billingv1.ListTaxBlockedInvoicesRequest{LegalEntityId: le})
	if err != nil || len(blocked.GetInvoices()) != 0 {
		t.Fatalf("blocked %v %v, want none", blocked, err)
	}
	kpis, err := billingv1.NewLedgerServiceClient(env.Conn).GetBillingKpis(env.Ctx(scopes), &billingv1.GetBillingKpisRequest{})
	if err != nil || kpis.GetInvoicesBlockedTax() != 0 {
		t.Fatalf("kpis %v %v, want 0 blocked", kpis, err)
	}
}
