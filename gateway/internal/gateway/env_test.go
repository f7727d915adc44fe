package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/accrue/accrue/gateway/internal/webhook"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/idempotency"
	"github.com/accrue/accrue/internal/platform/logging"
	"github.com/accrue/accrue/internal/platform/metrics"
	"github.com/accrue/accrue/internal/platform/redistest"
)

// closedAddr is an upstream address nothing listens on.
const closedAddr = "127.0.0.1:1"

// testEnv is a gateway in front of a fake project service (every other upstream is down), with a
// real Redis namespace and a development signing key. Webhook secrets: the Salesforce route knows
// the sources "salesforce" and "acme", the T&E route the source "tne"; each route has its own
// token with exactly its scopes.
type testEnv struct {
	t       *testing.T
	g       *Gateway
	key     []byte
	project *fakeProject
	logs    *syncBuffer
	secrets map[webhook.Binding][]byte
}

var testSecrets = map[webhook.Binding][]byte{
	{Route: "salesforce.opportunities", Source: "salesforce"}: []byte("salesforce-secret-0123456789"),
	{Route: "salesforce.opportunities", Source: "acme"}:       []byte("acme-crm-secret-0123456789"),
	{Route: "timeexpense.approved", Source: "tne"}:            []byte("tne-secret-for-approved-entries"),
}

func newTestEnv(t *testing.T, change func(*Options)) *testEnv {
	t.Helper()
	priv, jwks, err := auth.GenerateDevKey()
	if err != nil {
		t.Fatal(err)
	}
	jwksFile := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(jwksFile, jwks, 0o600); err != nil {
		t.Fatal(err)
	}
	verifier, err := auth.NewVerifier(context.Background(), auth.Config{Issuer: testIssuer, Audience: testAudience, JWKSFile: jwksFile})
	if err != nil {
		t.Fatal(err)
	}
	rdb, prefix := redistest.New(t)
	e := &testEnv{t: t, key: priv, logs: &syncBuffer{}, secrets: testSecrets}
	e.project = &fakeProject{verifier: verifier}
	upstreams := map[string]string{}
	for _, s := range Services {
		upstreams[s] = closedAddr
	}
	upstreams["project"] = e.project.serve(t)
	secrets := webhook.Secrets{}
	for b, s := range testSecrets {
		secrets[b] = [][]byte{s}
	}
	opts := Options{Upstreams: upstreams, Verifier: verifier, Logger: logging.New(e.logs, "gateway", "debug"), Redis: rdb,
		Webhooks: webhook.Config{Secrets: secrets, KeyPrefix: prefix},
		WebhookTokens: map[string]grpcx.TokenSource{
			"salesforce.opportunities": staticToken(e.token("gw-salesforce", "projects:write")),
			"timeexpense.approved":     staticToken(e.token("gw-tne", "time:approve")),
		}}
	if change != nil {
		change(&opts)
	}
	g, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	e.g = g
	return e
}

const (
	testIssuer   = "https://auth.accrue.local"
	testAudience = "accrue"
)

// token signs a token for subject with scopes.
func (e *testEnv) token(subject string, scopes ...string) string {
	e.t.Helper()
	tok, err := auth.SignToken(e.key, auth.TokenRequest{Issuer: testIssuer, Audience: testAudience, Subject: subject, Scopes: scopes, TTL: time.Hour,
		LegalEntities: []string{auth.AllLegalEntities}})
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// do serves one request through the gateway's public handler.
func (e *testEnv) do(method, path string, body []byte, headers map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.g.Handler().ServeHTTP(rec, req)
	return rec
}

// deliver posts body to path signed now with secret.
func (e *testEnv) deliver(path string, secret, body []byte) *httptest.ResponseRecorder {
	return e.do(http.MethodPost, path, body, map[string]string{webhook.SignatureHeader: webhook.Sign(secret, time.Now(), body)})
}

// closedWon returns the Salesforce closed-won example with a fresh event id.
func closedWon(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../../docs/examples/salesforce-closed-won.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	ev["event"].(map[string]any)["EventUuid"] = uuid.NewString()
	out, _ := json.Marshal(ev)
	return out
}

// problemOf decodes a problem document.
func problemOf(t *testing.T, rec *httptest.ResponseRecorder) Problem {
	t.Helper()
	var p Problem
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json (status %d: %s)", ct, rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem: %v: %s", err, rec.Body)
	}
	return p
}

type staticToken string

func (s staticToken) Token(context.Context) (string, error) { return string(s), nil }

// fakeProject is the project service as far as the webhooks see it: it records every
// conversion with the principal of the token it came with.
type fakeProject struct {
	projectv1.UnimplementedProjectServiceServer
	verifier *auth.Verifier
	// block makes ConvertOpportunity wait for the caller's deadline (5 s at most).
	block atomic.Bool

	mu    sync.Mutex
	calls []call
}

type call struct {
	principal   auth.Principal
	hasDeadline bool
	// idempotencyKeys are the idempotency-key metadata values the call came with.
	idempotencyKeys []string
}

func (f *fakeProject) serve(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	projectv1.RegisterProjectServiceServer(srv, f)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func (f *fakeProject) ConvertOpportunity(ctx context.Context, req *projectv1.ConvertOpportunityRequest) (*projectv1.ConvertOpportunityResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	var p auth.Principal
	if v := md.Get("authorization"); len(v) > 0 {
		p, _ = f.verifier.Verify(ctx, auth.BearerToken(v[0]))
	}
	_, hasDeadline := ctx.Deadline()
	f.mu.Lock()
	f.calls = append(f.calls, call{principal: p, hasDeadline: hasDeadline, idempotencyKeys: md.Get(idempotency.MetadataKey)})
	f.mu.Unlock()
	if f.block.Load() {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Second): // a caller without a deadline would wait forever
		}
	}
	return &projectv1.ConvertOpportunityResponse{Outcome: projectv1.ConversionOutcome_CONVERSION_OUTCOME_CREATED}, nil
}

func (f *fakeProject) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// lines returns the log lines containing all of words.
func (s *syncBuffer) lines(words ...string) []string {
	var out []string
	for _, l := range strings.Split(s.String(), "\n") {
		ok := l != ""
		for _, w := range words {
			ok = ok && strings.Contains(l, w)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

// scrape returns the gateway's metrics page, as the admin listener serves it.
func scrape(g *Gateway) string {
	rec := httptest.NewRecorder()
	metrics.Handler(g.registry).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return rec.Body.String()
}

// grepLines returns the lines of text containing word.
func grepLines(text, word string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
