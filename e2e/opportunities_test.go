package e2e

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
)

// Workflow 1 (deal won → customer, contract, project) through POST /v1/opportunities:convert.

// A CRM that delivers the same closed-won opportunity five times at once gets one customer (plus
// one for the parent account), one contract and one project with its tasks: one delivery
// creates them, the others are told nothing changed, and all five name the same records.
func TestConcurrentDuplicateConversionsConvergeOnOneSetOfRecords(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	createLegalEntityUS01(t, env)
	opp := opportunity("006-dup-"+env.ID(), "001-dup-"+env.ID(), 100)
	body := restJSON(t, opp)
	headers := env.Bearer(projectsWrite)

	answers := concurrently(5, func(int) (*http.Request, error) {
		return newRequest(env, http.MethodPost, "/v1/opportunities:convert", body, headers)
	})
	var created *projectv1.ConvertOpportunityResponse
	outcomes := map[projectv1.ConversionOutcome]int{}
	var all []*projectv1.ConvertOpportunityResponse
	for i, a := range answers {
		if a.err != nil {
			t.Fatalf("delivery %d: %v", i, a.err)
		}
		if a.status/100 != 2 {
			t.Fatalf("delivery %d: %d, want 2xx: %s", i, a.status, a.body)
		}
		var resp projectv1.ConvertOpportunityResponse
		decode(t, a.body, &resp)
		outcomes[resp.GetOutcome()]++
		wantStatus := http.StatusOK
		if resp.GetOutcome() == projectv1.ConversionOutcome_CONVERSION_OUTCOME_CREATED {
			created, wantStatus = &resp, http.StatusCreated
		}
		if a.status != wantStatus {
			t.Errorf("delivery %d: HTTP %d for outcome %s, want %d", i, a.status, resp.GetOutcome(), wantStatus)
		}
		all = append(all, &resp)
	}
	if outcomes[projectv1.ConversionOutcome_CONVERSION_OUTCOME_CREATED] != 1 || outcomes[projectv1.ConversionOutcome_CONVERSION_OUTCOME_UNCHANGED] != 4 {
		t.Fatalf("outcomes %v, want one CREATED and four UNCHANGED", outcomes)
	}
	mustUUID(t, "customer id", created.GetCustomer().GetId())
	mustUUID(t, "contract id", created.GetContract().GetId())
	mustUUID(t, "project id", created.GetProject().GetId())
	if created.GetCustomer().GetOutcome() != projectv1.ConversionOutcome_CONVERSION_OUTCOME_CREATED ||
		created.GetContract().GetOutcome() != projectv1.ConversionOutcome_CONVERSION_OUTCOME_CREATED ||
		created.GetProject().GetOutcome() != projectv1.ConversionOutcome_CONVERSION_OUTCOME_CREATED {
		t.Errorf("the creating delivery reports customer %s, contract %s, project %s; want all CREATED",
			created.GetCustomer().GetOutcome(), created.GetContract().GetOutcome(), created.GetProject().GetOutcome())
	}
	if created.GetContract().GetVersion() != 1 {
		t.Errorf("contract version %d, want 1", created.GetContract().GetVersion())
	}
	for i, r := range all {
		if r.GetCustomer().GetId() != created.GetCustomer().GetId() || r.GetContract().GetId() != created.GetContract().GetId() ||
			r.GetProject().GetId() != created.GetProject().GetId() {
			t.Errorf("delivery %d names customer %s, contract %s, project %s; the creating one %s, %s, %s", i,
				r.GetCustomer().GetId(), r.GetContract().GetId(), r.GetProject().GetId(),
				created.GetCustomer().GetId(), created.GetContract().GetId(), created.GetProject().GetId())
		}
		if r.GetProjectStatus() != projectv1.ProjectStatus_PROJECT_STATUS_ACTIVE || r.GetTaskCount() != implementationTasks+trainingTasks ||
			r.GetConvertedVersion() != 100 {
			t.Errorf("delivery %d: project %s with %d tasks from version %d; want ACTIVE with %d tasks from version 100",
				i, r.GetProjectStatus(), r.GetTaskCount(), r.GetConvertedVersion(), implementationTasks+trainingTasks)
		}
	}

	assertOneSetOfRecords(t, env, opp, created)

	p := getProject(t, env, created.GetProject().GetId())
	if p.GetStatus() != projectv1.ProjectStatus_PROJECT_STATUS_ACTIVE || p.GetContractId() != created.GetContract().GetId() ||
		p.GetCustomerId() != created.GetCustomer().GetId() || p.GetCurrencyCode() != "USD" || len(p.GetTasks()) != implementationTasks+trainingTasks {
		t.Errorf("project %v, want ACTIVE on contract %s for customer %s with %d tasks", p, created.GetContract().GetId(),
			created.GetCustomer().GetId(), implementationTasks+trainingTasks)
	}
	perLine := map[string]int{}
	for _, task := range p.GetTasks() {
		perLine[task.GetContractLineKey()]++
	}
	if perLine["IMPL-1"] != implementationTasks || perLine["TRN-1"] != trainingTasks {
		t.Errorf("tasks per contract line %v, want IMPL-1: %d, TRN-1: %d", perLine, implementationTasks, trainingTasks)
	}
	if !moneyIs(p.GetBudget().GetRevenue(), "100000.00") || !sameDecimal(p.GetBudget().GetHours(), "520") {
		t.Errorf("budget %v, want revenue 100000.00 USD and 520 hours", p.GetBudget())
	}
}

