package lifecycle_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/accrue/accrue/internal/platform/lifecycle"
)

func TestRunStopsEverythingOnFirstFailure(t *testing.T) {
	t.Parallel()
	boom := errors.New("relay lost its database")
	var stopped atomic.Int64
	waiter := lifecycle.Func(func(ctx context.Context) error {
		<-ctx.Done()
		stopped.Add(1)
		return nil
	})
	err := lifecycle.Run(context.Background(), waiter, waiter, lifecycle.Func(func(context.Context) error { return boom }))
	if !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want the failure", err)
	}
	if stopped.Load() != 2 {
		t.Fatalf("%d of 2 parts stopped", stopped.Load())
	}
}

func TestEveryRunsUntilCancelled(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- lifecycle.Every(5*time.Millisecond, func(context.Context) { n.Add(1) }).Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for n.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatal("Every did not run 3 times within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Every = %v", err)
	}
}

func TestGRPCServesAndShutsDown(t *testing.T) {
	t.Parallel()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()

	srv := grpc.NewServer()
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- lifecycle.GRPC{Server: srv, Health: hs, Addr: addr, Grace: time.Second}.Run(ctx) }()

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		cctx, ccancel := context.WithTimeout(context.Background(), time.Second)
		resp, err := healthpb.NewHealthClient(conn).Check(cctx, &healthpb.HealthCheckRequest{})
		ccancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not serving: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("GRPC.Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("GRPC.Run did not return after cancellation")
	}
	if err := (lifecycle.GRPC{Server: grpc.NewServer(), Addr: "256.0.0.1:1"}).Run(context.Background()); err == nil {
		t.Fatal("GRPC.Run on an impossible address succeeded")
	}
}

func TestServeHTTPServesUntilCancelledThenShutsDown(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	srv := &http.Server{Addr: addr, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- lifecycle.ServeHTTP(ctx, srv, time.Second) }()

	var resp *http.Response
	for deadline := time.Now().Add(5 * time.Second); ; {
		if resp, err = http.Get("http://" + addr); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "ok" {
		t.Fatalf("body = %q", body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("ServeHTTP after cancel = %v, want nil", err)
	}
	if _, err := http.Get("http://" + addr); err == nil {
		t.Fatal("the server still answers after shutdown")
	}
	if err := lifecycle.ServeHTTP(context.Background(), &http.Server{Addr: "256.0.0.1:1"}, time.Second); err == nil {
		t.Fatal("ServeHTTP on an impossible address succeeded")
	}
}
