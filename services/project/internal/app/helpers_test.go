package app_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pgstore"
	"github.com/accrue/accrue/internal/platform/pgtest"
	"github.com/accrue/accrue/services/project/internal/app"
	"github.com/accrue/accrue/services/project/internal/project"
	"github.com/accrue/accrue/services/project/internal/store"
)

// env is the use cases over a fresh database, with in-process stand-ins for the customer and
// billing services (the database is real; the other services are not this module's).
type env struct {
	db        *pgtest.DB
	queue     *exceptions.Queue
	uc        *app.Service
	customers *customerService
	billing   *billingService
	log       *slog.Logger
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{db: pgtest.New(t, store.Migrations()), customers: newCustomerService(), billing: newBillingService(),
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	e.queue = exceptions.NewQueue(e.db.Pool, e.log)
	e.uc = e.instance(e.customers)
	e.queue.Handle(app.KindActivation, e.uc.RetryActivation)
	ctx := context.Background()
	for _, le := range []project.LegalEntity{
		{ID: uuid.NewString(), Code: "US01", FunctionalCurrency: "USD", Policy: "CLOSED_PERIOD_POLICY_REJECT", Version: 1},
		{ID: uuid.NewString(), Code: "DE01", FunctionalCurrency: "EUR", Policy: "CLOSED_PERIOD_POLICY_REJECT", Version: 1},
	} {
		if err := e.uc.ApplyLegalEntity(ctx, le); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// instance is another instance of the service over the same database (it shares no in-process
// lock with the others), calling the customer service through customers.
func (e *env) instance(customers customerv1.CustomerServiceClient) *app.Service {
	st := store.New(pgstore.New(e.db.Pool, outbox.Writer{Producer: "project"}, e.queue))
	return app.New(st, app.Deps{Customers: customers, Contracts: e.billing, Log: e.log})
}

func (e *env) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func usd(s string) *commonv1.Money { return &commonv1.Money{Amount: s, CurrencyCode: "USD"} }

func date(y, m, d int32) *commonv1.Date { return &commonv1.Date{Year: y, Month: m, Day: d} }

// opportunity is a closed-won deal of 100,000.00 USD booked by US01: an IMPLEMENTATION line
// billed by the hour (80,000.00) and a fixed-fee TRAINING line (20,000.00).
func opportunity(oppID string, version int64) *projectv1.Opportunity {
	return &projectv1.Opportunity{
		CrmSystem: "salesforce", OpportunityId: oppID, Version: version, Name: "Initech data platform",
		Account: &projectv1.Account{AccountId: "ACC-" + oppID, Name: "Initech US", LegalName: "Initech US LLC", CurrencyCode: "USD",
			TaxProfile: &projectv1.AccountTaxProfile{TaxId: "74-1234567", TaxRegion: "US-TX"}},
		ParentAccounts:  []*projectv1.Account{{AccountId: "HQ-" + oppID, Name: "Initech Holdings", CurrencyCode: "USD"}},
		LegalEntityCode: "US01", Amount: usd("100000.00"), StartDate: date(2026, 6, 1), EndDate: date(2026, 12, 31),
		ManagerId: "W-1002", ManagerName: "Grace Hopper",
		ServiceLines: []*projectv1.OpportunityServiceLine{
			{LineKey: "IMPL-1", ServiceLine: "IMPLEMENTATION", Description: "Data platform build", Amount: usd("80000.00"),
				BillingMethod: billingv1.BillingMethod_BILLING_METHOD_TIME_AND_MATERIALS, BudgetHours: "520",
				RateCard: []*billingv1.RateCardEntry{{Role: "CONSULTANT", BillRate: usd("150.00"), EffectiveFrom: date(2026, 1, 1)}}},
			{LineKey: "TRN-1", ServiceLine: "TRAINING", Amount: usd("20000.00"),
				BillingMethod: billingv1.BillingMethod_BILLING_METHOD_FIXED_FEE},
		},
	}
}

// customerService stands in for the customer service: one customer per CRM account, created on
// its first upsert; a blocked client waits at its hierarchy upsert until released.
type customerService struct {
	customerv1.CustomerServiceClient
	*customers
	// entered and release, when set, hold UpsertCustomerHierarchy (see blocked).
	entered chan struct{}
	release chan struct{}
}

// customers is the customer service's state, shared by its clients.
type customers struct {
	mu    sync.Mutex
	ids   map[string]string // by CRM account
	taxed map[string]bool   // by customer id
}

func newCustomerService() *customerService {
	return &customerService{customers: &customers{ids: map[string]string{}, taxed: map[string]bool{}}}
}

// blocked returns a client of the same customer service whose hierarchy upsert signals entered
// and then waits for release.
func (c *customerService) blocked() *customerService {
	return &customerService{customers: c.customers, entered: make(chan struct{}), release: make(chan struct{})}
}

func (c *customerService) LookupCustomer(ctx context.Context, req *customerv1.LookupCustomerRequest, _ ...grpc.CallOption) (*customerv1.LookupCustomerResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.ids[req.GetExternalReference().GetExternalId()]
	if !ok {
		return nil, grpcx.ToStatus(ctx, fault.New(fault.NotFound, "CUSTOMER_NOT_FOUND", "no such customer"))
	}
	out := &customerv1.Customer{CustomerId: id, Version: 1}
	if c.taxed[id] {
		out.TaxProfile = &customerv1.TaxProfile{TaxRegion: "US-TX"}
	}
	return &customerv1.LookupCustomerResponse{Customer: out}, nil
}

func (c *customerService) UpsertCustomerHierarchy(_ context.Context, req *customerv1.UpsertCustomerHierarchyRequest, _ ...grpc.CallOption) (*customerv1.UpsertCustomerHierarchyResponse, error) {
	if c.entered != nil {
		close(c.entered)
		<-c.release
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	resp := &customerv1.UpsertCustomerHierarchyResponse{}
	for _, in := range req.GetCustomers() {
		ext := in.GetExternalReferences()[0].GetExternalId()
		id, ok := c.ids[ext]
		out := customerv1.Outcome_OUTCOME_UNCHANGED
		if !ok {
			id, out = uuid.NewString(), customerv1.Outcome_OUTCOME_CREATED
			c.ids[ext] = id
		}
		if in.GetTaxProfile() != nil {
			c.taxed[id] = true
		}
		resp.Customers = append(resp.Customers, &customerv1.Customer{CustomerId: id, Version: 1})
		resp.Outcomes = append(resp.Outcomes, out)
	}
	return resp, nil
}

// billingService stands in for billing's contracts: one contract per opportunity, a new version
// per newer source version; down makes every call fail as unavailable.
type billingService struct {
	billingv1.ContractServiceClient
	mu        sync.Mutex
	down      bool
	contracts map[string]*billingv1.Contract
	// requests are the last request that wrote each contract (not validate-only).
	requests map[string]*billingv1.UpsertContractRequest
	calls    int
}

func newBillingService() *billingService {
	return &billingService{contracts: map[string]*billingv1.Contract{}, requests: map[string]*billingv1.UpsertContractRequest{}}
}

func (b *billingService) setDown(down bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.down = down
}

func (b *billingService) UpsertContract(_ context.Context, req *billingv1.UpsertContractRequest, _ ...grpc.CallOption) (*billingv1.UpsertContractResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls++
	if b.down {
		return nil, status.Error(codes.Unavailable, "billing is down")
	}
	if req.GetValidateOnly() {
		return &billingv1.UpsertContractResponse{}, nil
	}
	key := req.GetExternalReference().GetExternalId()
	b.requests[key] = req
	c, ok := b.contracts[key]
	switch {
	case !ok:
		c = &billingv1.Contract{ContractId: uuid.NewString(), Version: 1, SourceVersion: req.GetSourceVersion()}
		b.contracts[key] = c
		return &billingv1.UpsertContractResponse{Contract: c, Outcome: billingv1.ContractOutcome_CONTRACT_OUTCOME_CREATED}, nil
	case req.GetSourceVersion() > c.GetSourceVersion():
		c = &billingv1.Contract{ContractId: c.GetContractId(), Version: c.GetVersion() + 1, SourceVersion: req.GetSourceVersion()}
		b.contracts[key] = c
		return &billingv1.UpsertContractResponse{Contract: c, Outcome: billingv1.ContractOutcome_CONTRACT_OUTCOME_AMENDED}, nil
	}
	return &billingv1.UpsertContractResponse{Contract: c, Outcome: billingv1.ContractOutcome_CONTRACT_OUTCOME_UNCHANGED}, nil
}