// Every kind of bad deal is refused with its own stable reason, names the offending field, and
// writes nothing: no customer, contract, project or task. Each refusal is in the project
// service's exception queue (kind opportunity.conversion) with the caller's correlation id.
func TestConversionRejectionsHaveStableReasonsAndWriteNothing(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	createLegalEntityUS01(t, env)
	// One good conversion first: the counts below are not zero by accident.
	good := opportunity("006-good-"+env.ID(), "001-good-"+env.ID(), 100)
	mustConvert(t, env, good, http.StatusCreated)
	before := countRecords(t, env)
	if before.Customers != 2 || before.Contracts != 1 || before.Projects != 1 {
		t.Fatalf("after the good conversion: %+v", before)
	}

	cases := []struct {
		name   string
		change func(o *projectv1.Opportunity)
		status int
		reason string
		field  string
	}{
		{"lines-mismatch", func(o *projectv1.Opportunity) { o.Amount = usd("100000.01") },
			http.StatusBadRequest, "CONTRACT_LINES_MISMATCH", "opportunity.service_lines"},
		{"unknown-service-line", func(o *projectv1.Opportunity) { o.ServiceLines[1].ServiceLine = "ROCKET_SCIENCE" },
			http.StatusBadRequest, "UNKNOWN_SERVICE_LINE", "opportunity.service_lines[1].service_line"},
		{"unknown-legal-entity", func(o *projectv1.Opportunity) { o.LegalEntityCode = "ZZ99" },
			http.StatusBadRequest, "UNKNOWN_LEGAL_ENTITY", ""},
		{"no-tax-profile", func(o *projectv1.Opportunity) { o.Account.TaxProfile = nil },
			http.StatusBadRequest, "TAX_PROFILE_MISSING", "opportunity.account.tax_profile"},
		{"currency-mismatch", func(o *projectv1.Opportunity) {
			// A USD deal with a service line in EUR. (A deal wholly in EUR under a USD entity is a
			// foreign-currency contract and converts: TestForeignCurrencyDealThroughTheCRMConversion.)
			o.ServiceLines[1].Amount.CurrencyCode = "EUR"
		}, http.StatusBadRequest, "CURRENCY_MISMATCH", "opportunity.service_lines[1].amount.currency_code"},
		{"rate-card-overlap", func(o *projectv1.Opportunity) {
			// Consultants at 150.00 for 2026 and at 165.00 from July 2026: two rates on one day.
			o.ServiceLines[0].RateCard[0].EffectiveTo = date(2026, 12, 31)
			o.ServiceLines[0].RateCard = append(o.ServiceLines[0].RateCard,
				&billingv1.RateCardEntry{Role: "CONSULTANT", BillRate: usd("165.00"), EffectiveFrom: date(2026, 7, 1)})
		}, http.StatusBadRequest, "RATE_CARD_OVERLAP", "opportunity.service_lines[0].rate_card[2]"},
		{"hierarchy-cycle", func(o *projectv1.Opportunity) {
			o.ParentAccounts = []*projectv1.Account{{AccountId: o.GetAccount().GetAccountId(), Name: "Initech again", CurrencyCode: "USD"}}
		}, http.StatusBadRequest, "HIERARCHY_CYCLE", "opportunity.parent_accounts[0].account_id"},
	}
	correlation := map[string]string{} // opportunity id → correlation id sent
	for _, c := range cases {
		opp := opportunity("006-"+c.name+"-"+env.ID(), "001-"+c.name+"-"+env.ID(), 100)
		c.change(opp)
		cid := "e2e-" + c.name + "-" + uuid.NewString()
		correlation[opp.GetOpportunityId()] = cid
		st, hdr, body, _ := convert(t, env, opp, env.Bearer(projectsWrite, "X-Correlation-ID", cid))
		p := expectProblem(t, c.name, c.status, c.reason, st, hdr, body)
		if c.field != "" && !slices.Contains(p.Fields(), c.field) {
			t.Errorf("%s: violations %v do not name %s", c.name, p.Fields(), c.field)
		}
		if p.CorrelationID != cid {
			t.Errorf("%s: problem correlation_id %q, want the one sent (%s)", c.name, p.CorrelationID, cid)
		}
		if after := countRecords(t, env); after != before {
			t.Errorf("%s wrote records: %+v, before %+v", c.name, after, before)
		}
		if n := accountCustomers(t, env, "salesforce", opp.GetAccount().GetAccountId()); n != 0 {
			t.Errorf("%s: %d customers for the refused deal's account", c.name, n)
		}
	}

	list := listExceptions(t, env, "project", "kind=opportunity.conversion")
	for _, c := range cases {
		oppID := "006-" + c.name + "-" + env.ID()
		e := findException(list, "opportunity.conversion", "salesforce:"+oppID)
		if e == nil {
			t.Errorf("%s: no opportunity.conversion exception about salesforce:%s", c.name, oppID)
			continue
		}
		if e.GetReason() != c.reason || e.GetStatus() != opsv1.ExceptionStatus_EXCEPTION_STATUS_OPEN ||
			e.GetCorrelationId() != correlation[oppID] || e.GetEntityType() != "opportunity" {
			t.Errorf("%s: exception %v, want OPEN %s with correlation id %s", c.name, e, c.reason, correlation[oppID])
		}
	}
	if len(list) != len(cases) {
		t.Errorf("%d opportunity.conversion exceptions, want %d (one per refused deal, none for the good one)", len(list), len(cases))
	}
}

