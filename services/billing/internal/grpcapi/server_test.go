package grpcapi_test

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/servicetest"
	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/grpcapi"
	"github.com/accrue/accrue/services/billing/internal/store"
)

var rw = []string{"billing:read", "billing:write"}

// contractChanged counts the contract.changed events in the outbox (env.Count).
const contractChanged = "outbox WHERE event_type = '" + billingv1.EventTypeContractChanged + "'"

type clients struct {
	le billingv1.LegalEntityServiceClient
	c  billingv1.ContractServiceClient
}

func start(t *testing.T) (*servicetest.Env, clients) {
	t.Parallel()
	env := servicetest.New(t, "billing", store.Migrations(), func(e *servicetest.Env) {
		s := grpcapi.New(app.New(store.New(e.DB.Pool, e.Outbox, e.Queue), e.Queue, e.Log))
		billingv1.RegisterLegalEntityServiceServer(e.Server, s)
		billingv1.RegisterContractServiceServer(e.Server, s)
	})
	return env, clients{billingv1.NewLegalEntityServiceClient(env.Conn), billingv1.NewContractServiceClient(env.Conn)}
}

func wantErr(t *testing.T, err error, code codes.Code, reason string) {
	t.Helper()
	if status.Code(err) != code || grpcx.ReasonOf(err) != reason {
		t.Fatalf("got %v (reason %q), want %s / %s", err, grpcx.ReasonOf(err), code, reason)
	}
}

func usd(s string) *commonv1.Money     { return &commonv1.Money{Amount: s, CurrencyCode: "USD"} }
func day(y, m, d int32) *commonv1.Date { return &commonv1.Date{Year: y, Month: m, Day: d} }

func legalEntity(t *testing.T, env *servicetest.Env, cl clients) string {
	resp, err := cl.le.CreateLegalEntity(env.Ctx(rw), &billingv1.CreateLegalEntityRequest{LegalEntity: &billingv1.LegalEntityInput{
		Code: "US01", Name: "Accrue US", FunctionalCurrency: "USD", CountryCode: "US",
		ClosedPeriodPolicy: billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT}})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetLegalEntity().GetLegalEntityId()
}

func contract(le string, rate string) *billingv1.ContractInput {
	return &billingv1.ContractInput{CustomerId: "01a2210c-0000-7000-8000-000000000001", LegalEntityId: le, Name: "ERP rollout",
		CurrencyCode: "USD", StartDate: day(2026, 12, 1), EndDate: day(2027, 5, 31),
		Lines: []*billingv1.ContractLine{{LineKey: "L1", ServiceLine: "IMPLEMENTATION", Amount: usd("120000.00"),
			BillingMethod: billingv1.BillingMethod_BILLING_METHOD_TIME_AND_MATERIALS, RevenueMethod: billingv1.RevenueMethod_REVENUE_METHOD_AS_DELIVERED,
			RateCard: []*billingv1.RateCardEntry{{Role: "CONSULTANT", BillRate: usd(rate), EffectiveFrom: day(2026, 1, 1)}}},
			{LineKey: "L2", ServiceLine: "TRAINING", Amount: usd("30000.00"),
				BillingMethod: billingv1.BillingMethod_BILLING_METHOD_FIXED_FEE, RevenueMethod: billingv1.RevenueMethod_REVENUE_METHOD_STRAIGHT_LINE,
				ServiceStart: day(2027, 3, 1), ServiceEnd: day(2027, 5, 31)}}}
}

var opp = &commonv1.ExternalReference{System: "salesforce", ObjectType: "Opportunity", ExternalId: "006A"}

func TestLegalEntityCreateIsIdempotentOnItsCode(t *testing.T) {
	env, cl := start(t)
	id := legalEntity(t, env, cl)
	if again := legalEntity(t, env, cl); again != id {
		t.Fatalf("same code and content must return the same entity: %s vs %s", again, id)
	}
	_, err := cl.le.CreateLegalEntity(env.Ctx(rw), &billingv1.CreateLegalEntityRequest{LegalEntity: &billingv1.LegalEntityInput{
		Code: "US01", Name: "Other", FunctionalCurrency: "USD", CountryCode: "US",
		ClosedPeriodPolicy: billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_ROLL_FORWARD}})
	wantErr(t, err, codes.AlreadyExists, "LEGAL_ENTITY_CODE_EXISTS")
	if n := env.Count("legal_entities"); n != 1 {
		t.Fatalf("legal entities = %d", n)
	}
}

