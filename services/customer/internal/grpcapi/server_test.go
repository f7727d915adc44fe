package grpcapi_test

import (
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/pgstore"
	"github.com/accrue/accrue/internal/platform/servicetest"
	"github.com/accrue/accrue/services/customer/internal/app"
	"github.com/accrue/accrue/services/customer/internal/grpcapi"
	"github.com/accrue/accrue/services/customer/internal/store"
)

var rw = []string{"customers:read", "customers:write"}

func start(t *testing.T) (*servicetest.Env, customerv1.CustomerServiceClient) {
	t.Parallel()
	env := servicetest.New(t, "customer", store.Migrations(), func(e *servicetest.Env) {
		customerv1.RegisterCustomerServiceServer(e.Server, grpcapi.New(app.New(store.New(pgstore.New(e.DB.Pool, e.Outbox, e.Queue)))))
	})
	return env, customerv1.NewCustomerServiceClient(env.Conn)
}

func ref(id string) *commonv1.ExternalReference {
	return &commonv1.ExternalReference{System: "salesforce", ObjectType: "Account", ExternalId: id}
}

func input(name, refID string) *customerv1.CustomerInput {
	return &customerv1.CustomerInput{Name: name, CurrencyCode: "USD", ExternalReferences: []*commonv1.ExternalReference{ref(refID)},
		TaxProfile: &customerv1.TaxProfile{TaxId: "T-1", TaxRegion: "US-CA"}}
}

func wantErr(t *testing.T, err error, code codes.Code, reason string) {
	t.Helper()
	if status.Code(err) != code || grpcx.ReasonOf(err) != reason {
		t.Fatalf("got %v (reason %q), want %s / %s", err, grpcx.ReasonOf(err), code, reason)
	}
}

func TestMatchBeforeCreate(t *testing.T) {
	env, c := start(t)
	ctx := env.Ctx(rw)
	first, err := c.CreateCustomer(ctx, &customerv1.CreateCustomerRequest{Customer: input("Globex", "001A")})
	if err != nil || !first.GetCreated() {
		t.Fatalf("create: %v %v", first, err)
	}
	again, err := c.CreateCustomer(ctx, &customerv1.CreateCustomerRequest{Customer: input("Globex", "001A")})
	if err != nil || again.GetCreated() || again.GetCustomer().GetCustomerId() != first.GetCustomer().GetCustomerId() {
		t.Fatalf("same content must return the existing customer: %v %v", again, err)
	}
	_, err = c.CreateCustomer(ctx, &customerv1.CreateCustomerRequest{Customer: input("Globex Corp", "001A")})
	wantErr(t, err, codes.AlreadyExists, "DUPLICATE_EXTERNAL_ID")
	if n := env.Count("customers"); n != 1 {
		t.Fatalf("customers = %d, want 1", n)
	}
	if n := env.Count("outbox"); n != 1 {
		t.Fatalf("outbox events = %d, want 1 (only the create publishes)", n)
	}
}

func TestConcurrentCreatesOfOneReferenceConverge(t *testing.T) {
	env, c := start(t)
	ctx := env.Ctx(rw)
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.CreateCustomer(ctx, &customerv1.CreateCustomerRequest{Customer: input("Initech", "001B")})
			if err != nil {
				t.Errorf("create %d: %v", i, err)
				return
			}
			ids[i] = resp.GetCustomer().GetCustomerId()
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("ids differ: %v", ids)
		}
	}
	if n := env.Count("customers"); n != 1 {
		t.Fatalf("customers = %d, want 1", n)
	}
}

func TestUpsertKeepsWhatTheSourceDoesNotSend(t *testing.T) {
	env, c := start(t)
	ctx := env.Ctx(rw)
	in := input("Umbrella", "001C")
	in.Contacts = []*customerv1.Contact{{Name: "Alice", Email: "alice@example.com", Role: "billing"}}
	in.BillingAddress = &customerv1.Address{Line1: "1 Main St", City: "Springfield", CountryCode: "US"}
	created, err := c.UpsertCustomer(ctx, &customerv1.UpsertCustomerRequest{Customer: in})
	if err != nil || created.GetOutcome() != customerv1.Outcome_OUTCOME_CREATED {
		t.Fatalf("upsert: %v %v", created, err)
	}
	same, err := c.UpsertCustomer(ctx, &customerv1.UpsertCustomerRequest{Customer: in})
	if err != nil || same.GetOutcome() != customerv1.Outcome_OUTCOME_UNCHANGED || same.GetCustomer().GetVersion() != 1 {
		t.Fatalf("same upsert: %v %v", same, err)
	}
	// The CRM renames the account and sends neither contacts, address nor tax data.
	renamed, err := c.UpsertCustomer(ctx, &customerv1.UpsertCustomerRequest{Customer: &customerv1.CustomerInput{
		Name: "Umbrella Corp", CurrencyCode: "USD", ExternalReferences: []*commonv1.ExternalReference{ref("001C")}}})
	if err != nil || renamed.GetOutcome() != customerv1.Outcome_OUTCOME_UPDATED {
		t.Fatalf("rename: %v %v", renamed, err)
	}
	got := renamed.GetCustomer()
	if got.GetVersion() != 2 || got.GetName() != "Umbrella Corp" || len(got.GetContacts()) != 1 ||
		got.GetBillingAddress().GetCity() != "Springfield" || got.GetTaxProfile().GetTaxRegion() != "US-CA" {
		t.Fatalf("rename lost data: %v", got)
	}
}

