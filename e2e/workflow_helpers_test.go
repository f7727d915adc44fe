package e2e

import (
	"context"
	"fmt"
	"math/big"
	"net/http"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
)

// Scopes of the workflow tests.
var (
	projectsWrite  = []string{"projects:write"}
	billingWrite   = []string{"billing:write"}
	billingRead    = []string{"billing:read"}
	resourcesWrite = []string{"resources:write"}
	resourcesRead  = []string{"resources:read"}
	costRatesWrite = []string{"costrates:write"}
	costRatesRead  = []string{"costrates:read"}
	opsRead        = []string{"ops:read"}
	// Cost figures (assignment cost, project cost and margins) are redacted without costrates:read.
	resourcesWriteCost = []string{"resources:write", "costrates:read"}
	resourcesReadCost  = []string{"resources:read", "costrates:read"}
	projectsReadCost   = []string{"projects:read", "costrates:read"}
)

// Task counts of the built-in templates: one root task per service line plus the template's.
const (
	implementationTasks = 1 + 8
	trainingTasks       = 1 + 2
	consultingTasks     = 1 + 3
)

func date(y, m, d int) *commonv1.Date {
	return &commonv1.Date{Year: int32(y), Month: int32(m), Day: int32(d)}
}

func usd(amount string) *commonv1.Money { return &commonv1.Money{Amount: amount, CurrencyCode: "USD"} }

// restJSON encodes a contract message as the REST API speaks it (proto field names).
func restJSON(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		t.Fatalf("encode %s: %v", m.ProtoReflect().Descriptor().FullName(), err)
	}
	return b
}

// createLegalEntityUS01 creates legal entity US01 (USD, closed periods rejected) through the gateway
// and waits until the project service's replica has it: conversions are checked against it.
func createLegalEntityUS01(t testing.TB, env *harness.Env) *billingv1.LegalEntity {
	t.Helper()
	in := map[string]any{"code": "US01", "name": "Accrue Consulting US Inc.", "functional_currency": "USD",
		"country_code": "US", "tax_registration": "US-12-3456789", "closed_period_policy": "CLOSED_PERIOD_POLICY_REJECT"}
	st, _, body := env.Do(http.MethodPost, "/v1/legal-entities", in, env.Bearer(billingWrite))
	if st != http.StatusCreated {
		t.Fatalf("POST /v1/legal-entities: %d, want 201: %s", st, body)
	}
	var resp billingv1.CreateLegalEntityResponse
	decode(t, body, &resp)
	harness.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
		if n := env.Count("project", `SELECT count(*) FROM legal_entities WHERE code = 'US01' AND functional_currency = 'USD'`); n != 1 {
			return fmt.Errorf("the project service's legal entity replica has %d US01 rows", n)
		}
		return nil
	})
	return resp.GetLegalEntity()
}

// opportunity is a closed-won deal of 100,000.00 USD signed by US01: an IMPLEMENTATION line billed
// time and materials (80,000.00, consultants at 150.00 and architects at 210.00 from 2026-01-01)
// and a fixed-fee TRAINING line (20,000.00, recognised straight-line over September 2026). The
// account "<acct>" has a tax profile and one parent account, "<acct>-HQ".
func opportunity(oppID, acct string, version int64) *projectv1.Opportunity {
	return &projectv1.Opportunity{
		CrmSystem: "salesforce", OpportunityId: oppID, Version: version, Name: "Initech data platform",
		Account: &projectv1.Account{AccountId: acct, Name: "Initech US", LegalName: "Initech US LLC", CurrencyCode: "USD",
			BillingAddress: &projectv1.AccountAddress{Line1: "4120 Freidrich Lane", City: "Austin", Region: "TX", PostalCode: "78744", CountryCode: "US"},
			TaxProfile:     &projectv1.AccountTaxProfile{TaxId: "74-1234567", TaxRegion: "US-TX"}},
		ParentAccounts:  []*projectv1.Account{{AccountId: acct + "-HQ", Name: "Initech Holdings", CurrencyCode: "USD"}},
		LegalEntityCode: "US01", Amount: usd("100000.00"), StartDate: date(2026, 6, 1), EndDate: date(2026, 12, 31),
		ManagerId: "W-1002", ManagerName: "Grace Hopper",
		ServiceLines: []*projectv1.OpportunityServiceLine{
			{LineKey: "IMPL-1", ServiceLine: "IMPLEMENTATION", Description: "Data platform build", Amount: usd("80000.00"),
				BillingMethod: billingv1.BillingMethod_BILLING_METHOD_TIME_AND_MATERIALS, RevenueMethod: billingv1.RevenueMethod_REVENUE_METHOD_AS_DELIVERED,
				BudgetHours: "520", RateCard: []*billingv1.RateCardEntry{
					{Role: "CONSULTANT", BillRate: usd("150.00"), EffectiveFrom: date(2026, 1, 1)},
					{Role: "ARCHITECT", BillRate: usd("210.00"), EffectiveFrom: date(2026, 1, 1)},
				}},
			{LineKey: "TRN-1", ServiceLine: "TRAINING", Description: "Admin training", Amount: usd("20000.00"),
				BillingMethod: billingv1.BillingMethod_BILLING_METHOD_FIXED_FEE, RevenueMethod: billingv1.RevenueMethod_REVENUE_METHOD_STRAIGHT_LINE,
				ServiceStart: date(2026, 9, 1), ServiceEnd: date(2026, 9, 30)},
		},
	}
}

