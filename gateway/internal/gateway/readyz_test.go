package gateway

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/test/bufconn"

	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/redistest"
)

// degradedHealth answers health checks SERVING, with a degraded reason when it has one.
type degradedHealth struct {
	*health.Server
	reason string
}

func (h degradedHealth) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	if h.reason != "" {
		_ = grpc.SetHeader(ctx, metadata.Pairs(grpcx.DegradedHeader, h.reason))
	}
	return h.Server.Check(ctx, req)
}

func healthConn(t *testing.T, reason string) *grpc.ClientConn {
	t.Helper()
	lis := bufconn.Listen(1 << 16)
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, degradedHealth{Server: health.NewServer(), reason: reason})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet", grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func TestReadyzShowsADegradedServiceAndItsReason(t *testing.T) {
	t.Parallel()
	rdb, _ := redistest.New(t)
	const why = "outbox: re-publishing events Redis lost on billing.events (120 of 1693 left)"
	healthy := healthConn(t, "")
	g := &Gateway{opts: Options{Redis: rdb}, conns: map[string]*grpc.ClientConn{}}
	for _, s := range Services {
		g.conns[s] = healthy
	}
	g.conns["billing"] = healthConn(t, why)

	w := httptest.NewRecorder()
	g.readyz(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	var body struct {
		Ready    bool              `json:"ready"`
		Status   string            `json:"status"`
		Services map[string]string `json:"services"`
		Degraded map[string]string `json:"degraded"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	// Still ready (a degraded service serves and stays in rotation), but it says why.
	if w.Code != http.StatusOK || !body.Ready || body.Status != "degraded" || body.Services["billing"] != "SERVING" ||
		body.Degraded["billing"] != why || len(body.Degraded) != 1 {
		t.Fatalf("readyz = %d %+v; want 200, ready, status degraded, billing's reason", w.Code, body)
	}

	g.conns["billing"] = healthy
	w = httptest.NewRecorder()
	g.readyz(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body.Status != "ready" {
		t.Fatalf("readyz once repaired: %+v", body)
	}
}

// With ACCRUE_DISPATCHER_ADDR set the gateway has a dispatcher connection, and /readyz checks it
// like the services: listed, and not ready while it does not serve. Without one it is not listed.
func TestReadyzIncludesTheDispatcherWhenConfigured(t *testing.T) {
	t.Parallel()
	rdb, _ := redistest.New(t)
	healthy := healthConn(t, "")
	g := &Gateway{opts: Options{Redis: rdb}, conns: map[string]*grpc.ClientConn{}}
	for _, s := range Services {
		g.conns[s] = healthy
	}
	type body struct {
		Ready    bool              `json:"ready"`
		Status   string            `json:"status"`
		Services map[string]string `json:"services"`
	}
	get := func() (int, body) {
		w := httptest.NewRecorder()
		g.readyz(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		var b body
		if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil {
			t.Fatal(err)
		}
		return w.Code, b
	}

	if code, b := get(); code != http.StatusOK || !b.Ready || len(b.Services) != len(Services)+1 {
		t.Fatalf("no dispatcher configured: readyz = %d %+v; want 200, the five services and redis", code, b)
	} else if _, listed := b.Services[Dispatcher]; listed {
		t.Fatalf("no dispatcher configured, but readyz lists it: %+v", b)
	}

	g.conns[Dispatcher] = healthConn(t, "")
	if code, b := get(); code != http.StatusOK || !b.Ready || b.Services[Dispatcher] != "SERVING" {
		t.Fatalf("dispatcher serving: readyz = %d %+v; want 200 with dispatcher SERVING", code, b)
	}

	// A dispatcher that does not serve (here: its health server says NOT_SERVING).
	lis := bufconn.Listen(1 << 16)
	srv := grpc.NewServer()
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	down, err := grpc.NewClient("passthrough:///bufnet", grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = down.Close() })
	g.conns[Dispatcher] = down
	if code, b := get(); code != http.StatusServiceUnavailable || b.Ready || b.Status != "not_ready" || b.Services[Dispatcher] != "NOT_SERVING" || b.Services["billing"] != "SERVING" {
		t.Fatalf("dispatcher not serving: readyz = %d %+v; want 503, not_ready, dispatcher NOT_SERVING", code, b)
	}
}