func TestContractVersionsFollowTheSource(t *testing.T) {
	env, cl := start(t)
	le := legalEntity(t, env, cl)
	ctx := env.Ctx(rw)
	up := func(version int64, rate string) *billingv1.UpsertContractResponse {
		t.Helper()
		resp, err := cl.c.UpsertContract(ctx, &billingv1.UpsertContractRequest{ExternalReference: opp, SourceVersion: version, Contract: contract(le, rate)})
		if err != nil {
			t.Fatalf("upsert v%d: %v", version, err)
		}
		return resp
	}
	first := up(10, "150.00")
	if first.GetOutcome() != billingv1.ContractOutcome_CONTRACT_OUTCOME_CREATED || first.GetContract().GetVersion() != 1 ||
		first.GetContract().GetTotalAmount().GetAmount() != "150000.00" {
		t.Fatalf("create: %v", first)
	}
	if r := up(10, "150"); r.GetOutcome() != billingv1.ContractOutcome_CONTRACT_OUTCOME_UNCHANGED {
		t.Fatalf("same content: %v", r.GetOutcome())
	}
	if r := up(20, "160.00"); r.GetOutcome() != billingv1.ContractOutcome_CONTRACT_OUTCOME_AMENDED || r.GetContract().GetVersion() != 2 {
		t.Fatalf("newer source version: %v", r)
	}
	if r := up(15, "170.00"); r.GetOutcome() != billingv1.ContractOutcome_CONTRACT_OUTCOME_IGNORED_STALE || r.GetContract().GetVersion() != 2 ||
		r.GetContract().GetLines()[0].GetRateCard()[0].GetBillRate().GetAmount() != "160.00" {
		t.Fatalf("older source version must change nothing: %v", r)
	}
	id := first.GetContract().GetContractId()
	_, err := cl.c.AmendContract(ctx, &billingv1.AmendContractRequest{ContractId: id, ExpectedVersion: 1, Reason: "rate fix", Contract: contract(le, "155.00")})
	wantErr(t, err, codes.Aborted, "VERSION_CONFLICT")
	amended, err := cl.c.AmendContract(ctx, &billingv1.AmendContractRequest{ContractId: id, ExpectedVersion: 2, Reason: "rate fix", Contract: contract(le, "155.00")})
	if err != nil || amended.GetContract().GetVersion() != 3 || amended.GetContract().GetChangeReason() != "rate fix" {
		t.Fatalf("amend: %v %v", amended, err)
	}
	versions, err := cl.c.ListContractVersions(ctx, &billingv1.ListContractVersionsRequest{ContractId: id})
	if err != nil || len(versions.GetVersions()) != 3 {
		t.Fatalf("versions: %v %v", versions, err)
	}
	for i, want := range []string{"150.00", "160.00", "155.00"} {
		if got := versions.GetVersions()[i].GetLines()[0].GetRateCard()[0].GetBillRate().GetAmount(); got != want {
			t.Errorf("version %d rate = %s, want %s (history must never be overwritten)", i+1, got, want)
		}
	}
	var current bool
	if err := env.DB.Pool.QueryRow(ctx, `SELECT bill_rate = 155.00 FROM rate_card_entries WHERE contract_id = $1`, id).Scan(&current); err != nil || !current {
		t.Fatalf("the current rate card row must hold 155.00 (%v)", err)
	}
	if n := env.Count("contracts"); n != 1 {
		t.Fatalf("contracts = %d", n)
	}
	if n := env.Count(contractChanged); n != 3 {
		t.Fatalf("contract.changed events = %d, want 3", n)
	}
}