// tmOnlyOpportunity is a deal with one time-and-materials CONSULTING line of 24,000.00 USD:
// consultants at 150.00 from 2026-01-01; the project runs June and July 2026.
func tmOnlyOpportunity(oppID, acct string) *projectv1.Opportunity {
	o := opportunity(oppID, acct, 100)
	o.Name = "Globex advisory"
	o.Amount = usd("24000.00")
	o.StartDate, o.EndDate = date(2026, 6, 1), date(2026, 7, 31)
	o.ServiceLines = []*projectv1.OpportunityServiceLine{
		{LineKey: "CONS-1", ServiceLine: "CONSULTING", Description: "Advisory", Amount: usd("24000.00"),
			BillingMethod: billingv1.BillingMethod_BILLING_METHOD_TIME_AND_MATERIALS, RevenueMethod: billingv1.RevenueMethod_REVENUE_METHOD_AS_DELIVERED,
			BudgetHours: "160", RateCard: []*billingv1.RateCardEntry{{Role: "CONSULTANT", BillRate: usd("150.00"), EffectiveFrom: date(2026, 1, 1)}}},
	}
	return o
}

// convert posts an opportunity to POST /v1/opportunities:convert and decodes a 2xx answer; on
// other statuses the response is nil.
func convert(t testing.TB, env *harness.Env, opp *projectv1.Opportunity, headers map[string]string) (int, http.Header, []byte, *projectv1.ConvertOpportunityResponse) {
	t.Helper()
	if headers == nil {
		headers = env.Bearer(projectsWrite)
	}
	st, hdr, body := env.Do(http.MethodPost, "/v1/opportunities:convert", restJSON(t, opp), headers)
	if st/100 != 2 {
		return st, hdr, body, nil
	}
	var resp projectv1.ConvertOpportunityResponse
	decode(t, body, &resp)
	return st, hdr, body, &resp
}

// mustConvert converts and expects want (201 for a first conversion, 200 otherwise).
func mustConvert(t testing.TB, env *harness.Env, opp *projectv1.Opportunity, want int) *projectv1.ConvertOpportunityResponse {
	t.Helper()
	st, _, body, resp := convert(t, env, opp, nil)
	if st != want {
		t.Fatalf("convert %s v%d: %d, want %d: %s", opp.GetOpportunityId(), opp.GetVersion(), st, want, body)
	}
	return resp
}

// records counts what conversions write, across the three services' databases.
type records struct {
	Customers, Contracts, ContractVersions, Projects, Tasks, Conversions int
}

func countRecords(t testing.TB, env *harness.Env) records {
	t.Helper()
	return records{
		Customers:        env.Count("customer", `SELECT count(*) FROM customers`),
		Contracts:        env.Count("billing", `SELECT count(*) FROM contracts`),
		ContractVersions: env.Count("billing", `SELECT count(*) FROM contract_versions`),
		Projects:         env.Count("project", `SELECT count(*) FROM projects`),
		Tasks:            env.Count("project", `SELECT count(*) FROM tasks`),
		Conversions:      env.Count("project", `SELECT count(*) FROM opportunity_conversions`),
	}
}

// accountCustomers counts the customers holding a CRM account reference.
func accountCustomers(t testing.TB, env *harness.Env, crm, account string) int {
	t.Helper()
	return env.Count("customer", `SELECT count(*) FROM customers c JOIN customer_external_refs r ON r.customer_id = c.id
		WHERE r.system = $1 AND r.object_type = 'Account' AND r.external_id = $2`, crm, account)
}

// opportunityContracts counts the contracts of a CRM opportunity.
func opportunityContracts(t testing.TB, env *harness.Env, crm, oppID string) int {
	t.Helper()
	return env.Count("billing", `SELECT count(*) FROM contracts WHERE ext_system = $1 AND ext_object_type = 'Opportunity' AND ext_id = $2`, crm, oppID)
}

// opportunityProjects counts the projects of a CRM opportunity.
func opportunityProjects(t testing.TB, env *harness.Env, crm, oppID string) int {
	t.Helper()
	return env.Count("project", `SELECT count(*) FROM projects WHERE source_system = $1 AND source_object_type = 'Opportunity' AND source_id = $2`, crm, oppID)
}

