package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/accrue/accrue/e2e/internal/harness"
	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
)

// Scopes used by the tests.
var (
	customersWrite = []string{"customers:write"}
	customersRead  = []string{"customers:read"}
	projectsRead   = []string{"projects:read"}
	opsReadWrite   = []string{"ops:read", "ops:write"}
)

// customerInput is a CreateCustomer body (the CustomerInput message as REST JSON); with a
// non-empty crmID it carries a Salesforce account reference.
func customerInput(name, currency, crmID string) map[string]any {
	in := map[string]any{"name": name, "currency_code": currency}
	if crmID != "" {
		in["external_references"] = []map[string]any{{"system": "salesforce", "object_type": "Account", "external_id": crmID}}
	}
	return in
}

// decode unmarshals a REST JSON body into the contract's message, refusing unknown fields: the
// gateway must speak the contract.
func decode(t testing.TB, body []byte, m proto.Message) {
	t.Helper()
	if err := protojson.Unmarshal(body, m); err != nil {
		t.Fatalf("response does not decode as %s: %v\n%s", m.ProtoReflect().Descriptor().FullName(), err, body)
	}
}

// createCustomer posts in and expects 201 Created.
func createCustomer(t testing.TB, env *harness.Env, in map[string]any, headers map[string]string) *customerv1.CreateCustomerResponse {
	t.Helper()
	st, _, body := env.Do(http.MethodPost, "/v1/customers", in, headers)
	if st != http.StatusCreated {
		t.Fatalf("POST /v1/customers: %d, want 201: %s", st, body)
	}
	var resp customerv1.CreateCustomerResponse
	decode(t, body, &resp)
	return &resp
}

// expectProblem checks a problem+json response with the given status and reason.
func expectProblem(t testing.TB, what string, wantStatus int, wantReason string, st int, hdr http.Header, body []byte) harness.Problem {
	t.Helper()
	if st != wantStatus {
		t.Fatalf("%s: status %d, want %d: %s", what, st, wantStatus, body)
	}
	p := harness.DecodeProblem(t, st, hdr, body)
	if wantReason != "" && p.Reason != wantReason {
		t.Errorf("%s: reason %q, want %q: %s", what, p.Reason, wantReason, body)
	}
	return p
}

func mustUUID(t testing.TB, what, s string) {
	t.Helper()
	if _, err := uuid.Parse(s); err != nil {
		t.Fatalf("%s %q is not a UUID: %v", what, s, err)
	}
}

// logLines returns the JSON log lines of log whose field key equals value.
func logLines(log, key, value string) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		if fmt.Sprint(line[key]) == value {
			out = append(out, line)
		}
	}
	return out
}

// hasLine reports whether one of lines has msg as its message.
func hasLine(lines []map[string]any, msg string) bool {
	for _, l := range lines {
		if l["msg"] == msg {
			return true
		}
	}
	return false
}
