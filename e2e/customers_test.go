package e2e

import (
	"bytes"
	"net/http"
	"slices"
	"sort"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/accrue/accrue/e2e/internal/harness"
	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
)

// A customer is created once however often the caller retries with its Idempotency-Key, and
// every rejected request (key reused for another body, no token, missing scope, invalid input,
// unknown currency) is answered with a problem document and writes nothing: neither the
// customer, nor its event, nor its audit record.
func TestCreateCustomerIsIdempotentAndRejectionsWriteNothing(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	key := "create-acme-" + env.ID()
	withKey := env.Bearer(customersWrite, "Idempotency-Key", key)
	in := customerInput("Acme Consulting", "USD", "001-acme-"+env.ID())

	st, hdr, first := env.Do(http.MethodPost, "/v1/customers", in, withKey)
	if st != http.StatusCreated {
		t.Fatalf("create: %d, want 201: %s", st, first)
	}
	if hdr.Get("X-Correlation-ID") == "" {
		t.Error("create: no X-Correlation-ID response header")
	}
	if v := hdr.Get("Idempotent-Replayed"); v != "" {
		t.Errorf("first create: Idempotent-Replayed %q, want none", v)
	}
	var created customerv1.CreateCustomerResponse
	decode(t, first, &created)
	mustUUID(t, "customer_id", created.GetCustomer().GetCustomerId())
	if !created.GetCreated() {
		t.Error("create: created=false, want true")
	}
	if c := created.GetCustomer(); c.GetName() != "Acme Consulting" || c.GetCurrencyCode() != "USD" || c.GetVersion() != 1 ||
		c.GetStatus() != customerv1.CustomerStatus_CUSTOMER_STATUS_ACTIVE || c.GetPaymentTermsDays() != 30 {
		t.Errorf("create: unexpected customer %v", c)
	}

	// The retry gets the stored answer, marked as replayed, and creates nothing.
	st, hdr, second := env.Do(http.MethodPost, "/v1/customers", in, withKey)
	if st != http.StatusOK {
		t.Fatalf("replay: %d, want 200 (a replay creates nothing): %s", st, second)
	}
	if v := hdr.Get("Idempotent-Replayed"); v != "true" {
		t.Errorf("replay: Idempotent-Replayed %q, want true", v)
	}
	if !bytes.Equal(first, second) {
		var replayed customerv1.CreateCustomerResponse
		decode(t, second, &replayed)
		if !proto.Equal(&created, &replayed) {
			t.Errorf("replay: body differs from the first answer:\nfirst:  %s\nreplay: %s", first, second)
		}
	}
	if n := env.Count("customer", `SELECT count(*) FROM customers`); n != 1 {
		t.Fatalf("after replay: %d customers, want 1", n)
	}

	// The same key with another body is a client bug: 422, not a second customer.
	other := customerInput("Acme Consulting GmbH", "EUR", "")
	st, hdr, body := env.Do(http.MethodPost, "/v1/customers", other, withKey)
	expectProblem(t, "key reused", http.StatusUnprocessableEntity, "IDEMPOTENCY_KEY_REUSED", st, hdr, body)

	// Authentication and scopes.
	st, hdr, body = env.Do(http.MethodPost, "/v1/customers", other, nil)
	expectProblem(t, "no token", http.StatusUnauthorized, "TOKEN_MISSING", st, hdr, body)
	if hdr.Get("WWW-Authenticate") == "" {
		t.Error("no token: no WWW-Authenticate header")
	}
	st, hdr, body = env.Do(http.MethodPost, "/v1/customers", other, env.Bearer(customersRead))
	p := expectProblem(t, "read-only token", http.StatusForbidden, "SCOPE_MISSING", st, hdr, body)
	if p.Metadata["required_scope"] != "customers:write" {
		t.Errorf("read-only token: required_scope %q, want customers:write", p.Metadata["required_scope"])
	}

	// Contract validation names every offending field.
	st, hdr, body = env.Do(http.MethodPost, "/v1/customers", customerInput("", "usd", ""), env.Bearer(customersWrite))
	p = expectProblem(t, "invalid input", http.StatusBadRequest, "VALIDATION_FAILED", st, hdr, body)
	for _, f := range []string{"customer.name", "customer.currency_code"} {
		if !slices.Contains(p.Fields(), f) {
			t.Errorf("invalid input: violations %v do not name %s", p.Fields(), f)
		}
	}
	if p.CorrelationID == "" {
		t.Error("invalid input: problem has no correlation_id")
	}

	// Well-formed but not an ISO 4217 currency: a domain rule.
	st, hdr, body = env.Do(http.MethodPost, "/v1/customers", customerInput("Acme", "XYZ", ""), env.Bearer(customersWrite))
	p = expectProblem(t, "unknown currency", http.StatusBadRequest, "UNKNOWN_CURRENCY", st, hdr, body)
	if !slices.Contains(p.Fields(), "customer.currency_code") {
		t.Errorf("unknown currency: violations %v do not name customer.currency_code", p.Fields())
	}

	// Only the one successful create left traces, all in its transaction.
	for table, want := range map[string]int{"customers": 1, "customer_external_refs": 1, "outbox": 1, "audit_log": 1, "idempotency_keys": 1} {
		if n := env.Count("customer", `SELECT count(*) FROM `+table); n != want {
			t.Errorf("%s: %d rows, want %d", table, n, want)
		}
	}
	id := created.GetCustomer().GetCustomerId()
	if n := env.Count("customer", `SELECT count(*) FROM outbox WHERE subject = $1 AND event_type = 'customer.upserted'`, id); n != 1 {
		t.Errorf("outbox: %d customer.upserted rows for %s, want 1", n, id)
	}
	if n := env.Count("customer", `SELECT count(*) FROM audit_log WHERE entity_id = $1 AND action = 'customer.created'`, id); n != 1 {
		t.Errorf("audit_log: %d customer.created rows for %s, want 1", n, id)
	}
}