// A newer version of a converted opportunity amends the records (contract version 2 with both
// versions readable, the new line's tasks added to the project); an older version arriving
// late changes nothing and says so.
func TestNewerOpportunityVersionAmendsAndOlderIsIgnored(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	createLegalEntityUS01(t, env)
	oppID, acct := "006-amend-"+env.ID(), "001-amend-"+env.ID()
	v100 := opportunity(oppID, acct, 100)
	first := mustConvert(t, env, v100, http.StatusCreated)

	// Version 200: consultants now at 160.00, and a CONSULTING line added (the deal grows).
	v200 := opportunity(oppID, acct, 200)
	v200.Amount = usd("112000.00")
	v200.ServiceLines[0].RateCard[0].BillRate = usd("160.00")
	v200.ServiceLines = append(v200.ServiceLines, &projectv1.OpportunityServiceLine{LineKey: "CONS-2", ServiceLine: "CONSULTING",
		Description: "Data strategy advisory", Amount: usd("12000.00"),
		BillingMethod: billingv1.BillingMethod_BILLING_METHOD_TIME_AND_MATERIALS, RevenueMethod: billingv1.RevenueMethod_REVENUE_METHOD_AS_DELIVERED,
		RateCard: []*billingv1.RateCardEntry{{Role: "CONSULTANT", BillRate: usd("175.00"), EffectiveFrom: date(2026, 1, 1)}}})
	amended := mustConvert(t, env, v200, http.StatusOK)
	const tasksAfter = implementationTasks + trainingTasks + consultingTasks
	if amended.GetOutcome() != projectv1.ConversionOutcome_CONVERSION_OUTCOME_UPDATED ||
		amended.GetContract().GetOutcome() != projectv1.ConversionOutcome_CONVERSION_OUTCOME_UPDATED || amended.GetContract().GetVersion() != 2 ||
		amended.GetProject().GetOutcome() != projectv1.ConversionOutcome_CONVERSION_OUTCOME_UPDATED ||
		amended.GetConvertedVersion() != 200 || amended.GetTaskCount() != tasksAfter {
		t.Errorf("v200: %v; want UPDATED, contract UPDATED to version 2, project UPDATED with %d tasks, converted version 200", amended, tasksAfter)
	}
	if amended.GetCustomer().GetId() != first.GetCustomer().GetId() || amended.GetContract().GetId() != first.GetContract().GetId() ||
		amended.GetProject().GetId() != first.GetProject().GetId() {
		t.Errorf("v200 names other records than v100: %v vs %v", amended, first)
	}
	contractID, projectID := first.GetContract().GetId(), first.GetProject().GetId()

	st, _, body := env.Do(http.MethodGet, "/v1/contracts/"+contractID, nil, env.Bearer(billingRead))
	if st != http.StatusOK {
		t.Fatalf("GET contract: %d: %s", st, body)
	}
	var got billingv1.GetContractResponse
	decode(t, body, &got)
	c := got.GetContract()
	if c.GetVersion() != 2 || c.GetSourceVersion() != 200 || len(c.GetLines()) != 3 || !moneyIs(c.GetTotalAmount(), "112000.00") {
		t.Errorf("current contract: version %d from source %d, %d lines, total %v; want version 2 from 200, 3 lines, 112000.00 USD",
			c.GetVersion(), c.GetSourceVersion(), len(c.GetLines()), c.GetTotalAmount())
	}
	if r := consultantRate(c, "IMPL-1"); r != "160.00" {
		t.Errorf("current contract: IMPL-1 consultant rate %q, want 160.00", r)
	}
	st, _, body = env.Do(http.MethodGet, "/v1/contracts/"+contractID+"/versions", nil, env.Bearer(billingRead))
	if st != http.StatusOK {
		t.Fatalf("GET contract versions: %d: %s", st, body)
	}
	var versions billingv1.ListContractVersionsResponse
	decode(t, body, &versions)
	if vs := versions.GetVersions(); len(vs) != 2 {
		t.Errorf("%d contract versions, want 2", len(vs))
	} else {
		if vs[0].GetVersion() != 1 || vs[0].GetSourceVersion() != 100 || len(vs[0].GetLines()) != 2 || consultantRate(vs[0], "IMPL-1") != "150.00" {
			t.Errorf("version 1: %d from source %d with %d lines, consultant rate %s; want 1 from 100 with 2 lines at 150.00",
				vs[0].GetVersion(), vs[0].GetSourceVersion(), len(vs[0].GetLines()), consultantRate(vs[0], "IMPL-1"))
		}
		if vs[1].GetVersion() != 2 || vs[1].GetSourceVersion() != 200 || len(vs[1].GetLines()) != 3 {
			t.Errorf("version 2: %d from source %d with %d lines; want 2 from 200 with 3 lines", vs[1].GetVersion(), vs[1].GetSourceVersion(), len(vs[1].GetLines()))
		}
	}

	p := getProject(t, env, projectID)
	newTasks := 0
	for _, task := range p.GetTasks() {
		if task.GetContractLineKey() == "CONS-2" {
			newTasks++
		}
	}
	if len(p.GetTasks()) != tasksAfter || newTasks != consultingTasks || !moneyIs(p.GetBudget().GetRevenue(), "112000.00") {
		t.Errorf("project after v200: %d tasks (%d for CONS-2), budget revenue %v; want %d tasks, %d for CONS-2, 112000.00 USD",
			len(p.GetTasks()), newTasks, p.GetBudget().GetRevenue(), tasksAfter, consultingTasks)
	}
	want := records{Customers: 2, Contracts: 1, ContractVersions: 2, Projects: 1, Tasks: tasksAfter, Conversions: 1}
	if got := countRecords(t, env); got != want {
		t.Errorf("records after v200 %+v, want %+v", got, want)
	}

	// Version 150 arrives late, with content of its own: ignored, nothing changes.
	v150 := opportunity(oppID, acct, 150)
	v150.Name = "Initech data platform (stale)"
	stale := mustConvert(t, env, v150, http.StatusOK)
	if stale.GetOutcome() != projectv1.ConversionOutcome_CONVERSION_OUTCOME_IGNORED_STALE || stale.GetConvertedVersion() != 200 ||
		stale.GetProject().GetId() != projectID || stale.GetContract().GetId() != contractID {
		t.Errorf("v150: %v; want IGNORED_STALE on the same records, still reflecting version 200", stale)
	}
	// The answer reports where the records stand, not version 0.
	if stale.GetCustomer().GetVersion() < 1 || stale.GetContract().GetVersion() < 1 {
		t.Errorf("v150: customer version %d, contract version %d; want their real versions (≥ 1)",
			stale.GetCustomer().GetVersion(), stale.GetContract().GetVersion())
	}
	if got := countRecords(t, env); got != want {
		t.Errorf("records after v150 %+v, want %+v", got, want)
	}
	after := getProject(t, env, projectID)
	if after.GetVersion() != p.GetVersion() || after.GetName() != p.GetName() || len(after.GetTasks()) != tasksAfter {
		t.Errorf("project after v150: version %d %q with %d tasks; want unchanged (version %d %q, %d tasks)",
			after.GetVersion(), after.GetName(), len(after.GetTasks()), p.GetVersion(), p.GetName(), tasksAfter)
	}
	st, _, body = env.Do(http.MethodGet, "/v1/contracts/"+contractID, nil, env.Bearer(billingRead))
	decode(t, body, &got)
	if st != http.StatusOK || got.GetContract().GetVersion() != 2 || got.GetContract().GetName() != v200.GetName() {
		t.Errorf("contract after v150: %d version %d %q, want version 2 %q", st, got.GetContract().GetVersion(), got.GetContract().GetName(), v200.GetName())
	}
}

