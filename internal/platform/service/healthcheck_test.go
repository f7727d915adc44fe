package service_test

import (
	"context"
	"net"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/accrue/accrue/internal/platform/service"
)

func TestHealthcheckFollowsTheServingStatus(t *testing.T) {
	t.Parallel()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	// A listen address with an unspecified host, as the images set it, is probed on loopback.
	_, port, _ := net.SplitHostPort(lis.Addr().String())
	addr := ":" + port
	ctx := context.Background()

	hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	hs.SetServingStatus(service.LivenessService, healthpb.HealthCheckResponse_SERVING)
	if err := service.Healthcheck(ctx, addr, "", nil); err == nil || !strings.Contains(err.Error(), "NOT_SERVING") {
		t.Errorf("not ready: err = %v, want NOT_SERVING", err)
	}
	if err := service.Healthcheck(ctx, addr, service.LivenessService, nil); err != nil {
		t.Errorf("liveness: %v", err)
	}
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	if err := service.Healthcheck(ctx, "0.0.0.0:"+port, "", nil); err != nil {
		t.Errorf("ready: %v", err)
	}
	if err := service.Healthcheck(ctx, "", "", nil); err == nil {
		t.Error("no address accepted")
	}
}

func TestVersionWithoutLdflags(t *testing.T) {
	t.Parallel()
	if v, c := service.Version(); v != "dev" || c == "" {
		t.Errorf("Version() = %q, %q; want dev and a commit or unknown", v, c)
	}
}