// Creating a customer whose external reference is already known returns the existing customer
// when nothing differs (200, created=false, no new event) and refuses a conflicting one (409).
func TestCreateCustomerMatchesBeforeCreating(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	in := customerInput("Globex", "EUR", "001-globex-"+env.ID())
	first := createCustomer(t, env, in, env.Bearer(customersWrite, "Idempotency-Key", "globex-"+env.ID()))
	id := first.GetCustomer().GetCustomerId()

	st, _, body := env.Do(http.MethodPost, "/v1/customers", in, env.Bearer(customersWrite))
	if st != http.StatusOK {
		t.Fatalf("same content again: %d, want 200: %s", st, body)
	}
	var again customerv1.CreateCustomerResponse
	decode(t, body, &again)
	if again.GetCreated() {
		t.Error("same content again: created=true, want false")
	}
	if got := again.GetCustomer().GetCustomerId(); got != id {
		t.Errorf("same content again: customer %s, want %s", got, id)
	}
	if again.GetCustomer().GetVersion() != 1 {
		t.Errorf("same content again: version %d, want 1", again.GetCustomer().GetVersion())
	}

	renamed := customerInput("Globex Corporation", "EUR", "001-globex-"+env.ID())
	st, hdr, body := env.Do(http.MethodPost, "/v1/customers", renamed, env.Bearer(customersWrite))
	p := expectProblem(t, "conflicting content", http.StatusConflict, "DUPLICATE_EXTERNAL_ID", st, hdr, body)
	if p.Metadata["customer_id"] != id {
		t.Errorf("conflicting content: metadata customer_id %q, want %s", p.Metadata["customer_id"], id)
	}

	if n := env.Count("customer", `SELECT count(*) FROM customers`); n != 1 {
		t.Errorf("%d customers, want 1", n)
	}
	if n := env.Count("customer", `SELECT count(*) FROM outbox`); n != 1 {
		t.Errorf("%d outbox rows, want 1 (a match publishes nothing)", n)
	}
}

// Customers list a page at a time in creation order, without gaps or repeats; single customers
// are found by id, and unknown or malformed ids are told apart.
func TestListAndGetCustomers(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	var ids []string
	for _, name := range []string{"Initech", "Umbrella", "Hooli", "Vandelay", "Wonka"} {
		ids = append(ids, createCustomer(t, env, customerInput(name, "USD", ""), env.Bearer(customersWrite)).GetCustomer().GetCustomerId())
	}

	read := env.Bearer(customersRead)
	var listed []string
	var sizes []int
	token := ""
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatal("paging does not end")
		}
		path := "/v1/customers?page_size=2"
		if token != "" {
			path += "&page_token=" + token
		}
		st, _, body := env.Do(http.MethodGet, path, nil, read)
		if st != http.StatusOK {
			t.Fatalf("GET %s: %d: %s", path, st, body)
		}
		var resp customerv1.ListCustomersResponse
		decode(t, body, &resp)
		sizes = append(sizes, len(resp.GetCustomers()))
		for _, c := range resp.GetCustomers() {
			listed = append(listed, c.GetCustomerId())
		}
		token = resp.GetNextPageToken()
		if token == "" {
			break
		}
	}
	if !slices.Equal(sizes, []int{2, 2, 1}) {
		t.Errorf("page sizes %v, want [2 2 1]", sizes)
	}
	want := slices.Clone(ids)
	sort.Strings(want)
	if !slices.Equal(listed, want) {
		t.Errorf("listed %v, want every created customer once, by id: %v", listed, want)
	}

	st, _, body := env.Do(http.MethodGet, "/v1/customers/"+ids[2], nil, read)
	if st != http.StatusOK {
		t.Fatalf("GET customer: %d: %s", st, body)
	}
	var got customerv1.GetCustomerResponse
	decode(t, body, &got)
	if got.GetCustomer().GetCustomerId() != ids[2] || got.GetCustomer().GetName() != "Hooli" {
		t.Errorf("GET customer: %v, want Hooli (%s)", got.GetCustomer(), ids[2])
	}

	st, hdr, body := env.Do(http.MethodGet, "/v1/customers/"+uuid.Must(uuid.NewV7()).String(), nil, read)
	expectProblem(t, "unknown id", http.StatusNotFound, "CUSTOMER_NOT_FOUND", st, hdr, body)
	st, hdr, body = env.Do(http.MethodGet, "/v1/customers/not-a-uuid", nil, read)
	p := expectProblem(t, "malformed id", http.StatusBadRequest, "", st, hdr, body)
	if !slices.Contains(p.Fields(), "customer_id") {
		t.Errorf("malformed id: violations %v do not name customer_id", p.Fields())
	}
	st, hdr, body = env.Do(http.MethodGet, "/v1/customers?page_token=forged", nil, read)
	expectProblem(t, "forged page token", http.StatusBadRequest, "INVALID_PAGE_TOKEN", st, hdr, body)
}
