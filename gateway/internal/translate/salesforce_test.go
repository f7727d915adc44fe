package translate_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/accrue/accrue/gateway/internal/translate"
	"github.com/accrue/accrue/gateway/internal/webhook"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/fault"
)

// projects is the project service as the translator sees it: it keeps the conversion request.
type projects struct {
	projectv1.ProjectServiceClient
	got *projectv1.ConvertOpportunityRequest
}

func (p *projects) ConvertOpportunity(_ context.Context, req *projectv1.ConvertOpportunityRequest, _ ...grpc.CallOption) (*projectv1.ConvertOpportunityResponse, error) {
	p.got = req
	return &projectv1.ConvertOpportunityResponse{}, nil
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testMappings(t testing.TB) *translate.SalesforceMappings {
	t.Helper()
	m, err := translate.LoadSalesforceMappings(filepath.Join("testdata", "salesforce-mapping.json"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// convertSF runs the Salesforce translator on body from source and returns the command and, when
// it converts, the opportunity it sends.
func convertSF(t testing.TB, ms *translate.SalesforceMappings, source string, body []byte) (webhook.Command, *projectv1.Opportunity) {
	t.Helper()
	rec := &projects{}
	cmd, err := translate.SalesforceClosedWon(rec, ms)(source, body)
	if err != nil {
		t.Fatalf("translate: %v", err)
	}
	if cmd.Call == nil {
		return cmd, nil
	}
	if _, err := cmd.Call(context.Background()); err != nil {
		t.Fatal(err)
	}
	return cmd, rec.got.GetOpportunity()
}

func day(y, m, d int32) *commonv1.Date { return &commonv1.Date{Year: y, Month: m, Day: d} }

func usd(amount string) *commonv1.Money { return &commonv1.Money{Amount: amount, CurrencyCode: "USD"} }

func sameMsg(t *testing.T, what string, got, want proto.Message) {
	t.Helper()
	if !proto.Equal(got, want) {
		t.Errorf("%s:\n got %v\nwant %v", what, got, want)
	}
}

// The CometD message of a stock org (standard fields only, the forwarder attached the account and
// the line items as the REST API returns them) converts under the org's mapping: the service
// lines come from the product families, the amounts from TotalPrice or Quantity × UnitPrice, the
// project dates from the lines' ServiceDate and the default term, the legal entity from the
// mapping's default and the tax region from the billing country and state.
func TestSalesforceCometDStockOrg(t *testing.T) {
	cmd, opp := convertSF(t, testMappings(t), "salesforce", fixture(t, "salesforce-cometd-stock.json"))
	if cmd.EventID != "0f8d6f3e-5b7a-4c39-9a1e-8e2b1d7c4a01" {
		t.Errorf("event id %q, want the event's EventUuid", cmd.EventID)
	}
	fixedFee, straight := billingv1.BillingMethod_BILLING_METHOD_FIXED_FEE, billingv1.RevenueMethod_REVENUE_METHOD_STRAIGHT_LINE
	sameMsg(t, "opportunity", opp, &projectv1.Opportunity{
		CrmSystem: "salesforce", OpportunityId: "0065g00000Stk01AAA", Version: 1780304400000, Name: "Globex managed analytics",
		Account: &projectv1.Account{AccountId: "0015g00000Glbx1AAA", Name: "Globex Corporation",
			BillingAddress: &projectv1.AccountAddress{Line1: "742 Evergreen Terrace", City: "Springfield", Region: "IL", PostalCode: "62701", CountryCode: "US"},
			TaxProfile:     &projectv1.AccountTaxProfile{TaxRegion: "US-IL"}},
		LegalEntityCode: "US01", Amount: usd("60000.00"), StartDate: day(2026, 7, 1), EndDate: day(2027, 6, 30),
		ManagerId: "0055g00000OwnrAAAA",
		ServiceLines: []*projectv1.OpportunityServiceLine{
			{LineKey: "00k5g00000Ln001AAA", ServiceLine: "MANAGED_SERVICES", Description: "Managed Analytics", Amount: usd("48000.00"),
				BillingMethod: fixedFee, RevenueMethod: straight, ServiceStart: day(2026, 7, 1), ServiceEnd: day(2027, 6, 30)},
			{LineKey: "00k5g00000Ln002AAA", ServiceLine: "TRAINING", Description: "Administrator training, four sessions", Amount: usd("12000.00"),
				BillingMethod: fixedFee, RevenueMethod: straight, ServiceStart: day(2026, 8, 3), ServiceEnd: day(2027, 6, 30)},
		},
	})
}

// A Pub/Sub API event (decoded payload with nulls for unchanged fields, epoch-millisecond dates)
// of an org that keeps the deal in its own custom fields converts under that org's mapping,
// chosen by the org id the forwarder added.
func TestSalesforcePubSubCustomFields(t *testing.T) {
	cmd, opp := convertSF(t, testMappings(t), "salesforce", fixture(t, "salesforce-pubsub-custom.json"))
	if cmd.EventID != "7b3d2c9e-41a8-4f5e-9c0d-2e6f1a8b9c02" {
		t.Errorf("event id %q, want the Pub/Sub event id", cmd.EventID)
	}
	terms := int32(45)
	sameMsg(t, "opportunity", opp, &projectv1.Opportunity{
		CrmSystem: "salesforce", OpportunityId: "0065g00000Cus01AAA", Version: 1779876000000, Name: "Initech data platform",
		Account: &projectv1.Account{AccountId: "0015g00000Init1AAA", Name: "Initech US", LegalName: "Initech US LLC",
			BillingAddress:   &projectv1.AccountAddress{Line1: "4120 Freidrich Lane", City: "Austin", Region: "TX", PostalCode: "78744", CountryCode: "US"},
			PaymentTermsDays: &terms, TaxProfile: &projectv1.AccountTaxProfile{TaxId: "74-1234567", TaxRegion: "US-TX"}},
		ParentAccounts:  []*projectv1.Account{{AccountId: "0015g00000InitHAAA", Name: "Initech Holdings"}},
		LegalEntityCode: "US01", Amount: usd("100000.00"), StartDate: day(2026, 6, 1), EndDate: day(2026, 12, 31),
		ManagerId: "W-1002", ManagerName: "Grace Hopper",
		ServiceLines: []*projectv1.OpportunityServiceLine{
			{LineKey: "00k5g00000Cln01AAA", ServiceLine: "IMPLEMENTATION", Description: "Data platform build", Amount: usd("80000.00"),
				BillingMethod: billingv1.BillingMethod_BILLING_METHOD_TIME_AND_MATERIALS, RevenueMethod: billingv1.RevenueMethod_REVENUE_METHOD_AS_DELIVERED,
				BudgetHours: "520.0", RateCard: []*billingv1.RateCardEntry{
					{Role: "CONSULTANT", BillRate: usd("150.00"), EffectiveFrom: day(2026, 1, 1)},
					{Role: "ARCHITECT", BillRate: usd("210.00"), EffectiveFrom: day(2026, 1, 1)}}},
			{LineKey: "00k5g00000Cln02AAA", ServiceLine: "TRAINING", Description: "Admin training", Amount: usd("20000.00"),
				BillingMethod: billingv1.BillingMethod_BILLING_METHOD_FIXED_FEE, RevenueMethod: billingv1.RevenueMethod_REVENUE_METHOD_STRAIGHT_LINE,
				ServiceStart: day(2026, 9, 1), ServiceEnd: day(2026, 9, 30)},
		},
	})
}

// The bare change event payload with Accrue's own custom fields converts under the built-in
// mapping exactly as before, and the same change inside a CometD message converts the same.
func TestSalesforceBarePayloadWithAccrueFields(t *testing.T) {
	cmd, opp := convertSF(t, nil, "salesforce", fixture(t, "salesforce-bare-accrue-fields.json"))
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "examples", "salesforce-closed-won.json"))
	if err != nil {
		t.Fatal(err)
	}
	envCmd, envOpp := convertSF(t, nil, "salesforce", []byte(`{"data":`+string(doc)+`,"channel":"/data/OpportunityChangeEvent"}`))
	if cmd.EventID != "0002d6b4-3bd5-4a4e-b0c4-13a1bde41a11:1" || envCmd.EventID != "5c1b9e7e-2f0e-4a9b-9f10-0d5a7a1e0001" {
		t.Errorf("event ids %q (bare) and %q (CometD), want the transaction key and sequence number, and the EventUuid", cmd.EventID, envCmd.EventID)
	}
	sameMsg(t, "CometD against bare", envOpp, opp)
	terms := int32(45)
	tm := billingv1.BillingMethod_BILLING_METHOD_TIME_AND_MATERIALS
	sameMsg(t, "opportunity", opp, &projectv1.Opportunity{
		CrmSystem: "salesforce", OpportunityId: "006Dn00000SfDemo1", Version: 1795000000000, Name: "Initech data platform",
		Account: &projectv1.Account{AccountId: "001Dn00000InitUS", Name: "Initech US", LegalName: "Initech US LLC", CurrencyCode: "USD",
			BillingAddress:   &projectv1.AccountAddress{Line1: "4120 Freidrich Lane", City: "Austin", Region: "TX", PostalCode: "78744", CountryCode: "US"},
			PaymentTermsDays: &terms, TaxProfile: &projectv1.AccountTaxProfile{TaxId: "74-1234567", TaxRegion: "US-TX"}},
		ParentAccounts:  []*projectv1.Account{{AccountId: "001Dn00000InitHQ", Name: "Initech Holdings", CurrencyCode: "USD"}},
		LegalEntityCode: "US01", Amount: usd("98000.00"), StartDate: day(2027, 1, 4), EndDate: day(2027, 6, 30),
		ManagerId: "W-1002", ManagerName: "Grace Hopper",
		ServiceLines: []*projectv1.OpportunityServiceLine{
			{LineKey: "00kDn000003Line1", ServiceLine: "IMPLEMENTATION", Description: "Data platform build", Amount: usd("78000.00"),
				BillingMethod: tm, RevenueMethod: billingv1.RevenueMethod_REVENUE_METHOD_AS_DELIVERED,
				NotToExceed: usd("85000.00"), BudgetHours: "520", ExpenseMarkupPercent: "10", RateCard: []*billingv1.RateCardEntry{
					{Role: "CONSULTANT", BillRate: usd("150.00"), EffectiveFrom: day(2027, 1, 1), EffectiveTo: day(2027, 3, 31)},
					{Role: "CONSULTANT", BillRate: usd("160.00"), EffectiveFrom: day(2027, 4, 1)},
					{Role: "ARCHITECT", BillRate: usd("210.00"), EffectiveFrom: day(2027, 1, 1)}}},
			{LineKey: "00kDn000003Line2", ServiceLine: "TRAINING", Description: "Admin training", Amount: usd("20000.00"),
				BillingMethod: billingv1.BillingMethod_BILLING_METHOD_FIXED_FEE, RevenueMethod: billingv1.RevenueMethod_REVENUE_METHOD_STRAIGHT_LINE,
				ServiceStart: day(2027, 5, 1), ServiceEnd: day(2027, 6, 30)},
		},
	})
}

// payloadOf returns the change event payload of a CometD fixture.
func payloadOf(t testing.TB, cometd []byte) map[string]any {
	t.Helper()
	var m struct {
		Data struct {
			Payload map[string]any `json:"payload"`
		} `json:"data"`
	}
	if err := json.Unmarshal(cometd, &m); err != nil {
		t.Fatal(err)
	}
	return m.Data.Payload
}

func marshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// One change delivered as a CometD message and as a Pub/Sub API event (nested, ConsumerEvent and
// flattened) has one event id, its UUID, so the receiver deduplicates it across shapes; the bare
// payload, which has no UUID, is keyed by its transaction key and sequence number. Every shape
// converts to the same opportunity (the same version: the service answers a repeat UNCHANGED).
func TestSalesforceSameChangeInEveryShapeHasOneEventID(t *testing.T) {
	ms := testMappings(t)
	cometd := fixture(t, "salesforce-cometd-stock.json")
	p := payloadOf(t, cometd)
	flat := map[string]any{"replayId": "16744", "eventId": "0f8d6f3e-5b7a-4c39-9a1e-8e2b1d7c4a01"}
	for k, v := range p {
		flat[k] = v
	}
	shapes := map[string][]byte{
		"pubsub":        marshal(t, map[string]any{"replayId": "16744", "event": map[string]any{"id": "0f8d6f3e-5b7a-4c39-9a1e-8e2b1d7c4a01"}, "payload": p}),
		"consumerEvent": marshal(t, map[string]any{"replayId": "AAAAAAAAQWg=", "event": map[string]any{"id": "0f8d6f3e-5b7a-4c39-9a1e-8e2b1d7c4a01", "schemaId": "MFb0Tl1yBHmQ8DnToWv3Tw", "payload": p}}),
		"flattened":     marshal(t, flat),
		"bare":          marshal(t, p),
	}
	want, wantOpp := convertSF(t, ms, "salesforce", cometd)
	for name, body := range shapes {
		got, opp := convertSF(t, ms, "salesforce", body)
		wantID := want.EventID
		if name == "bare" {
			wantID = "000a3d5e-7a61-2a5e-4d19-1c2f0b7d3e11:1"
		}
		if got.EventID != wantID {
			t.Errorf("%s: event id %q, want %q", name, got.EventID, wantID)
		}
		sameMsg(t, name, opp, wantOpp)
	}
}

// The event's UUID is the id, else the header's transaction key and sequence number, else the
// replay id on its channel.
func TestSalesforceEventIDFallbacks(t *testing.T) {
	p := payloadOf(t, fixture(t, "salesforce-cometd-stock.json"))
	if cmd, _ := convertSF(t, nil, "salesforce", marshal(t, map[string]any{"replayId": 6, "payload": p})); cmd.EventID != "000a3d5e-7a61-2a5e-4d19-1c2f0b7d3e11:1" {
		t.Errorf("no UUID: event id %q, want the transaction key and sequence number", cmd.EventID)
	}
	h := p["ChangeEventHeader"].(map[string]any)
	delete(h, "transactionKey")
	cases := map[string]struct {
		body any
		want string
	}{
		"CometD EventUuid":   {map[string]any{"data": map[string]any{"payload": p, "event": map[string]any{"replayId": 7, "EventUuid": "uuid-1"}}, "channel": "/data/OpportunityChangeEvent"}, "uuid-1"},
		"Pub/Sub event id":   {map[string]any{"id": "uuid-2", "replayId": "8", "payload": p}, "uuid-2"},
		"replay id":          {map[string]any{"data": map[string]any{"payload": p, "event": map[string]any{"replayId": 9}}, "channel": "/data/ChangeEvents"}, "replay:/data/ChangeEvents:9"},
		"replay, no channel": {map[string]any{"replayId": 10, "payload": p}, "replay:/data/OpportunityChangeEvent:10"},
	}
	for name, c := range cases {
		cmd, _ := convertSF(t, testMappings(t), "salesforce", marshal(t, c.body))
		if cmd.EventID != c.want {
			t.Errorf("%s: event id %q, want %q", name, cmd.EventID, c.want)
		}
	}
	_, err := translate.SalesforceClosedWon(&projects{}, nil)("salesforce", marshal(t, p))
	if fault.ReasonOf(err) != translate.ReasonMalformed || !strings.Contains(err.Error(), "no id") {
		t.Errorf("a bare payload without transaction key: %v, want MALFORMED_PAYLOAD (no id)", err)
	}
}