func TestHierarchyRules(t *testing.T) {
	env, c := start(t)
	ctx := env.Ctx(rw)
	var ids []string
	parent := ""
	for i := 0; i < 5; i++ { // levels 1..5 are allowed
		in := input("Level", string(rune('a'+i)))
		in.ParentCustomerId = parent
		resp, err := c.CreateCustomer(ctx, &customerv1.CreateCustomerRequest{Customer: in})
		if err != nil {
			t.Fatalf("level %d: %v", i+1, err)
		}
		parent = resp.GetCustomer().GetCustomerId()
		ids = append(ids, parent)
	}
	sixth := input("Level", "f")
	sixth.ParentCustomerId = parent
	_, err := c.CreateCustomer(ctx, &customerv1.CreateCustomerRequest{Customer: sixth})
	wantErr(t, err, codes.FailedPrecondition, "HIERARCHY_TOO_DEEP")

	// Making the root a child of its own grandchild would close a cycle.
	root, err := c.GetCustomer(ctx, &customerv1.GetCustomerRequest{CustomerId: ids[0]})
	if err != nil {
		t.Fatal(err)
	}
	move := input("Level", "a")
	move.ParentCustomerId = ids[2]
	_, err = c.UpdateCustomer(ctx, &customerv1.UpdateCustomerRequest{CustomerId: ids[0], ExpectedVersion: root.GetCustomer().GetVersion(), Customer: move})
	wantErr(t, err, codes.FailedPrecondition, "HIERARCHY_CYCLE")

	orphan := input("Orphan", "g")
	orphan.ParentCustomerId = "01a2210c-0000-7000-8000-000000000000"
	_, err = c.CreateCustomer(ctx, &customerv1.CreateCustomerRequest{Customer: orphan})
	wantErr(t, err, codes.FailedPrecondition, "PARENT_NOT_FOUND")
	if n := env.Count("customers"); n != 5 {
		t.Fatalf("customers = %d, want 5", n)
	}
}

