package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"github.com/accrue/accrue/e2e/internal/harness"
	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
)

// A service's gRPC port describes itself to tools like grpcurl without a token (reflection),
// but refuses business calls that bypass the gateway without one.
func TestServiceGRPCReflectionAndDirectAuth(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	conn, err := grpc.NewClient(env.GRPCAddr("customer"), env.GRPCTransport())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatalf("reflection: %v", err)
	}
	ask := func(req *reflectionpb.ServerReflectionRequest) *reflectionpb.ServerReflectionResponse {
		t.Helper()
		if err := stream.Send(req); err != nil {
			t.Fatalf("reflection send: %v", err)
		}
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("reflection (no token) refused: %v", err)
		}
		if e := resp.GetErrorResponse(); e != nil {
			t.Fatalf("reflection error: %d %s", e.GetErrorCode(), e.GetErrorMessage())
		}
		return resp
	}
	resp := ask(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{ListServices: "*"}})
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	for _, want := range []string{"accrue.customer.v1.CustomerService", "accrue.ops.v1.ExceptionService", "grpc.health.v1.Health"} {
		if !slices.Contains(names, want) {
			t.Errorf("reflection lists %v, missing %s", names, want)
		}
	}
	resp = ask(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: "accrue.customer.v1.CustomerService"}})
	if len(resp.GetFileDescriptorResponse().GetFileDescriptorProto()) == 0 {
		t.Error("reflection returns no descriptor for accrue.customer.v1.CustomerService")
	}
	_ = stream.CloseSend()

	// The service checks tokens itself: the gateway is not the only way in.
	client := customerv1.NewCustomerServiceClient(conn)
	_, err = client.ListCustomers(ctx, &customerv1.ListCustomersRequest{})
	if status.Code(err) != codes.Unauthenticated || reasonOf(err) != "TOKEN_MISSING" {
		t.Errorf("direct call without a token: %v (reason %q), want Unauthenticated / TOKEN_MISSING", err, reasonOf(err))
	}
	authed := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+env.Token("customers:write"))
	_, err = client.ListCustomers(authed, &customerv1.ListCustomersRequest{})
	if status.Code(err) != codes.PermissionDenied || reasonOf(err) != "SCOPE_MISSING" {
		t.Errorf("direct call without the scope: %v (reason %q), want PermissionDenied / SCOPE_MISSING", err, reasonOf(err))
	}
	authed = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+env.Token("customers:read"))
	if _, err := client.ListCustomers(authed, &customerv1.ListCustomersRequest{}); err != nil {
		t.Errorf("direct call with a customers:read token: %v", err)
	}
}

func reasonOf(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

// The gateway serves one OpenAPI 2.0 document for the whole API, and it is self-contained:
// every $ref points at a definition the document has.
func TestOpenAPIDocumentIsCompleteAndSelfContained(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	st, hdr, body := env.Do(http.MethodGet, "/openapi.json", nil, nil)
	if st != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d: %s", st, body)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("the document is not JSON: %v", err)
	}
	if doc["swagger"] != "2.0" {
		t.Errorf("swagger %v, want 2.0", doc["swagger"])
	}
	paths, _ := doc["paths"].(map[string]any)
	for path, methods := range map[string][]string{
		"/v1/customers":                                     {"get", "post"},
		"/v1/customers/{customer_id}":                       {"get"},
		"/v1/ops/{service}/exceptions":                      {"get"},
		"/v1/ops/{service}/exceptions/{exception_id}:retry": {"post"},
		"/v1/project-directory/customers/{customer_id}":     {"get"},
	} {
		ops, ok := paths[path].(map[string]any)
		if !ok {
			t.Errorf("paths has no %s", path)
			continue
		}
		for _, m := range methods {
			if _, ok := ops[m]; !ok {
				t.Errorf("%s has no %s operation", path, m)
			}
		}
	}
	if _, ok := doc["securityDefinitions"].(map[string]any)["bearer"]; !ok {
		t.Error("no bearer security definition")
	}

	defs, _ := doc["definitions"].(map[string]any)
	var refs, broken []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "$ref" {
					refs = append(refs, s)
					name, ok := strings.CutPrefix(s, "#/definitions/")
					if _, found := defs[name]; !ok || !found {
						broken = append(broken, s)
					}
					continue
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	if len(refs) == 0 {
		t.Error("the document has no $ref at all")
	}
	if len(broken) > 0 {
		slices.Sort(broken)
		t.Errorf("%d of %d $refs do not resolve: %v", len(broken), len(refs), slices.Compact(broken))
	}
}

// readiness is the gateway's /readyz answer.
type readiness struct {
	Ready    bool              `json:"ready"`
	Services map[string]string `json:"services"`
}

func readyz(t testing.TB, env *harness.Env) (int, readiness) {
	t.Helper()
	st, _, body := env.Do(http.MethodGet, "/readyz", nil, nil)
	var r readiness
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("GET /readyz: %d: not JSON: %v: %s", st, err, body)
	}
	return st, r
}

