package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
)

// The vendor fixtures are the gateway translator's (gateway/internal/translate/testdata), written
// in the shapes the vendors document; the gateway here is the real binary reading the same
// mapping file as the translator's tests (ACCRUE_SALESFORCE_MAPPING).

func vendorFile(t testing.TB, name string) string {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "gateway", "internal", "translate", "testdata", name)
}

func vendorFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(vendorFile(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func getContract(t testing.TB, env *harness.Env, id string) *billingv1.Contract {
	t.Helper()
	st, _, body := env.Do(http.MethodGet, "/v1/contracts/"+id, nil, env.Bearer(billingRead))
	if st != http.StatusOK {
		t.Fatalf("GET /v1/contracts/%s: %d: %s", id, st, body)
	}
	var resp billingv1.GetContractResponse
	decode(t, body, &resp)
	return resp.GetContract()
}

func getCustomer(t testing.TB, env *harness.Env, id string) *customerv1.Customer {
	t.Helper()
	st, _, body := env.Do(http.MethodGet, "/v1/customers/"+id, nil, env.Bearer(customersRead))
	if st != http.StatusOK {
		t.Fatalf("GET /v1/customers/%s: %d: %s", id, st, body)
	}
	var resp customerv1.GetCustomerResponse
	decode(t, body, &resp)
	return resp.GetCustomer()
}

// convertedBySalesforce posts a Salesforce delivery and expects a first conversion.
func convertedBySalesforce(t *testing.T, env *harness.Env, what string, body []byte, tasks int) *projectv1.ConvertOpportunityResponse {
	t.Helper()
	st, _, resp := env.PostWebhook("/webhooks/salesforce/salesforce/opportunities", "salesforce", body)
	if st != http.StatusOK {
		t.Fatalf("%s: %d, want 200: %s", what, st, resp)
	}
	var r projectv1.ConvertOpportunityResponse
	decode(t, resp, &r)
	if r.GetOutcome() != projectv1.ConversionOutcome_CONVERSION_OUTCOME_CREATED || r.GetProjectStatus() != projectv1.ProjectStatus_PROJECT_STATUS_ACTIVE ||
		int(r.GetTaskCount()) != tasks {
		t.Errorf("%s: %v, want CREATED and ACTIVE with %d tasks", what, &r, tasks)
	}
	return &r
}

// lineAmounts lists a contract's lines as "key service-line amount".
func lineAmounts(c *billingv1.Contract) []string {
	var out []string
	for _, l := range c.GetLines() {
		out = append(out, l.GetLineKey()+" "+l.GetServiceLine()+" "+l.GetAmount().GetAmount()+" "+l.GetAmount().GetCurrencyCode())
	}
	return out
}

// Salesforce Change Data Capture events exactly as Salesforce delivers them convert end to end:
// a stock org's CometD message (standard fields only, read through the default mapping and the
// org's defaults), a Pub/Sub API event of an org with its own custom fields (its mapping chosen by
// org id; epoch-millisecond dates), and the bare payload with Accrue's fields. The same change in
// another shape is a replay; a gap event raises a CDC_GAP exception naming the records to
// re-sync, visible in the ops API; a deletion is acknowledged and ignored.
func TestSalesforceCDCAsDeliveredConverts(t *testing.T) {
	t.Parallel()
	env := harness.Start(t, harness.WithEnv(harness.Gateway, "ACCRUE_SALESFORCE_MAPPING", vendorFile(t, "salesforce-mapping.json")))
	createLegalEntityUS01(t, env)
	const path = "/webhooks/salesforce/salesforce/opportunities"

	// (a) CometD, stock org: 48,000 of managed services (its product family) and 4 × 3,000 of
	// training, from the first service date for the default 12 months, booked by US01.
	cometd := vendorFixture(t, "salesforce-cometd-stock.json")
	stock := convertedBySalesforce(t, env, "CometD message of a stock org", cometd, 4+trainingTasks)
	if stock.GetConvertedVersion() != 1780304400000 {
		t.Errorf("converted version %d, want the commit timestamp 1780304400000", stock.GetConvertedVersion())
	}
	assertConvertedOnce(t, env, &projectv1.Opportunity{CrmSystem: "salesforce", OpportunityId: "0065g00000Stk01AAA",
		Account: &projectv1.Account{AccountId: "0015g00000Glbx1AAA"}}, stock, 4+trainingTasks)
	if c := getContract(t, env, stock.GetContract().GetId()); !moneyIs(c.GetTotalAmount(), "60000.00") ||
		!slices.Equal(lineAmounts(c), []string{"00k5g00000Ln001AAA MANAGED_SERVICES 48000.00 USD", "00k5g00000Ln002AAA TRAINING 12000.00 USD"}) {
		t.Errorf("stock org's contract: total %v, lines %v", c.GetTotalAmount(), lineAmounts(c))
	}
	if p := getProject(t, env, stock.GetProject().GetId()); !moneyIs(p.GetBudget().GetRevenue(), "60000.00") ||
		!sameDate(p.GetStartDate(), 2026, 7, 1) || !sameDate(p.GetEndDate(), 2027, 6, 30) || p.GetName() != "Globex managed analytics" {
		t.Errorf("stock org's project: %v", p)
	}
	if c := getCustomer(t, env, stock.GetCustomer().GetId()); c.GetName() != "Globex Corporation" || c.GetTaxProfile().GetTaxRegion() != "US-IL" {
		t.Errorf("stock org's customer: %v, want Globex Corporation taxed in US-IL (its billing state)", c)
	}

	// The same change as a Pub/Sub API event: the same event id, refused as a replay.
	var msg struct {
		Data struct {
			Payload map[string]any `json:"payload"`
		} `json:"data"`
	}
	if err := json.Unmarshal(cometd, &msg); err != nil {
		t.Fatal(err)
	}
	pubsub, _ := json.Marshal(map[string]any{"replayId": "16744", "event": map[string]any{"id": "0f8d6f3e-5b7a-4c39-9a1e-8e2b1d7c4a01"}, "payload": msg.Data.Payload})
	st, hdr, body := env.PostWebhook(path, "salesforce", pubsub)
	expectProblem(t, "the same change as a Pub/Sub event", http.StatusConflict, "REPLAYED_EVENT", st, hdr, body)
	// The bare payload has no event UUID (its id is the transaction key): the gateway passes it on
	// and the conversion, idempotent on the opportunity and its version, changes nothing.
	bareStock, _ := json.Marshal(msg.Data.Payload)
	st, _, body = env.PostWebhook(path, "salesforce", bareStock)
	var again projectv1.ConvertOpportunityResponse
	if st == http.StatusOK {
		decode(t, body, &again)
	}
	if st != http.StatusOK || again.GetOutcome() != projectv1.ConversionOutcome_CONVERSION_OUTCOME_UNCHANGED ||
		again.GetProject().GetId() != stock.GetProject().GetId() {
		t.Errorf("the same change as a bare payload: %d %s, want 200 UNCHANGED on the same project", st, body)
	}

	// (b) Pub/Sub API, an org with its own fields: 80,000 T&M implementation and 20,000 training.
	custom := convertedBySalesforce(t, env, "Pub/Sub event of an org with custom fields", vendorFixture(t, "salesforce-pubsub-custom.json"), implementationTasks+trainingTasks)
	assertConvertedOnce(t, env, &projectv1.Opportunity{CrmSystem: "salesforce", OpportunityId: "0065g00000Cus01AAA",
		Account: &projectv1.Account{AccountId: "0015g00000Init1AAA"}, ParentAccounts: []*projectv1.Account{{AccountId: "0015g00000InitHAAA"}}},
		custom, implementationTasks+trainingTasks)
	c := getContract(t, env, custom.GetContract().GetId())
	if !moneyIs(c.GetTotalAmount(), "100000.00") || consultantRate(c, "00k5g00000Cln01AAA") != "150.00" ||
		!slices.Equal(lineAmounts(c), []string{"00k5g00000Cln01AAA IMPLEMENTATION 80000.00 USD", "00k5g00000Cln02AAA TRAINING 20000.00 USD"}) {
		t.Errorf("custom org's contract: total %v, lines %v, consultant rate %s", c.GetTotalAmount(), lineAmounts(c), consultantRate(c, "00k5g00000Cln01AAA"))
	}
	if p := getProject(t, env, custom.GetProject().GetId()); p.GetManagerName() != "Grace Hopper" || !sameDate(p.GetStartDate(), 2026, 6, 1) ||
		!sameDate(p.GetEndDate(), 2026, 12, 31) || !moneyIs(p.GetBudget().GetRevenue(), "100000.00") {
		t.Errorf("custom org's project: %v", p)
	}
	if cu := getCustomer(t, env, custom.GetCustomer().GetId()); cu.GetLegalName() != "Initech US LLC" || cu.GetTaxProfile().GetTaxId() != "74-1234567" ||
		cu.GetPaymentTermsDays() != 45 || cu.GetParentCustomerId() == "" {
		t.Errorf("custom org's customer: %v", cu)
	}

	// (c) The bare payload with Accrue's own fields: 98,000.
	bare := convertedBySalesforce(t, env, "bare change event payload", vendorFixture(t, "salesforce-bare-accrue-fields.json"), implementationTasks+trainingTasks)
	if c := getContract(t, env, bare.GetContract().GetId()); !moneyIs(c.GetTotalAmount(), "98000.00") || c.GetExternalReference().GetExternalId() != "006Dn00000SfDemo1" {
		t.Errorf("bare payload's contract: %v", c)
	}

	// A gap event: 202, the exception names both opportunities, once.
	gap := vendorFixture(t, "salesforce-cometd-gap.json")
	st, _, body = env.PostWebhook(path, "salesforce", gap)
	var raised struct {
		Status    string   `json:"status"`
		Reason    string   `json:"reason"`
		RecordIDs []string `json:"record_ids"`
	}
	if err := json.Unmarshal(body, &raised); err != nil || st != http.StatusAccepted || raised.Reason != "CDC_GAP" ||
		strings.Join(raised.RecordIDs, ",") != "0065g00000Gap01AAA,0065g00000Gap02AAA" {
		t.Errorf("gap event: %d %s, want 202 CDC_GAP naming both records", st, body)
	}
	st, hdr, body = env.PostWebhook(path, "salesforce", gap)
	expectProblem(t, "the gap event again", http.StatusConflict, "REPLAYED_EVENT", st, hdr, body)
	if st, _, body := env.PostWebhook(path, "salesforce", vendorFixture(t, "salesforce-cometd-overflow.json")); st != http.StatusAccepted {
		t.Errorf("overflow event: %d %s, want 202", st, body)
	}
	deleted := strings.NewReplacer(`"changeType": "UPDATE"`, `"changeType": "DELETE"`, `"transactionKey": "000a3d5e`, `"transactionKey": "000b3d5e`,
		`"EventUuid": "0f8d6f3e`, `"EventUuid": "1f8d6f3e`).Replace(string(cometd))
	st, _, body = env.PostWebhook(path, "salesforce", []byte(deleted))
	if st != http.StatusOK || !strings.Contains(string(body), `"OPPORTUNITY_DELETED"`) {
		t.Errorf("deletion: %d %s, want 200 ignored OPPORTUNITY_DELETED", st, body)
	}

	gaps := map[string]gapEntry{}
	for _, e := range gapsQuarantined(t, env) {
		gaps[strings.Join(e.RecordIDs, ",")] = e
	}
	if e, ok := gaps["0065g00000Gap01AAA,0065g00000Gap02AAA"]; !ok || e.Entity != "Opportunity" || !strings.Contains(e.Detail, "re-sync") ||
		e.EventID != "3c9a7e51-0d24-4b6f-8e13-5a7b9c0d1e03" {
		t.Errorf("quarantined gap: %+v (all: %v)", e, gaps)
	}
	if e, ok := gaps[""]; !ok || e.Entity != "Opportunity" || !strings.Contains(e.Detail, "GAP_OVERFLOW") {
		t.Errorf("quarantined overflow: %+v", e)
	}
	if len(gaps) != 2 {
		t.Errorf("%d CDC_GAP exceptions, want 2 (the gap once, the overflow)", len(gaps))
	}
	want := records{Customers: 5, Contracts: 3, ContractVersions: 3, Projects: 3,
		Tasks: 4 + trainingTasks + 2*(implementationTasks+trainingTasks), Conversions: 3}
	if got := countRecords(t, env); got != want {
		t.Errorf("records %+v, want %+v (three deals; the replay, the gaps and the deletion wrote nothing)", got, want)
	}
}

type gapEntry struct {
	Reason    string   `json:"reason"`
	Detail    string   `json:"detail"`
	EventID   string   `json:"event_id"`
	Entity    string   `json:"entity"`
	RecordIDs []string `json:"record_ids"`
}

// gapsQuarantined returns the CDC_GAP entries of the gateway's quarantine (GET
// /v1/ops/gateway/webhook-quarantine).
func gapsQuarantined(t testing.TB, env *harness.Env) []gapEntry {
	t.Helper()
	st, _, body := env.Do(http.MethodGet, "/v1/ops/gateway/webhook-quarantine?limit=1000", nil, env.Bearer(opsRead))
	if st != http.StatusOK {
		t.Fatalf("GET /v1/ops/gateway/webhook-quarantine: %d: %s", st, body)
	}
	var resp struct {
		Deliveries []gapEntry `json:"deliveries"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatalf("quarantine: %v: %s", err, body)
	}
	var out []gapEntry
	for _, e := range resp.Deliveries {
		if e.Reason == "CDC_GAP" {
			out = append(out, e)
		}
	}
	return out
}

// A worker as Workday's Get_Workers documents it (Worker_Reference Employee_ID, Worker_Data with
// the legal name, the primary job's profile and site, the company and the annual base pay)
// becomes a resource with its role, capacity and cost rate; the same document again is a replay.
func TestWorkdayGetWorkersDocumentSyncsResource(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	const path = "/webhooks/workday/workday/workers"
	doc := vendorFixture(t, "workday-get-workers.json")
	st, _, body := env.PostWebhook(path, "workday", doc)
	if st != http.StatusOK {
		t.Fatalf("Get_Workers document: %d, want 200: %s", st, body)
	}
	var synced resourcev1.SyncWorkerResponse
	decode(t, body, &synced)
	r := synced.GetResource()
	if synced.GetOutcome() != resourcev1.Outcome_OUTCOME_CREATED || !synced.GetCostRateChanged() || r.GetRole() != "SENIOR_CONSULTANT" ||
		r.GetName() != "Katherine Johnson" || r.GetHomeLegalEntityCode() != "US01" || !sameDecimal(r.GetWeeklyCapacityHours(), "40") ||
		r.GetSourceVersion() != 1795194000000 {
		t.Fatalf("synced worker: %v", &synced)
	}
	rates := listCostRates(t, env, r.GetResourceId())
	if len(rates.GetCurrent()) != 1 || !moneyIs(rates.GetCurrent()[0].GetRate(), "60.00") || !sameDate(rates.GetCurrent()[0].GetEffectiveFrom(), 2026, 1, 1) {
		t.Errorf("cost rates %v, want 60.00 USD from 2026-01-01 (124,800 a year over 52 × 40 hours)", rates)
	}
	if n := env.Count("resource", `SELECT count(*) FROM resource_external_refs WHERE system = 'workday' AND external_id = '21001'`); n != 1 {
		t.Errorf("%d resources hold Workday worker 21001, want 1", n)
	}
	st, hdr, body := env.PostWebhook(path, "workday", doc)
	expectProblem(t, "the same document again", http.StatusConflict, "REPLAYED_EVENT", st, hdr, body)
}
