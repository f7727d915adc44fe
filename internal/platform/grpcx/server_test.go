package grpcx_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/pgtest"
)

const (
	testIssuer   = "https://auth.accrue.test"
	testAudience = "accrue"
)

// fixture is an in-process gRPC server of the "billing" service with the real platform
// interceptor chain and the ops ExceptionService, reached over bufconn.
type fixture struct {
	lis    *bufconn.Listener
	conn   *grpc.ClientConn
	client opsv1.ExceptionServiceClient
	health *health.Server
	ready  *grpcx.Readiness
	queue  *exceptions.Queue
	key    []byte
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newFixture starts a server; register (optional) replaces the real ExceptionService.
func newFixture(t *testing.T, register func(*grpc.Server, *exceptions.Queue)) *fixture {
	t.Helper()
	db := pgtest.New(t, nil)
	priv, jwks, err := auth.GenerateDevKey()
	if err != nil {
		t.Fatal(err)
	}
	jwksPath := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(jwksPath, jwks, 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(context.Background(), auth.Config{Issuer: testIssuer, Audience: testAudience, JWKSFile: jwksPath})
	if err != nil {
		t.Fatal(err)
	}
	ready := &grpcx.Readiness{}
	srv, hs, err := grpcx.NewServer(grpcx.ServerConfig{Verifier: v, Pool: db.Pool, Logger: quietLogger(), Readiness: ready})
	if err != nil {
		t.Fatal(err)
	}
	queue := exceptions.NewQueue(db.Pool, quietLogger())
	if register == nil {
		opsv1.RegisterExceptionServiceServer(srv, exceptions.NewServer(queue, "billing"))
	} else {
		register(srv, queue)
	}
	lis := bufconn.Listen(1 << 20)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	conn, err := grpcx.Dial("passthrough:///bufnet", nil,
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &fixture{lis: lis, conn: conn, client: opsv1.NewExceptionServiceClient(conn), health: hs, ready: ready, queue: queue, key: priv}
}

func (f *fixture) token(t *testing.T, subject string, ttl time.Duration, scopes ...string) string {
	t.Helper()
	tok, err := auth.SignToken(f.key, auth.TokenRequest{Issuer: testIssuer, Audience: testAudience,
		Subject: subject, Scopes: scopes, TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func withToken(ctx context.Context, tok string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
}

func ctxTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// wantStatus asserts code and reason and returns the status details.
func wantStatus(t *testing.T, err error, code codes.Code, reason string) *status.Status {
	t.Helper()
	if err == nil {
		t.Fatalf("call succeeded, want %v/%s", code, reason)
	}
	st := status.Convert(err)
	if st.Code() != code || grpcx.ReasonOf(err) != reason {
		t.Fatalf("status = %v/%q (%s), want %v/%s", st.Code(), grpcx.ReasonOf(err), st.Message(), code, reason)
	}
	return st
}

func TestServerRequiresToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	var hdr metadata.MD
	_, err := f.client.ListExceptions(ctxTimeout(t), &opsv1.ListExceptionsRequest{Service: "billing"}, grpc.Header(&hdr))
	wantStatus(t, err, codes.Unauthenticated, auth.ReasonTokenMissing)
	_, info, _ := details(t, err)
	if cid := first(hdr.Get(correlation.MetadataKey)); cid == "" || info.GetMetadata()["correlation_id"] != cid {
		t.Errorf("error correlation id %q does not match response header %q", info.GetMetadata()["correlation_id"], cid)
	}

	_, err = f.client.ListExceptions(withToken(ctxTimeout(t), "not.a.token"), &opsv1.ListExceptionsRequest{Service: "billing"})
	wantStatus(t, err, codes.Unauthenticated, auth.ReasonTokenInvalid)

	expired := f.token(t, "svc-ops", -2*time.Minute, "ops:read")
	_, err = f.client.ListExceptions(withToken(ctxTimeout(t), expired), &opsv1.ListExceptionsRequest{Service: "billing"})
	wantStatus(t, err, codes.Unauthenticated, auth.ReasonTokenExpired)
}

func TestServerEnforcesScope(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	if _, err := f.queue.Record(context.Background(), nil, exceptions.New{Kind: "invoice.tax", Reason: "TAX_PROFILE_MISSING", EntityID: "inv-1"}); err != nil {
		t.Fatal(err)
	}

	writeOnly := withToken(ctxTimeout(t), f.token(t, "svc-ops", time.Hour, "ops:write"))
	_, err := f.client.ListExceptions(writeOnly, &opsv1.ListExceptionsRequest{Service: "billing"})
	wantStatus(t, err, codes.PermissionDenied, auth.ReasonScopeMissing)
	if _, info, _ := details(t, err); info.GetMetadata()["required_scope"] != "ops:read" {
		t.Errorf("metadata = %v, want required_scope ops:read", info.GetMetadata())
	}

	reader := withToken(ctxTimeout(t), f.token(t, "svc-ops", time.Hour, "ops:read"))
	resp, err := f.client.ListExceptions(reader, &opsv1.ListExceptionsRequest{Service: "billing"})
	if err != nil {
		t.Fatalf("ListExceptions with ops:read: %v", err)
	}
	if len(resp.GetExceptions()) != 1 || resp.GetExceptions()[0].GetReason() != "TAX_PROFILE_MISSING" {
		t.Fatalf("exceptions = %v, want the one recorded", resp.GetExceptions())
	}

	// ops:read does not allow writes.
	_, err = f.client.ResolveException(reader, &opsv1.ResolveExceptionRequest{Service: "billing",
		ExceptionId: resp.GetExceptions()[0].GetExceptionId(), Note: "fixed"})
	wantStatus(t, err, codes.PermissionDenied, auth.ReasonScopeMissing)
	if e, _ := f.queue.Get(context.Background(), resp.GetExceptions()[0].GetExceptionId()); e.Status != exceptions.StatusOpen {
		t.Fatalf("exception %s after a refused resolve, want OPEN", e.Status)
	}

	// With ops:write the resolve goes through and names the caller.
	writer := withToken(ctxTimeout(t), f.token(t, "alice-ops", time.Hour, "ops:read", "ops:write"))
	res, err := f.client.ResolveException(writer, &opsv1.ResolveExceptionRequest{Service: "billing",
		ExceptionId: resp.GetExceptions()[0].GetExceptionId(), Note: "tax profile added"})
	if err != nil {
		t.Fatalf("ResolveException: %v", err)
	}
	if e := res.GetException(); e.GetStatus() != opsv1.ExceptionStatus_EXCEPTION_STATUS_RESOLVED ||
		e.GetResolvedBy() != "alice-ops" || e.GetResolutionNote() != "tax profile added" {
		t.Fatalf("resolved exception = %v", e)
	}
}

func TestServerValidatesRequests(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx := withToken(ctxTimeout(t), f.token(t, "svc-ops", time.Hour, "ops:read", "ops:write"))

	_, err := f.client.GetException(ctx, &opsv1.GetExceptionRequest{Service: "billing", ExceptionId: "12345"})
	wantStatus(t, err, codes.InvalidArgument, grpcx.ReasonValidationFailed)
	_, _, br := details(t, err)
	if len(br.GetFieldViolations()) != 1 || br.GetFieldViolations()[0].GetField() != "exception_id" {
		t.Fatalf("field violations = %v, want exactly exception_id", br.GetFieldViolations())
	}

	_, err = f.client.ResolveException(ctx, &opsv1.ResolveExceptionRequest{Service: "billing", ExceptionId: uuid.NewString()})
	wantStatus(t, err, codes.InvalidArgument, grpcx.ReasonValidationFailed)
	if _, _, br := details(t, err); len(br.GetFieldViolations()) != 1 || br.GetFieldViolations()[0].GetField() != "note" {
		t.Fatalf("field violations = %v, want note", br.GetFieldViolations())
	}

	// Valid request for another service's queue: the domain check refuses it.
	_, err = f.client.GetException(ctx, &opsv1.GetExceptionRequest{Service: "customer", ExceptionId: uuid.NewString()})
	wantStatus(t, err, codes.InvalidArgument, "WRONG_SERVICE")

	_, err = f.client.GetException(ctx, &opsv1.GetExceptionRequest{Service: "billing", ExceptionId: uuid.NewString()})
	wantStatus(t, err, codes.NotFound, exceptions.ReasonNotFound)

	// A recorded exception of a kind nobody can retry.
	id, err := f.queue.Record(context.Background(), nil, exceptions.New{Kind: "manual.only", Reason: "TAX_PROFILE_MISSING"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.client.RetryException(ctx, &opsv1.RetryExceptionRequest{Service: "billing", ExceptionId: id})
	wantStatus(t, err, codes.FailedPrecondition, exceptions.ReasonNoRetryForKind)
}

func TestServerCorrelationID(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	tok := f.token(t, "svc-ops", time.Hour, "ops:read")

	// Incoming id echoed.
	var hdr metadata.MD
	ctx := metadata.AppendToOutgoingContext(withToken(ctxTimeout(t), tok), correlation.MetadataKey, "webhook-7f3a")
	if _, err := f.client.ListExceptions(ctx, &opsv1.ListExceptionsRequest{Service: "billing"}, grpc.Header(&hdr)); err != nil {
		t.Fatal(err)
	}
	if got := hdr.Get(correlation.MetadataKey); len(got) != 1 || got[0] != "webhook-7f3a" {
		t.Errorf("echoed correlation id = %v, want webhook-7f3a", got)
	}

	// Absent: minted (a UUID).
	hdr = nil
	if _, err := f.client.ListExceptions(withToken(ctxTimeout(t), tok), &opsv1.ListExceptionsRequest{Service: "billing"}, grpc.Header(&hdr)); err != nil {
		t.Fatal(err)
	}
	minted := first(hdr.Get(correlation.MetadataKey))
	if _, err := uuid.Parse(minted); err != nil {
		t.Errorf("minted correlation id %q is not a UUID", minted)
	}

	// Malformed (spaces, would forge log lines): replaced, not trusted.
	hdr = nil
	ctx = metadata.AppendToOutgoingContext(withToken(ctxTimeout(t), tok), correlation.MetadataKey, "x\" level=ERROR msg=forged")
	if _, err := f.client.ListExceptions(ctx, &opsv1.ListExceptionsRequest{Service: "billing"}, grpc.Header(&hdr)); err != nil {
		t.Fatal(err)
	}
	if got := first(hdr.Get(correlation.MetadataKey)); strings.Contains(got, "forged") || got == "" {
		t.Errorf("malformed correlation id accepted: %q", got)
	}
}

// staticToken is a grpcx.TokenSource.
type staticToken string

func (s staticToken) Token(context.Context) (string, error) { return string(s), nil }

func TestDialPropagatesTokenAndCorrelation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	// A service calling another with its own credentials, under the request's correlation id.
	conn, err := grpcx.Dial("passthrough:///bufnet", staticToken(f.token(t, "svc-project", time.Hour, "ops:read")),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return f.lis.DialContext(ctx) }))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var hdr metadata.MD
	ctx := correlation.With(ctxTimeout(t), "corr-from-gateway")
	_, err = opsv1.NewExceptionServiceClient(conn).ListExceptions(ctx, &opsv1.ListExceptionsRequest{Service: "billing"}, grpc.Header(&hdr))
	if err != nil {
		t.Fatalf("call with the service's own token: %v", err)
	}
	if got := first(hdr.Get(correlation.MetadataKey)); got != "corr-from-gateway" {
		t.Errorf("server saw correlation id %q, want corr-from-gateway", got)
	}

	// Incoming trace headers are propagated; the caller's token is not relayed implicitly.
	in := metadata.NewIncomingContext(ctx, metadata.Pairs("traceparent", "00-abc-def-01", "authorization", "Bearer caller-token"))
	md, _ := metadata.FromOutgoingContext(grpcx.OutgoingContext(in))
	if first(md.Get(correlation.MetadataKey)) != "corr-from-gateway" || first(md.Get("traceparent")) != "00-abc-def-01" {
		t.Errorf("outgoing metadata = %v", md)
	}
	if len(md.Get("authorization")) != 0 {
		t.Errorf("the caller's token was relayed: %v", md.Get("authorization"))
	}
}

func TestHealthNeedsNoToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	hc := healthpb.NewHealthClient(f.conn)
	resp, err := hc.Check(ctxTimeout(t), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatalf("health check without a token: %v", err)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("status before readiness = %v, want NOT_SERVING", resp.GetStatus())
	}
	f.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	resp, err = hc.Check(ctxTimeout(t), &healthpb.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("status = %v, %v; want SERVING", resp.GetStatus(), err)
	}
}

func TestHealthCheckSaysWhyTheServiceIsDegraded(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hc := healthpb.NewHealthClient(f.conn)
	check := func() (healthpb.HealthCheckResponse_ServingStatus, []string) {
		t.Helper()
		var md metadata.MD
		resp, err := hc.Check(ctxTimeout(t), &healthpb.HealthCheckRequest{}, grpc.Header(&md))
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetStatus(), md.Get(grpcx.DegradedHeader)
	}
	if st, why := check(); st != healthpb.HealthCheckResponse_SERVING || len(why) != 0 {
		t.Fatalf("healthy: %v %q", st, why)
	}
	const reason = "outbox: re-publishing events Redis lost on billing.events (120 of 1693 left)"
	f.ready.Degrade("outbox", reason)
	// Still serving (it works, and must stay in rotation), but it says what it is repairing.
	if st, why := check(); st != healthpb.HealthCheckResponse_SERVING || len(why) != 1 || why[0] != reason {
		t.Fatalf("degraded: %v %q, want SERVING and %q", st, why, reason)
	}
	f.ready.Degrade("outbox", "")
	if _, why := check(); len(why) != 0 {
		t.Fatalf("repaired: still degraded %q", why)
	}
}

// panicking is an ExceptionService whose GetException panics.
type panicking struct {
	opsv1.UnimplementedExceptionServiceServer
}

func (panicking) GetException(context.Context, *opsv1.GetExceptionRequest) (*opsv1.GetExceptionResponse, error) {
	var m map[string]int
	m["boom"]++ // nil map write: a bug in a handler
	return nil, nil
}

func TestServerRecoversPanicsWithCorrelationID(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(s *grpc.Server, _ *exceptions.Queue) { opsv1.RegisterExceptionServiceServer(s, panicking{}) })
	ctx := withToken(ctxTimeout(t), f.token(t, "svc-ops", time.Hour, "ops:read"))
	var hdr metadata.MD
	_, err := f.client.GetException(ctx, &opsv1.GetExceptionRequest{Service: "billing", ExceptionId: uuid.NewString()}, grpc.Header(&hdr))
	st := wantStatus(t, err, codes.Internal, grpcx.ReasonInternal)
	if strings.Contains(st.Message(), "nil map") || strings.Contains(st.Message(), "panic") {
		t.Errorf("panic detail leaked: %q", st.Message())
	}
	cid := first(hdr.Get(correlation.MetadataKey))
	_, info, _ := details(t, err)
	if cid == "" || info.GetMetadata()["correlation_id"] != cid || !strings.Contains(st.Message(), cid) {
		t.Errorf("panic response does not carry the request's correlation id %q: message %q, metadata %v",
			cid, st.Message(), info.GetMetadata())
	}
	// The server survives.
	if _, err := healthpb.NewHealthClient(f.conn).Check(ctxTimeout(t), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatalf("server down after a panic: %v", err)
	}
}

func TestNewServerRequiresDependencies(t *testing.T) {
	t.Parallel()
	if _, _, err := grpcx.NewServer(grpcx.ServerConfig{Logger: quietLogger()}); err == nil {
		t.Fatal("NewServer started without a verifier and a pool")
	}
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
