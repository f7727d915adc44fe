package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/accrue/accrue/e2e/internal/harness"
	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	webhooksv1 "github.com/accrue/accrue/gen/go/accrue/webhooks/v1"
)

// salesforceClosedWon is a Salesforce Change Data Capture event of an opportunity reaching
// "Closed Won", shaped like docs/examples/salesforce-closed-won.json: the same deal as
// opportunity() (an IMPLEMENTATION T&M line and a TRAINING fixed-fee line, 100,000 USD), with the
// account, its parent and the line items riding in Accrue's custom fields.
func salesforceClosedWon(eventUUID, oppID, acct string, commitTimestamp int64) []byte {
	ev := map[string]any{
		"schema": "IeRuaY6cbI_HsV8Rv1Mc5g",
		"payload": map[string]any{
			"ChangeEventHeader": map[string]any{
				"entityName": "Opportunity", "recordIds": []string{oppID}, "changeType": "UPDATE",
				"changeOrigin":   "com/salesforce/api/soap/61.0;client=SfdcInternalAPI/",
				"transactionKey": uuid.NewString(), "sequenceNumber": 1, "commitTimestamp": commitTimestamp,
				"commitNumber": 11920443513977, "commitUser": "005Dn000001Demo",
			},
			"Name": "Initech data platform", "StageName": "Closed Won", "Amount": json.Number("100000"), "CurrencyIsoCode": "USD",
			"CloseDate": "2026-05-27", "Accrue_Legal_Entity__c": "US01", "Accrue_Start_Date__c": "2026-06-01", "Accrue_End_Date__c": "2026-12-31",
			"Accrue_Project_Manager_Id__c": "W-1002", "Accrue_Project_Manager_Name__c": "Grace Hopper",
			"Account": map[string]any{
				"Id": acct, "Name": "Initech US", "Accrue_Legal_Name__c": "Initech US LLC", "CurrencyIsoCode": "USD",
				"BillingStreet": "4120 Freidrich Lane", "BillingCity": "Austin", "BillingState": "TX", "BillingPostalCode": "78744",
				"BillingCountryCode": "US", "Accrue_Payment_Terms_Days__c": 45, "Accrue_Tax_Id__c": "74-1234567", "Accrue_Tax_Region__c": "US-TX",
			},
			"ParentAccounts": []map[string]any{{"Id": acct + "-HQ", "Name": "Initech Holdings", "CurrencyIsoCode": "USD"}},
			"OpportunityLineItems": []map[string]any{
				{"Id": "IMPL-1", "Accrue_Service_Line__c": "IMPLEMENTATION", "Description": "Data platform build", "TotalPrice": json.Number("80000.00"),
					"Accrue_Billing_Method__c": "TIME_AND_MATERIALS", "Accrue_Revenue_Method__c": "AS_DELIVERED", "Accrue_Budget_Hours__c": 520,
					"Accrue_Rate_Card__c": []map[string]any{
						{"Role": "CONSULTANT", "Rate": json.Number("150.00"), "From": "2026-01-01"},
						{"Role": "ARCHITECT", "Rate": json.Number("210.00"), "From": "2026-01-01"},
					}},
				{"Id": "TRN-1", "Accrue_Service_Line__c": "TRAINING", "Description": "Admin training", "TotalPrice": 20000,
					"Accrue_Billing_Method__c": "FIXED_FEE", "Accrue_Revenue_Method__c": "STRAIGHT_LINE",
					"Accrue_Service_Start__c": "2026-09-01", "Accrue_Service_End__c": "2026-09-30"},
			},
		},
		"event": map[string]any{"replayId": 81723, "EventUuid": eventUUID},
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return b
}

// refsOf is the part of an opportunity the record checks need: its CRM keys.
func refsOf(crm, oppID, acct string) *projectv1.Opportunity {
	return &projectv1.Opportunity{CrmSystem: crm, OpportunityId: oppID, Account: &projectv1.Account{AccountId: acct},
		ParentAccounts: []*projectv1.Account{{AccountId: acct + "-HQ"}}}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Salesforce delivers one closed-won event five times at once (same EventUuid): one delivery is
// converted, the four others are refused as replays and kept in the gateway's quarantine, and
// exactly one customer (plus its parent), contract and project exist. Deliveries that are not
// authentic (bad signature, no signature, a stale timestamp) or replayed later are refused with
// their reasons, quarantined, and write nothing — and do not use up the event id.
func TestSalesforceWebhookDeliveredOnceAndForgeriesRefused(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	createLegalEntityUS01(t, env)
	const path = "/webhooks/salesforce/salesforce/opportunities"
	eventID := uuid.NewString()
	oppID, acct := "006SF-"+env.ID(), "001SF-"+env.ID()
	commit := time.Date(2026, 5, 27, 10, 0, 0, 0, time.UTC).UnixMilli()
	body := salesforceClosedWon(eventID, oppID, acct, commit)

	headers := env.WebhookHeaders("salesforce", body, time.Time{})
	answers := concurrently(5, func(int) (*http.Request, error) { return newRequest(env, http.MethodPost, path, body, headers) })
	var accepted *projectv1.ConvertOpportunityResponse
	replays := 0
	for i, a := range answers {
		switch {
		case a.err != nil:
			t.Fatalf("delivery %d: %v", i, a.err)
		case a.status == http.StatusOK:
			if accepted != nil {
				t.Fatalf("delivery %d accepted too: %s", i, a.body)
			}
			accepted = &projectv1.ConvertOpportunityResponse{}
			decode(t, a.body, accepted)
		case a.status == http.StatusConflict && problemReason(a.body) == "REPLAYED_EVENT":
			replays++
		default:
			t.Errorf("delivery %d: %d %s, want 200 or 409 REPLAYED_EVENT", i, a.status, a.body)
		}
	}
	if accepted == nil || replays != 4 {
		t.Fatalf("one delivery accepted (%v) and %d refused as replays; want 1 and 4", accepted != nil, replays)
	}
	if accepted.GetOutcome() != projectv1.ConversionOutcome_CONVERSION_OUTCOME_CREATED || accepted.GetConvertedVersion() != commit ||
		accepted.GetProjectStatus() != projectv1.ProjectStatus_PROJECT_STATUS_ACTIVE || accepted.GetTaskCount() != implementationTasks+trainingTasks {
		t.Errorf("accepted delivery: %v; want CREATED, ACTIVE with %d tasks, version %d (the commit timestamp)", accepted, implementationTasks+trainingTasks, commit)
	}
	opp := refsOf("salesforce", oppID, acct)
	assertConvertedOnce(t, env, opp, accepted, implementationTasks+trainingTasks)
	want := records{Customers: 2, Contracts: 1, ContractVersions: 1, Projects: 1, Tasks: implementationTasks + trainingTasks, Conversions: 1}
	if got := countRecords(t, env); got != want {
		t.Errorf("records %+v, want %+v", got, want)
	}
	// The translation carried the Salesforce fields through: amounts, dates, rates, manager.
	p := getProject(t, env, accepted.GetProject().GetId())
	if p.GetManagerName() != "Grace Hopper" || !moneyIs(p.GetBudget().GetRevenue(), "100000.00") ||
		p.GetStartDate().GetMonth() != 6 || p.GetEndDate().GetMonth() != 12 || p.GetSourceReference().GetExternalId() != oppID {
		t.Errorf("project from Salesforce: %v", p)
	}
	var consultant string
	if err := env.DB("billing").QueryRow(t.Context(), `SELECT bill_rate::text FROM rate_card_entries WHERE contract_id = $1 AND role = 'CONSULTANT'`,
		accepted.GetContract().GetId()).Scan(&consultant); err != nil || !sameDecimal(consultant, "150") {
		t.Errorf("contract consultant rate %q (%v), want 150.00", consultant, err)
	}

	q := quarantined(t, env)
	replayed := 0
	for _, e := range q {
		if e.Reason == "REPLAYED_EVENT" && e.EventID == eventID {
			replayed++
			if e.Source != "salesforce" || e.Route != "salesforce.opportunities" || e.BodySHA256 != sha256Hex(body) || e.CorrelationID == "" {
				t.Errorf("quarantined replay %+v, want source salesforce, route salesforce.opportunities, the body's hash and a correlation id", e)
			}
		}
	}
	if replayed != 4 || len(q) != 4 {
		t.Errorf("quarantine holds %d replays of %s (%d entries), want 4 (4)", replayed, eventID, len(q))
	}

	// Forged, unsigned, stale and replayed deliveries of another deal.
	event2 := uuid.NewString()
	opp2, acct2 := "006SF2-"+env.ID(), "001SF2-"+env.ID()
	body2 := salesforceClosedWon(event2, opp2, acct2, commit)
	forged := harness.SignWebhook([]byte("not-the-salesforce-secret-000000"), time.Now(), body2)
	stale := harness.SignWebhook(env.WebhookSecret("salesforce"), time.Now().Add(-10*time.Minute), body2)
	for _, c := range []struct {
		name, signature, reason string
		body                    []byte
		status                  int
	}{
		{"wrong secret", forged, "SIGNATURE_INVALID", body2, http.StatusUnauthorized},
		{"no signature", "", "SIGNATURE_MISSING", body2, http.StatusUnauthorized},
		{"body changed after signing", env.WebhookHeaders("salesforce", body2, time.Time{})[harness.SignatureHeader], "SIGNATURE_INVALID",
			[]byte(strings.Replace(string(body2), `"Amount":100000`, `"Amount":900000`, 1)), http.StatusUnauthorized},
		{"signed 10 minutes ago", stale, "TIMESTAMP_OUT_OF_TOLERANCE", body2, http.StatusUnauthorized},
		{"replay of the converted event", env.WebhookHeaders("salesforce", body, time.Time{})[harness.SignatureHeader], "REPLAYED_EVENT", body, http.StatusConflict},
	} {
		h := map[string]string{"Content-Type": "application/json"}
		if c.signature != "" {
			h[harness.SignatureHeader] = c.signature
		}
		st, hdr, resp := env.Do(http.MethodPost, path, c.body, h)
		expectProblem(t, c.name, c.status, c.reason, st, hdr, resp)
	}
	if got := countRecords(t, env); got != want {
		t.Errorf("records after the refused deliveries %+v, want %+v", got, want)
	}
	if n := accountCustomers(t, env, "salesforce", acct2); n != 0 {
		t.Errorf("%d customers for the refused deal's account, want 0", n)
	}
	reasons := map[string]int{}
	for _, e := range quarantined(t, env) {
		reasons[e.Reason]++
	}
	if reasons["SIGNATURE_INVALID"] != 2 || reasons["SIGNATURE_MISSING"] != 1 || reasons["TIMESTAMP_OUT_OF_TOLERANCE"] != 1 || reasons["REPLAYED_EVENT"] != 5 {
		t.Errorf("quarantine reasons %v, want 2 SIGNATURE_INVALID, 1 SIGNATURE_MISSING, 1 TIMESTAMP_OUT_OF_TOLERANCE, 5 REPLAYED_EVENT", reasons)
	}

	// The refused deliveries did not use up the event id: the authentic one is converted.
	st, _, resp := env.PostWebhook(path, "salesforce", body2)
	if st != http.StatusOK {
		t.Fatalf("authentic delivery of %s after the refused ones: %d, want 200: %s", event2, st, resp)
	}
	var second projectv1.ConvertOpportunityResponse
	decode(t, resp, &second)
	if second.GetOutcome() != projectv1.ConversionOutcome_CONVERSION_OUTCOME_CREATED || second.GetProject().GetId() == accepted.GetProject().GetId() {
		t.Errorf("authentic delivery of the second deal: %v, want a new project CREATED", &second)
	}
	assertConvertedOnce(t, env, refsOf("salesforce", opp2, acct2), &second, implementationTasks+trainingTasks)
}

// A CRM without a native translation posts the canonical event (POST
// /webhooks/crm/{source}/opportunities): it converts exactly like the REST call, under the
// source's name as CRM system — a second event or a REST call for the same deal change nothing,
// and a bad deal is refused with the same reason, writing nothing.
func TestCanonicalCRMWebhookConvertsLikeREST(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	createLegalEntityUS01(t, env)
	const path = "/webhooks/crm/hubspot/opportunities"
	opp := opportunity("HS-"+env.ID(), "HSA-"+env.ID(), 100)
	opp.CrmSystem = "" // taken from the webhook source
	deliver := func(o *projectv1.Opportunity) (int, http.Header, []byte) {
		t.Helper()
		return env.PostWebhook(path, "hubspot", restJSON(t, &webhooksv1.CrmOpportunityEvent{EventId: uuid.NewString(), Opportunity: o}))
	}

	st, _, body := deliver(opp)
	if st != http.StatusOK {
		t.Fatalf("canonical webhook: %d, want 200: %s", st, body)
	}
	var first projectv1.ConvertOpportunityResponse
	decode(t, body, &first)
	if first.GetOutcome() != projectv1.ConversionOutcome_CONVERSION_OUTCOME_CREATED || first.GetProjectStatus() != projectv1.ProjectStatus_PROJECT_STATUS_ACTIVE {
		t.Errorf("canonical webhook: %v, want CREATED and ACTIVE", &first)
	}
	opp.CrmSystem = "hubspot"
	assertConvertedOnce(t, env, opp, &first, implementationTasks+trainingTasks)

	// Another event about the same deal, and the same deal through REST: nothing changes.
	opp.CrmSystem = ""
	st, _, body = deliver(opp)
	var again projectv1.ConvertOpportunityResponse
	if st == http.StatusOK {
		decode(t, body, &again)
	}
	opp.CrmSystem = "hubspot"
	viaREST := mustConvert(t, env, opp, http.StatusOK)
	for name, r := range map[string]*projectv1.ConvertOpportunityResponse{"second event": &again, "REST": viaREST} {
		if r.GetOutcome() != projectv1.ConversionOutcome_CONVERSION_OUTCOME_UNCHANGED || r.GetCustomer().GetId() != first.GetCustomer().GetId() ||
			r.GetContract().GetId() != first.GetContract().GetId() || r.GetProject().GetId() != first.GetProject().GetId() {
			t.Errorf("%s (status %d): %v, want UNCHANGED on the records of the first event", name, st, r)
		}
	}
	want := records{Customers: 2, Contracts: 1, ContractVersions: 1, Projects: 1, Tasks: implementationTasks + trainingTasks, Conversions: 1}
	if got := countRecords(t, env); got != want {
		t.Errorf("records %+v, want %+v", got, want)
	}

	// A bad deal: the same reason as over REST, the same exception, nothing written.
	bad := opportunity("HS-BAD-"+env.ID(), "HSA-BAD-"+env.ID(), 100)
	bad.CrmSystem = ""
	bad.Amount = usd("99999.99")
	st, hdr, body := deliver(bad)
	p := expectProblem(t, "lines not summing to the deal", http.StatusBadRequest, "CONTRACT_LINES_MISMATCH", st, hdr, body)
	if got := countRecords(t, env); got != want {
		t.Errorf("records after the refused deal %+v, want %+v", got, want)
	}
	exc := findException(listExceptions(t, env, "project", "kind=opportunity.conversion"), "opportunity.conversion", "hubspot:"+bad.GetOpportunityId())
	if exc == nil || exc.GetReason() != "CONTRACT_LINES_MISMATCH" || exc.GetStatus() != opsv1.ExceptionStatus_EXCEPTION_STATUS_OPEN ||
		exc.GetCorrelationId() != p.CorrelationID {
		t.Errorf("exception of the refused deal: %v, want OPEN CONTRACT_LINES_MISMATCH with the delivery's correlation id %s", exc, p.CorrelationID)
	}
}

// workdayWorker is a Workday worker change notification shaped like
// docs/examples/workday-worker.json, with an hourly cost.
func workdayWorker(eventID, workerID string, effective time.Time, jobProfile, hourlyCost, costFrom string) []byte {
	ev := map[string]any{
		"Event_ID": eventID, "Event_Type": "WORKER_CHANGE",
		"Worker": map[string]any{
			"Worker_ID": workerID, "Effective_Moment": effective.UTC().Format(time.RFC3339), "Worker_Type": "Employee",
			"Legal_Name":    map[string]any{"First_Name": "Katherine", "Last_Name": "Johnson"},
			"Email_Address": "katherine.johnson@example.com", "Location": "Hampton, VA", "Company_Reference_ID": "US01",
			"Job_Profile": jobProfile, "Scheduled_Weekly_Hours": 40, "Active": true,
			"Compensation": map[string]any{"Hourly_Cost": json.Number(hourlyCost), "Currency": "USD", "Effective_Date": costFrom},
		},
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return b
}

// An HCM delivers a worker's newer record (Consultant, 61.37/h) before an older one (Senior
// Consultant, 67.91/h): the older record changes nothing — role and cost rates stay — and says
// so. Cost rates are readable only with costrates:read, and no process ever logs them.
func TestHCMWorkerOlderRecordIgnoredAndCostRatesStaySecret(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	const path = "/webhooks/workday/workday/workers"
	workerID := "21001-" + env.ID()
	t2 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	t1 := t2.Add(-19 * 24 * time.Hour)

	newer := workdayWorker("wd-"+uuid.NewString(), workerID, t2, "Consultant", "61.37", "2026-01-01")
	st, _, body := env.PostWebhook(path, "workday", newer)
	if st != http.StatusOK {
		t.Fatalf("newer record: %d, want 200: %s", st, body)
	}
	var created resourcev1.SyncWorkerResponse
	decode(t, body, &created)
	r := created.GetResource()
	if created.GetOutcome() != resourcev1.Outcome_OUTCOME_CREATED || !created.GetCostRateChanged() || r.GetRole() != "CONSULTANT" ||
		r.GetSourceVersion() != t2.UnixMilli() || r.GetName() != "Katherine Johnson" || !sameDecimal(r.GetWeeklyCapacityHours(), "40") {
		t.Fatalf("newer record: %v; want CREATED, cost rate set, CONSULTANT, source version %d", &created, t2.UnixMilli())
	}
	if strings.Contains(string(body), "61.37") {
		t.Errorf("the worker sync answer shows the cost rate: %s", body)
	}
	id := r.GetResourceId()

	older := workdayWorker("wd-"+uuid.NewString(), workerID, t1, "Senior Consultant", "67.91", "2026-03-01")
	st, _, body = env.PostWebhook(path, "workday", older)
	if st != http.StatusOK {
		t.Fatalf("older record: %d, want 200: %s", st, body)
	}
	var ignored resourcev1.SyncWorkerResponse
	decode(t, body, &ignored)
	if ignored.GetOutcome() != resourcev1.Outcome_OUTCOME_IGNORED_STALE || ignored.GetCostRateChanged() || ignored.GetResource().GetRole() != "CONSULTANT" {
		t.Errorf("older record: %v; want IGNORED_STALE, no cost rate change, still CONSULTANT", &ignored)
	}
	st, hdr, body := env.PostWebhook(path, "workday", newer)
	expectProblem(t, "the newer record's event again", http.StatusConflict, "REPLAYED_EVENT", st, hdr, body)

	st, _, body = env.Do(http.MethodGet, "/v1/resources/"+id, nil, env.Bearer(resourcesRead))
	if st != http.StatusOK {
		t.Fatalf("GET resource: %d: %s", st, body)
	}
	var got resourcev1.GetResourceResponse
	decode(t, body, &got)
	if g := got.GetResource(); g.GetRole() != "CONSULTANT" || g.GetSourceVersion() != t2.UnixMilli() || g.GetVersion() != 1 {
		t.Errorf("resource after the older record: role %s, source version %d, version %d; want CONSULTANT, %d, 1",
			g.GetRole(), g.GetSourceVersion(), g.GetVersion(), t2.UnixMilli())
	}
	if strings.Contains(string(body), "61.37") {
		t.Errorf("GET resource shows the cost rate: %s", body)
	}
	rates := listCostRates(t, env, id)
	if len(rates.GetCurrent()) != 1 || len(rates.GetHistory()) != 0 {
		t.Fatalf("cost rates %v, want one current period and no history", rates)
	}
	if c := rates.GetCurrent()[0]; !moneyIs(c.GetRate(), "61.37") || c.GetEffectiveFrom().GetYear() != 2026 || c.GetEffectiveFrom().GetMonth() != 1 ||
		c.GetEffectiveFrom().GetDay() != 1 || c.GetEffectiveTo() != nil {
		t.Errorf("current cost rate %v, want 61.37 USD from 2026-01-01, open-ended", c)
	}
	if n := env.Count("resource", `SELECT count(*) FROM cost_rates`); n != 1 {
		t.Errorf("%d cost rate rows, want 1", n)
	}

	// Reading cost rates needs its own scope: resources:read is not enough.
	st, hdr, body = env.Do(http.MethodGet, "/v1/resources/"+id+"/cost-rates", nil, env.Bearer(resourcesRead))
	p := expectProblem(t, "cost rates with resources:read", http.StatusForbidden, "SCOPE_MISSING", st, hdr, body)
	if p.Metadata["required_scope"] != "costrates:read" {
		t.Errorf("required_scope %q, want costrates:read", p.Metadata["required_scope"])
	}
	if strings.Contains(string(body), "61.37") {
		t.Errorf("the refusal shows the cost rate: %s", body)
	}

	// A rate set by hand through REST, then every log is searched for the rates.
	set := setCostRate(t, env, id, "72.19", date(2026, 7, 1), nil)
	if len(set.GetCurrent()) != 2 {
		t.Errorf("after setting 72.19 from 2026-07-01: %d current periods, want 2", len(set.GetCurrent()))
	}
	if leaks := secretLeaks(env, "61.37", "67.91", "72.19"); len(leaks) > 0 {
		t.Errorf("cost rates appear in the logs (%d lines), first: %s", len(leaks), leaks[0])
	}
}

func listCostRates(t testing.TB, env *harness.Env, resourceID string) *resourcev1.ListCostRatesResponse {
	t.Helper()
	st, _, body := env.Do(http.MethodGet, "/v1/resources/"+resourceID+"/cost-rates?include_history=true", nil, env.Bearer(costRatesRead))
	if st != http.StatusOK {
		t.Fatalf("GET cost rates: %d: %s", st, body)
	}
	var resp resourcev1.ListCostRatesResponse
	decode(t, body, &resp)
	return &resp
}