func TestInvalidContractsWriteNothing(t *testing.T) {
	env, cl := start(t)
	le := legalEntity(t, env, cl)
	ctx := env.Ctx(rw)
	overlap := contract(le, "150.00")
	overlap.Lines[0].RateCard = append(overlap.Lines[0].RateCard, &billingv1.RateCardEntry{Role: "CONSULTANT", BillRate: usd("160.00"), EffectiveFrom: day(2026, 6, 1)})
	_, err := cl.c.UpsertContract(ctx, &billingv1.UpsertContractRequest{ExternalReference: opp, SourceVersion: 1, Contract: overlap})
	wantErr(t, err, codes.InvalidArgument, "RATE_CARD_OVERLAP")
	// An EUR contract is allowed under the USD legal entity, but its rate card and line amounts
	// must then be in EUR: these are USD.
	eur := contract(le, "150.00")
	eur.CurrencyCode = "EUR"
	_, err = cl.c.UpsertContract(ctx, &billingv1.UpsertContractRequest{ExternalReference: opp, SourceVersion: 1, Contract: eur})
	wantErr(t, err, codes.FailedPrecondition, "CURRENCY_MISMATCH")
	unknown := contract("01a2210c-0000-7000-8000-00000000000f", "150.00")
	_, err = cl.c.UpsertContract(ctx, &billingv1.UpsertContractRequest{ExternalReference: opp, SourceVersion: 1, Contract: unknown})
	wantErr(t, err, codes.FailedPrecondition, "UNKNOWN_LEGAL_ENTITY")
	cents := contract(le, "150.00")
	cents.Lines[1].Amount = usd("30000.005")
	_, err = cl.c.UpsertContract(ctx, &billingv1.UpsertContractRequest{ExternalReference: opp, SourceVersion: 1, Contract: cents})
	wantErr(t, err, codes.InvalidArgument, "INVALID_AMOUNT_PRECISION")
	dry, err := cl.c.UpsertContract(ctx, &billingv1.UpsertContractRequest{ExternalReference: opp, SourceVersion: 1, Contract: contract(le, "150.00"), ValidateOnly: true})
	if err != nil || dry.GetContract() != nil {
		t.Fatalf("validate_only: %v %v", dry, err)
	}
	if n := env.Count("contracts") + env.Count("contract_versions") + env.Count(contractChanged); n != 0 {
		t.Fatalf("rejected or dry-run contracts wrote %d rows", n)
	}
}

// Concurrent upserts of one new contract race to create it in one round trip each; the losers
// fail on the external reference as a whole and report the winner's contract, unchanged.
func TestConcurrentUpsertsOfOneNewContractConverge(t *testing.T) {
	env, cl := start(t)
	le := legalEntity(t, env, cl)
	ctx := env.Ctx(rw)
	answers := servicetest.Concurrently(t, 8, func(int) (*billingv1.UpsertContractResponse, error) {
		return cl.c.UpsertContract(ctx, &billingv1.UpsertContractRequest{ExternalReference: opp, SourceVersion: 1, Contract: contract(le, "150.00")})
	})
	if t.Failed() {
		return
	}
	outcomes := map[billingv1.ContractOutcome]int{}
	for i, a := range answers {
		outcomes[a.GetOutcome()]++
		if a.GetContract().GetContractId() != answers[0].GetContract().GetContractId() || a.GetContract().GetVersion() != 1 {
			t.Fatalf("upsert %d: contract %s version %d; upsert 0: %s", i, a.GetContract().GetContractId(), a.GetContract().GetVersion(),
				answers[0].GetContract().GetContractId())
		}
	}
	if outcomes[billingv1.ContractOutcome_CONTRACT_OUTCOME_CREATED] != 1 || outcomes[billingv1.ContractOutcome_CONTRACT_OUTCOME_UNCHANGED] != 7 {
		t.Fatalf("outcomes %v, want one CREATED and seven UNCHANGED", outcomes)
	}
	for table, want := range map[string]int{"contracts": 1, "contract_versions": 1, "contract_lines": 2, "rate_card_entries": 1} {
		if n := env.Count(table); n != want {
			t.Errorf("%s = %d, want %d", table, n, want)
		}
	}
	if n := env.Count(contractChanged); n != 1 {
		t.Errorf("contract.changed events = %d, want 1", n)
	}
}