// Liveness, readiness and metrics, as an orchestrator and a monitoring system see them (the
// gateway's metrics on its admin listener, never on the public port): readiness follows the services (a dead billing service makes the gateway unready, and its
// return makes it ready again), liveness does not.
func TestHealthReadinessAndMetrics(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)

	st, _, body := env.Do(http.MethodGet, "/healthz", nil, nil)
	if st != http.StatusOK {
		t.Fatalf("GET /healthz: %d: %s", st, body)
	}
	st, r := readyz(t, env)
	if st != http.StatusOK || !r.Ready {
		t.Fatalf("GET /readyz: %d %+v, want 200 and ready", st, r)
	}
	// Every service is listed (the gateway may list more dependencies).
	for _, s := range harness.Services {
		if r.Services[s] != "SERVING" {
			t.Errorf("readyz: %s is %q, want SERVING", s, r.Services[s])
		}
	}

	// Metrics are on the private admin listener, not on the public API port.
	st, hdr, body := env.Do(http.MethodGet, "/metrics", nil, nil)
	expectProblem(t, "GET /metrics on the public port", http.StatusNotFound, "NOT_FOUND", st, hdr, body)
	for name, want := range map[string]string{harness.Gateway: "accrue_gateway_requests_total{", "customer": "accrue_grpc_server_handled_total{"} {
		resp, err := http.Get("http://" + env.MetricsAddr(name) + "/metrics")
		if err != nil {
			t.Fatalf("%s metrics: %v", name, err)
		}
		sm, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(sm), want) {
			t.Errorf("%s /metrics: %d, want 200 with %s samples", name, resp.StatusCode, want)
		}
	}

	env.Kill("billing", syscall.SIGKILL)
	took := harness.Eventually(t, 5*time.Second, 50*time.Millisecond, func() error {
		st, r := readyz(t, env)
		if st != http.StatusServiceUnavailable || r.Ready || r.Services["billing"] == "SERVING" {
			return fmt.Errorf("readyz %d %+v", st, r)
		}
		return nil
	})
	t.Logf("readyz turned 503 %s after billing died", took.Round(time.Millisecond))
	_, r = readyz(t, env)
	for s, st := range r.Services {
		if s != "billing" && st != "SERVING" {
			t.Errorf("readyz with billing down: %s is %q, want SERVING", s, r.Services[s])
		}
	}
	if st, _, _ := env.Do(http.MethodGet, "/healthz", nil, nil); st != http.StatusOK {
		t.Errorf("GET /healthz with billing down: %d, want 200 (liveness does not depend on upstreams)", st)
	}

	env.Restart("billing")
	took = harness.Eventually(t, 15*time.Second, 50*time.Millisecond, func() error {
		if st, r := readyz(t, env); st != http.StatusOK {
			return fmt.Errorf("readyz %d %+v", st, r)
		}
		return nil
	})
	t.Logf("readyz turned 200 %s after billing was SERVING again", took.Round(time.Millisecond))
}

// What the edge refuses or ignores: unknown routes get problem documents, method-override
// headers do not turn a read into something else, and oversized bodies are refused before they
// reach a service.
func TestGatewayEdgeRules(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)

	st, hdr, body := env.Do(http.MethodGet, "/no/such/route", nil, nil)
	expectProblem(t, "unknown route", http.StatusNotFound, "NOT_FOUND", st, hdr, body)
	st, hdr, body = env.Do(http.MethodGet, "/v1/no-such-resource", nil, env.Bearer(customersRead))
	expectProblem(t, "unknown API route", http.StatusNotFound, "NOT_FOUND", st, hdr, body)

	c := createCustomer(t, env, customerInput("Soylent", "USD", ""), env.Bearer(customersWrite)).GetCustomer()
	path := "/v1/customers/" + c.GetCustomerId()
	st, _, body = env.Do(http.MethodGet, path, nil, env.Bearer(customersRead, "X-HTTP-Method-Override", "DELETE",
		"X-HTTP-Method", "DELETE", "X-Method-Override", "DELETE"))
	if st != http.StatusOK {
		t.Fatalf("GET with method override: %d, want the GET's 200: %s", st, body)
	}
	var got customerv1.GetCustomerResponse
	decode(t, body, &got)
	if got.GetCustomer().GetCustomerId() != c.GetCustomerId() {
		t.Errorf("GET with method override returned %v", got.GetCustomer())
	}
	// A POST overridden to PUT stays a POST (a create), and nothing is replaced.
	st, _, body = env.Do(http.MethodPost, "/v1/customers", customerInput("Soylent Renamed", "USD", ""),
		env.Bearer(customersWrite, "X-HTTP-Method-Override", "PUT"))
	if st != http.StatusCreated {
		t.Errorf("POST with method override PUT: %d, want the POST's 201: %s", st, body)
	}
	st, _, body = env.Do(http.MethodGet, path, nil, env.Bearer(customersRead))
	decode(t, body, &got)
	if st != http.StatusOK || got.GetCustomer().GetName() != "Soylent" || got.GetCustomer().GetVersion() != 1 {
		t.Errorf("after the overrides the customer is %d %v, want Soylent version 1", st, got.GetCustomer())
	}

	// Bodies: padding inside the JSON object keeps it valid, so only the size differs.
	padded := func(size int) string {
		head, tail := `{"name":"Big Body","currency_code":"USD"`, `}`
		return head + strings.Repeat(" ", size-len(head)-len(tail)) + tail
	}
	before := env.Count("customer", `SELECT count(*) FROM customers`)
	st, hdr, body = env.Do(http.MethodPost, "/v1/customers", padded(1<<20+1024), env.Bearer(customersWrite))
	if st != http.StatusRequestEntityTooLarge {
		t.Errorf("body over 1 MiB: %d, want 413: %.500s", st, body)
	} else if p := harness.DecodeProblem(t, st, hdr, body); p.Reason != "PAYLOAD_TOO_LARGE" {
		t.Errorf("body over 1 MiB: reason %s, want PAYLOAD_TOO_LARGE", p.Reason)
	}
	if n := env.Count("customer", `SELECT count(*) FROM customers`); n != before {
		t.Errorf("body over 1 MiB: %d customers, want %d (nothing written)", n, before)
	}
	st, _, body = env.Do(http.MethodPost, "/v1/customers", padded(1<<20-1024), env.Bearer(customersWrite))
	if st != http.StatusCreated {
		t.Errorf("body just under 1 MiB: %d, want 201: %.500s", st, body)
	}
}
