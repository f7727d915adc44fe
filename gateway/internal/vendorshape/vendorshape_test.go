package vendorshape_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/accrue/accrue/gateway/internal/vendorshape"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
)

var update = flag.Bool("update", false, "rewrite the golden bodies in testdata")

var ids = &commonv1.CrossSystemIds{CustomerId: "01970c3a-0000-7000-8000-0000000000c1", ProjectId: "01970c3a-0000-7000-8000-0000000000p1",
	ContractId: "01970c3a-0000-7000-8000-0000000000k1", LegalEntityId: "01970c3a-0000-7000-8000-0000000000e1",
	CrmSystem: "salesforce", CrmOpportunityId: "006Dn000004XyZaIAK", CrmAccountId: "001Dn00000AbCdEIAZ"}

func usd(s string) *commonv1.Money { return &commonv1.Money{Amount: s, CurrencyCode: "USD"} }

// event is a CloudEvent of type typ whose data is payload as the dispatcher encodes it
// (protobuf JSON, proto field names).
func event(t *testing.T, typ string, payload proto.Message) vendorshape.Event {
	t.Helper()
	data, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	return vendorshape.Event{ID: "01970c3a-5e00-7000-8000-00000000e001", Type: typ, Source: "/accrue/test",
		Subject: "01970c3a-0000-7000-8000-0000000000s1", Time: time.Date(2026, 6, 30, 17, 45, 0, 0, time.UTC),
		CorrelationID: "2f1c9b1e-8d4a-4c1e-9a57-3c1d0e5b7a10", Data: data}
}

func events(t *testing.T) map[string]vendorshape.Event {
	invoice := &billingv1.Invoice{InvoiceId: "01970c3a-0000-7000-8000-0000000000i1", Number: "US01-2026-000007",
		Total: usd("1000.00"), Tax: usd("190.00"), Status: billingv1.InvoiceStatus_INVOICE_STATUS_POSTED}
	credit := &billingv1.Invoice{InvoiceId: "01970c3a-0000-7000-8000-0000000000n1", Number: "CN-US01-2026-000001",
		Total: usd("-200.00"), Kind: billingv1.InvoiceKind_INVOICE_KIND_CREDIT_NOTE}
	return map[string]vendorshape.Event{
		projectv1.EventTypeProjectActivated: event(t, projectv1.EventTypeProjectActivated, &projectv1.ProjectActivated{
			Project:  &projectv1.Project{ProjectId: ids.ProjectId, Name: "Initech data platform", Status: projectv1.ProjectStatus_PROJECT_STATUS_ACTIVE},
			CrossIds: ids}),
		projectv1.EventTypeProjectFinancialsChanged: event(t, projectv1.EventTypeProjectFinancialsChanged, &projectv1.ProjectFinancialsChanged{
			Financials: &projectv1.ProjectFinancials{ProjectId: ids.ProjectId, Status: projectv1.ProjectStatus_PROJECT_STATUS_ACTIVE,
				PlannedHours: "520.00", ActualHours: "130.00", PlannedCost: usd("41600.00"), ForecastRevenue: usd("98000.00"),
				ForecastMargin: usd("56400.00"), ActualCost: usd("10400.00"), ActualRevenue: usd("19500.00"), ActualMargin: usd("9100.00")},
			Changes: 5, CrossIds: ids}),
		billingv1.EventTypeInvoicePosted: event(t, billingv1.EventTypeInvoicePosted, &billingv1.InvoicePosted{Invoice: invoice,
			CrossIds: ids, ContractBilledToDate: usd("1000.00")}),
		billingv1.EventTypeCreditNotePosted: event(t, billingv1.EventTypeCreditNotePosted, &billingv1.CreditNotePosted{CreditNote: credit,
			CreditedInvoiceNumber: "US01-2026-000007", CrossIds: ids, ContractBilledToDate: usd("800.00")}),
		billingv1.EventTypeInvoiceBlockedTax: event(t, billingv1.EventTypeInvoiceBlockedTax, &billingv1.InvoiceBlockedTax{Invoice: invoice, CrossIds: ids}),
	}
}

// paymentApplied is a payment applied to two invoices of one contract (one opportunity update).
func paymentApplied(t *testing.T) vendorshape.Event {
	app := func(id, number string) *billingv1.PaymentApplication {
		return &billingv1.PaymentApplication{InvoiceId: id, InvoiceNumber: number, AmountApplied: usd("595.00"),
			ContractId: ids.ContractId, CrmOpportunityId: ids.CrmOpportunityId, ContractCollectedToDate: usd("1190.00")}
	}
	return event(t, billingv1.EventTypePaymentApplied, &billingv1.PaymentApplied{PaymentId: "01970c3a-0000-7000-8000-0000000000y1",
		Applications: []*billingv1.PaymentApplication{app("01970c3a-0000-7000-8000-0000000000i1", "US01-2026-000007"),
			app("01970c3a-0000-7000-8000-0000000000i2", "US01-2026-000008")}, CrossIds: ids})
}