func TestUpdateNeedsTheCurrentVersion(t *testing.T) {
	env, c := start(t)
	ctx := env.Ctx(rw)
	resp, err := c.CreateCustomer(ctx, &customerv1.CreateCustomerRequest{Customer: input("Hooli", "001H")})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.GetCustomer().GetCustomerId()
	upd := proto.Clone(input("Hooli XYZ", "001H")).(*customerv1.CustomerInput)
	changed, err := c.UpdateCustomer(ctx, &customerv1.UpdateCustomerRequest{CustomerId: id, ExpectedVersion: 1, Customer: upd})
	if err != nil || changed.GetCustomer().GetVersion() != 2 {
		t.Fatalf("update: %v %v", changed, err)
	}
	_, err = c.UpdateCustomer(ctx, &customerv1.UpdateCustomerRequest{CustomerId: id, ExpectedVersion: 1, Customer: input("Hooli 2", "001H")})
	wantErr(t, err, codes.Aborted, "VERSION_CONFLICT")
	_, err = c.GetCustomer(ctx, &customerv1.GetCustomerRequest{CustomerId: "01a2210c-0000-7000-8000-000000000000"})
	wantErr(t, err, codes.NotFound, "CUSTOMER_NOT_FOUND")
	found, err := c.LookupCustomer(ctx, &customerv1.LookupCustomerRequest{ExternalReference: ref("001H")})
	if err != nil || found.GetCustomer().GetName() != "Hooli XYZ" {
		t.Fatalf("lookup: %v %v", found, err)
	}
	var audits int
	if err := env.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE entity_id = $1`, id).Scan(&audits); err != nil || audits != 2 {
		t.Fatalf("audit records = %d (%v), want 2 (created, updated)", audits, err)
	}
}

func TestValidationAndScopes(t *testing.T) {
	env, c := start(t)
	bad := input("", "001Z")
	bad.CurrencyCode = "usd"
	_, err := c.CreateCustomer(env.Ctx(rw), &customerv1.CreateCustomerRequest{Customer: bad})
	wantErr(t, err, codes.InvalidArgument, "VALIDATION_FAILED")
	unknown := input("X", "001Z")
	unknown.CurrencyCode = "XYZ"
	_, err = c.CreateCustomer(env.Ctx(rw), &customerv1.CreateCustomerRequest{Customer: unknown})
	wantErr(t, err, codes.InvalidArgument, "UNKNOWN_CURRENCY")
	exempt := input("Y", "001Y")
	exempt.TaxProfile = &customerv1.TaxProfile{Exempt: true}
	_, err = c.CreateCustomer(env.Ctx(rw), &customerv1.CreateCustomerRequest{Customer: exempt})
	wantErr(t, err, codes.InvalidArgument, "VALIDATION_FAILED")
	_, err = c.CreateCustomer(env.Ctx([]string{"customers:read"}), &customerv1.CreateCustomerRequest{Customer: input("Z", "001X")})
	wantErr(t, err, codes.PermissionDenied, "SCOPE_MISSING")
	if n := env.Count("customers") + env.Count("outbox") + env.Count("audit_log"); n != 0 {
		t.Fatalf("rejected requests wrote %d rows", n)
	}
}

func TestUpsertHierarchyLinksEachLevelToItsParent(t *testing.T) {
	env, c := start(t)
	ctx := env.Ctx(rw)
	req := &customerv1.UpsertCustomerHierarchyRequest{Customers: []*customerv1.CustomerInput{
		input("Holding", "H"), input("Region", "R"), input("Subsidiary", "S")}}
	first, err := c.UpsertCustomerHierarchy(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	cs := first.GetCustomers()
	if len(cs) != 3 || cs[0].GetParentCustomerId() != "" || cs[1].GetParentCustomerId() != cs[0].GetCustomerId() ||
		cs[2].GetParentCustomerId() != cs[1].GetCustomerId() {
		t.Fatalf("hierarchy not linked: %v", cs)
	}
	for _, o := range first.GetOutcomes() {
		if o != customerv1.Outcome_OUTCOME_CREATED {
			t.Fatalf("outcomes %v", first.GetOutcomes())
		}
	}
	again, err := c.UpsertCustomerHierarchy(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range again.GetOutcomes() {
		if o != customerv1.Outcome_OUTCOME_UNCHANGED || again.GetCustomers()[i].GetCustomerId() != cs[i].GetCustomerId() {
			t.Fatalf("a repeated hierarchy upsert must change nothing: %v", again)
		}
	}
	if n := env.Count("customers"); n != 3 {
		t.Fatalf("customers = %d", n)
	}
	_, err = c.UpsertCustomerHierarchy(ctx, &customerv1.UpsertCustomerHierarchyRequest{Customers: []*customerv1.CustomerInput{
		{Name: "No ref", CurrencyCode: "USD"}}})
	wantErr(t, err, codes.InvalidArgument, "VALIDATION_FAILED")
}

// Concurrent upserts of one new hierarchy race to create it in one round trip each; the losers
// fail on the external reference as a whole, write nothing, and match the winner's customers.
func TestConcurrentUpsertsOfOneNewHierarchyConverge(t *testing.T) {
	env, c := start(t)
	ctx := env.Ctx(rw)
	req := &customerv1.UpsertCustomerHierarchyRequest{Customers: []*customerv1.CustomerInput{
		input("Holding", "CH"), input("Subsidiary", "CS")}}
	answers := servicetest.Concurrently(t, 8, func(int) (*customerv1.UpsertCustomerHierarchyResponse, error) {
		return c.UpsertCustomerHierarchy(ctx, req)
	})
	if t.Failed() {
		return
	}
	created := 0
	for i, a := range answers {
		if a.GetCustomers()[0].GetCustomerId() != answers[0].GetCustomers()[0].GetCustomerId() ||
			a.GetCustomers()[1].GetCustomerId() != answers[0].GetCustomers()[1].GetCustomerId() {
			t.Fatalf("upsert %d names other customers: %v vs %v", i, a.GetCustomers(), answers[0].GetCustomers())
		}
		if a.GetCustomers()[1].GetParentCustomerId() != a.GetCustomers()[0].GetCustomerId() {
			t.Fatalf("upsert %d: subsidiary not linked to the holding: %v", i, a.GetCustomers())
		}
		if a.GetOutcomes()[0] == customerv1.Outcome_OUTCOME_CREATED {
			created++
		}
	}
	if created != 1 {
		t.Errorf("%d upserts report CREATED, want 1", created)
	}
	if n := env.Count("customers"); n != 2 {
		t.Fatalf("customers = %d, want 2", n)
	}
	if n := env.Count("outbox"); n != 2 {
		t.Fatalf("customer.upserted events = %d, want 2 (one per customer created)", n)
	}
	if n := env.Count("audit_log"); n != 2 {
		t.Fatalf("audit records = %d, want 2", n)
	}
}