// consultantRate returns the CONSULTANT bill rate of a contract line ("" when none).
func consultantRate(c *billingv1.Contract, lineKey string) string {
	for _, l := range c.GetLines() {
		if l.GetLineKey() != lineKey {
			continue
		}
		for _, r := range l.GetRateCard() {
			if r.GetRole() == "CONSULTANT" {
				return r.GetBillRate().GetAmount()
			}
		}
	}
	return ""
}

// Two instances of the project service, as in any deployment with replicas, receiving the same
// closed-won opportunity five times at once (deliveries alternate between them) still converge
// on one customer (plus the parent account's), one contract and one project. The instances do
// not share the in-process lock that serialises conversions of an opportunity, so the database
// decides: the first write of a conversion loses on the conversion's primary key as a whole, and
// the loser answers from the winner's records.
func TestConversionsOnTwoProjectInstancesConverge(t *testing.T) {
	t.Parallel()
	env := harness.Start(t, harness.WithSecondInstance("project"))
	createLegalEntityUS01(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+env.Token("projects:write"))
	var clients []projectv1.ProjectServiceClient
	for _, instance := range []string{"project", "project-2"} {
		conn, err := grpc.NewClient(env.GRPCAddr(instance), env.GRPCTransport())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// Connected before the deliveries start, so that neither instance gets them late.
		if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
			t.Fatalf("%s health: %v", instance, err)
		}
		clients = append(clients, projectv1.NewProjectServiceClient(conn))
	}

	opp := opportunity("006-two-"+env.ID(), "001-two-"+env.ID(), 100)
	const deliveries = 5
	answers := make([]*projectv1.ConvertOpportunityResponse, deliveries)
	errs := make([]error, deliveries)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range deliveries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			answers[i], errs[i] = clients[i%2].ConvertOpportunity(ctx, &projectv1.ConvertOpportunityRequest{Opportunity: opp})
		}()
	}
	close(start)
	wg.Wait()

	var created *projectv1.ConvertOpportunityResponse
	outcomes := map[projectv1.ConversionOutcome]int{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("delivery %d (instance %d): %v", i, i%2+1, err)
		}
		outcomes[answers[i].GetOutcome()]++
		if answers[i].GetOutcome() == projectv1.ConversionOutcome_CONVERSION_OUTCOME_CREATED {
			created = answers[i]
		}
	}
	if outcomes[projectv1.ConversionOutcome_CONVERSION_OUTCOME_CREATED] != 1 || outcomes[projectv1.ConversionOutcome_CONVERSION_OUTCOME_UNCHANGED] != deliveries-1 {
		t.Fatalf("outcomes %v, want one CREATED and %d UNCHANGED", outcomes, deliveries-1)
	}
	for i, r := range answers {
		if r.GetCustomer().GetId() != created.GetCustomer().GetId() || r.GetContract().GetId() != created.GetContract().GetId() ||
			r.GetProject().GetId() != created.GetProject().GetId() || r.GetProjectStatus() != projectv1.ProjectStatus_PROJECT_STATUS_ACTIVE {
			t.Errorf("delivery %d names customer %s, contract %s, project %s (%s); the creating one %s, %s, %s (ACTIVE)", i,
				r.GetCustomer().GetId(), r.GetContract().GetId(), r.GetProject().GetId(), r.GetProjectStatus(),
				created.GetCustomer().GetId(), created.GetContract().GetId(), created.GetProject().GetId())
		}
	}
	assertOneSetOfRecords(t, env, opp, created)
}