// Each shape turns each event type it maps into the body in testdata/<shape>/<type>.json, and
// answers ErrNotApplicable for the others.
func TestShapesMatchTheirGoldenBodies(t *testing.T) {
	evs := events(t)
	evs[billingv1.EventTypePaymentApplied] = paymentApplied(t)
	applies := map[string][]string{
		vendorshape.Salesforce: {projectv1.EventTypeProjectActivated, projectv1.EventTypeProjectFinancialsChanged,
			billingv1.EventTypeInvoicePosted, billingv1.EventTypeCreditNotePosted, billingv1.EventTypePaymentApplied},
		vendorshape.PSA: {projectv1.EventTypeProjectActivated, projectv1.EventTypeProjectFinancialsChanged, billingv1.EventTypeInvoicePosted},
	}
	if got := vendorshape.Shapes(); len(got) != 2 || got[0] != vendorshape.PSA || got[1] != vendorshape.Salesforce {
		t.Fatalf("Shapes() = %v, want [psa salesforce]", got)
	}
	for _, shape := range vendorshape.Shapes() {
		for typ, ev := range evs {
			ct, body, err := vendorshape.Apply(shape, ev)
			want := contains(applies[shape], typ)
			if !want {
				if !errors.Is(err, vendorshape.ErrNotApplicable) {
					t.Errorf("%s %s: %v, want ErrNotApplicable", shape, typ, err)
				}
				continue
			}
			if err != nil || ct != "application/json" {
				t.Errorf("%s %s: content type %q, %v", shape, typ, ct, err)
				continue
			}
			golden(t, filepath.Join("testdata", shape, typ+".json"), body)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func golden(t *testing.T, path string, body []byte) {
	t.Helper()
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, body, "", "  "); err != nil {
		t.Fatalf("%s: body is not JSON: %v\n%s", path, err, body)
	}
	pretty.WriteByte('\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(want, pretty.Bytes()) {
		t.Errorf("%s differs:\n got %s\nwant %s", path, pretty.Bytes(), want)
	}
}

// Salesforce needs the CRM opportunity; the PSA needs a project; a bad shape or data is an
// error, not "not applicable" (the dispatcher must not silently skip those).
func TestShapesRefuseWhatTheyCannotExpress(t *testing.T) {
	noCRM := event(t, projectv1.EventTypeProjectActivated, &projectv1.ProjectActivated{
		Project:  &projectv1.Project{ProjectId: "p1", Status: projectv1.ProjectStatus_PROJECT_STATUS_ACTIVE},
		CrossIds: &commonv1.CrossSystemIds{ProjectId: "p1"}})
	if _, _, err := vendorshape.Apply(vendorshape.Salesforce, noCRM); !errors.Is(err, vendorshape.ErrNotApplicable) {
		t.Errorf("salesforce without an opportunity id: %v, want ErrNotApplicable", err)
	}
	if _, body, err := vendorshape.Apply(vendorshape.PSA, noCRM); err != nil || !bytes.Contains(body, []byte(`"external_id":"p1"`)) {
		t.Errorf("psa without a PSA id keys by the Accrue project id: %s, %v", body, err)
	}
	if _, _, err := vendorshape.Apply("netsuite", noCRM); !errors.Is(err, vendorshape.ErrUnknownShape) {
		t.Errorf("unknown shape: %v, want ErrUnknownShape", err)
	}
	bad := noCRM
	bad.Data = json.RawMessage(`{"cross_ids":"nope"}`)
	if _, _, err := vendorshape.Apply(vendorshape.PSA, bad); err == nil || errors.Is(err, vendorshape.ErrNotApplicable) {
		t.Errorf("malformed data: %v, want a decoding error", err)
	}
}

// A EUR contract of a USD legal entity: forecast revenue in EUR, actuals in USD, no forecast
// margin. The PSA gets both with their currencies (actual_currency USD); Salesforce, whose
// opportunity is in EUR, gets the forecast and not the USD actual revenue.
func TestForeignCurrencyFinancialsKeepTheirCurrencies(t *testing.T) {
	eur := &commonv1.Money{Amount: "26000.00", CurrencyCode: "EUR"}
	ev := event(t, projectv1.EventTypeProjectFinancialsChanged, &projectv1.ProjectFinancialsChanged{
		Financials: &projectv1.ProjectFinancials{ProjectId: ids.ProjectId, Status: projectv1.ProjectStatus_PROJECT_STATUS_ACTIVE,
			CurrencyCode: "EUR", PlannedHours: "40.00", ActualHours: "10.00", PlannedCost: usd("3000.00"), ForecastRevenue: eur,
			ActualCost: usd("700.00"), ActualRevenue: usd("1100.00"), ActualMargin: usd("400.00")},
		CrossIds: ids})
	_, body, err := vendorshape.Apply(vendorshape.PSA, ev)
	var psa struct {
		Project struct {
			Financials map[string]string `json:"financials"`
		} `json:"project"`
	}
	if err == nil {
		err = json.Unmarshal(body, &psa)
	}
	f := psa.Project.Financials
	if err != nil || f["currency"] != "EUR" || f["forecast_revenue"] != "26000.00" || f["actual_revenue"] != "1100.00" ||
		f["actual_currency"] != "USD" || f["actual_margin"] != "400.00" || f["forecast_margin"] != "" {
		t.Errorf("psa figures %v (%v), want EUR forecast 26000.00, actual revenue 1100.00 and margin 400.00 in USD, no forecast margin", f, err)
	}
	_, body, err = vendorshape.Apply(vendorshape.Salesforce, ev)
	if err != nil || !bytes.Contains(body, []byte(`"Forecast_Revenue__c":"26000.00"`)) || bytes.Contains(body, []byte("Actual_Revenue__c")) {
		t.Errorf("salesforce body %s (%v), want the EUR forecast and no USD actual revenue", body, err)
	}
}