// assertOneSetOfRecords checks that the only conversion of opp (the one created answered) left
// the account's and its parent's customers, one contract version and one project with the
// opportunity's tasks, and that downstream systems heard of the contract and the project once.
func assertOneSetOfRecords(t testing.TB, env *harness.Env, opp *projectv1.Opportunity, created *projectv1.ConvertOpportunityResponse) {
	t.Helper()
	assertConvertedOnce(t, env, opp, created, implementationTasks+trainingTasks)
	want := records{Customers: 2, Contracts: 1, ContractVersions: 1, Projects: 1, Tasks: implementationTasks + trainingTasks, Conversions: 1}
	if got := countRecords(t, env); got != want {
		t.Errorf("records %+v, want %+v (the account, its parent, one contract, one project)", got, want)
	}
	if n := env.Count("project", `SELECT count(*) FROM outbox WHERE event_type = 'project.created'`); n != 1 {
		t.Errorf("%d project.created events, want 1", n)
	}
	if n := env.Count("billing", `SELECT count(*) FROM outbox WHERE event_type = 'contract.changed'`); n != 1 {
		t.Errorf("%d contract.changed events, want 1 (version 1)", n)
	}
}

// assertConvertedOnce checks that an opportunity left exactly one customer for its account and
// one for its parent (linked to it), one contract, and one project with taskCount tasks, and
// that they are the records resp names.
func assertConvertedOnce(t testing.TB, env *harness.Env, opp *projectv1.Opportunity, resp *projectv1.ConvertOpportunityResponse, taskCount int) {
	t.Helper()
	crm, acct := opp.GetCrmSystem(), opp.GetAccount().GetAccountId()
	if n := accountCustomers(t, env, crm, acct); n != 1 {
		t.Errorf("%d customers hold account %s, want 1", n, acct)
	}
	for _, p := range opp.GetParentAccounts() {
		if n := accountCustomers(t, env, crm, p.GetAccountId()); n != 1 {
			t.Errorf("%d customers hold parent account %s, want 1", n, p.GetAccountId())
		}
	}
	var custID, parentRef string
	if err := env.DB("customer").QueryRow(context.Background(), `SELECT c.id::text, COALESCE(pr.external_id, '')
		FROM customers c JOIN customer_external_refs r ON r.customer_id = c.id
		LEFT JOIN customer_external_refs pr ON pr.customer_id = c.parent_id
		WHERE r.system = $1 AND r.object_type = 'Account' AND r.external_id = $2`, crm, acct).Scan(&custID, &parentRef); err != nil {
		t.Fatalf("customer of account %s: %v", acct, err)
	}
	if custID != resp.GetCustomer().GetId() {
		t.Errorf("the account's customer is %s, the response names %s", custID, resp.GetCustomer().GetId())
	}
	if len(opp.GetParentAccounts()) > 0 && parentRef != opp.GetParentAccounts()[0].GetAccountId() {
		t.Errorf("the account's customer has parent %q, want the customer of %s", parentRef, opp.GetParentAccounts()[0].GetAccountId())
	}
	if n := opportunityContracts(t, env, crm, opp.GetOpportunityId()); n != 1 {
		t.Errorf("%d contracts for opportunity %s, want 1", n, opp.GetOpportunityId())
	}
	if n := env.Count("billing", `SELECT count(*) FROM contracts WHERE id = $1 AND customer_id = $2`, resp.GetContract().GetId(), custID); n != 1 {
		t.Errorf("contract %s of customer %s not found in billing", resp.GetContract().GetId(), custID)
	}
	if n := opportunityProjects(t, env, crm, opp.GetOpportunityId()); n != 1 {
		t.Errorf("%d projects for opportunity %s, want 1", n, opp.GetOpportunityId())
	}
	if n := env.Count("project", `SELECT count(*) FROM tasks WHERE project_id = $1`, resp.GetProject().GetId()); n != taskCount || int(resp.GetTaskCount()) != taskCount {
		t.Errorf("project %s has %d tasks (response task_count %d), want %d", resp.GetProject().GetId(), n, resp.GetTaskCount(), taskCount)
	}
}

func getProject(t testing.TB, env *harness.Env, id string) *projectv1.Project {
	t.Helper()
	st, _, body := env.Do(http.MethodGet, "/v1/projects/"+id, nil, env.Bearer(projectsRead))
	if st != http.StatusOK {
		t.Fatalf("GET /v1/projects/%s: %d: %s", id, st, body)
	}
	var resp projectv1.GetProjectResponse
	decode(t, body, &resp)
	return resp.GetProject()
}

func getFinancials(t testing.TB, env *harness.Env, id string) *projectv1.ProjectFinancials {
	t.Helper()
	st, _, body := env.Do(http.MethodGet, "/v1/projects/"+id+"/financials", nil, env.Bearer(projectsReadCost))
	if st != http.StatusOK {
		t.Fatalf("GET /v1/projects/%s/financials: %d: %s", id, st, body)
	}
	var resp projectv1.GetProjectFinancialsResponse
	decode(t, body, &resp)
	return resp.GetFinancials()
}

// sameDecimal reports whether two decimal strings denote the same number ("80" and "80.00" do).
func sameDecimal(a, b string) bool {
	x, ok1 := new(big.Rat).SetString(a)
	y, ok2 := new(big.Rat).SetString(b)
	return ok1 && ok2 && x.Cmp(y) == 0
}

// moneyIs reports whether m is exactly amount (written with the currency's two digits) in USD.
func moneyIs(m *commonv1.Money, amount string) bool {
	return m != nil && m.GetCurrencyCode() == "USD" && m.GetAmount() == amount
}
