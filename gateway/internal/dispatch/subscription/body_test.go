package subscription_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/accrue/accrue/gateway/internal/dispatch/subscription"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
)

// A subscription's vendor shape renders the body the dispatcher signs; an event the shape cannot
// express is settled unsent (ErrNotApplicable), and the canonical shape stays a CloudEvent.
func TestRenderBodyAppliesTheSubscriptionsVendorShape(t *testing.T) {
	for _, shape := range []string{"salesforce", "psa"} {
		if !subscription.ShapeKnown(shape) {
			t.Fatalf("shape %q unknown to the dispatcher", shape)
		}
	}
	if subscription.ShapeKnown("sap") {
		t.Fatal(`shape "sap" accepted`)
	}
	data, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(&billingv1.InvoicePosted{
		Invoice: &billingv1.Invoice{InvoiceId: "01970c3a-0000-7000-8000-0000000000a1", Number: "US01-2026-000007",
			Total: &commonv1.Money{Amount: "1000.00", CurrencyCode: "USD"}, Status: billingv1.InvoiceStatus_INVOICE_STATUS_POSTED},
		CrossIds:             &commonv1.CrossSystemIds{CrmSystem: "salesforce", CrmOpportunityId: "006Dn000004XyZaIAK"},
		ContractBilledToDate: &commonv1.Money{Amount: "1000.00", CurrencyCode: "USD"}})
	if err != nil {
		t.Fatal(err)
	}
	ev := subscription.Event{ID: "01970c3a-5e00-7000-8000-00000000e001", Type: billingv1.EventTypeInvoicePosted, Producer: "billing",
		Subject: "01970c3a-0000-7000-8000-0000000000a1", OccurredAt: time.Date(2026, 6, 30, 17, 45, 0, 0, time.UTC), Data: data}

	ct, body, err := subscription.RenderBody("salesforce", ev)
	if err != nil || ct != "application/json" {
		t.Fatalf("salesforce: content type %q, err %v", ct, err)
	}
	var sf struct {
		Records []map[string]any `json:"records"`
	}
	if err := json.Unmarshal(body, &sf); err != nil || len(sf.Records) == 0 || sf.Records[0]["Id"] != "006Dn000004XyZaIAK" {
		t.Fatalf("salesforce body %s (err %v): want the opportunity 006Dn000004XyZaIAK updated", body, err)
	}

	ct, body, err = subscription.RenderBody(subscription.CanonicalShape, ev)
	if err != nil || ct != subscription.CloudEventContentType {
		t.Fatalf("canonical: content type %q, err %v", ct, err)
	}
	var ce map[string]any
	if err := json.Unmarshal(body, &ce); err != nil || ce["type"] != billingv1.EventTypeInvoicePosted || ce["id"] != ev.ID {
		t.Fatalf("canonical body %s (err %v)", body, err)
	}

	ev.Type, ev.Data = billingv1.EventTypePaymentApplied, []byte(`{}`)
	if _, _, err := subscription.RenderBody("psa", ev); !errors.Is(err, subscription.ErrNotApplicable) {
		t.Fatalf("psa shape of payment.applied: err %v, want ErrNotApplicable", err)
	}
}
