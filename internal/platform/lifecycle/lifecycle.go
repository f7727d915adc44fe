// Package lifecycle runs a service's long-lived parts (gRPC server, relay, consumers, metrics
// endpoint, ...) together: they start together, the first failure stops all of them, and a
// cancelled context (SIGINT/SIGTERM in main) shuts everything down gracefully.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Runner is a long-lived part: Run blocks until ctx is cancelled or the part fails.
type Runner interface {
	Run(ctx context.Context) error
}

// Func adapts a function to Runner.
type Func func(ctx context.Context) error

// Run implements Runner.
func (f Func) Run(ctx context.Context) error { return f(ctx) }

// Run runs every runner until ctx is cancelled or one fails, then waits for all to return.
func Run(ctx context.Context, runners ...Runner) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, r := range runners {
		g.Go(func() error { return r.Run(ctx) })
	}
	return g.Wait()
}

// GRPC serves srv on addr. On shutdown it marks the health service NOT_SERVING, lets in-flight
// RPCs finish for up to grace, then stops.
type GRPC struct {
	Server *grpc.Server
	Health *health.Server
	Addr   string
	Grace  time.Duration
}

// Run implements Runner.
func (g GRPC) Run(ctx context.Context) error {
	lis, err := net.Listen("tcp", g.Addr)
	if err != nil {
		return fmt.Errorf("grpc: listen %s: %w", g.Addr, err)
	}
	errc := make(chan error, 1)
	go func() { errc <- g.Server.Serve(lis) }()
	select {
	case err := <-errc:
		if errors.Is(err, grpc.ErrServerStopped) {
			return nil
		}
		return err
	case <-ctx.Done():
	}
	if g.Health != nil {
		g.Health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
		g.Health.Shutdown()
	}
	grace := g.Grace
	if grace == 0 {
		grace = 10 * time.Second
	}
	done := make(chan struct{})
	go func() { g.Server.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		g.Server.Stop()
	}
	return nil
}

// ServeHTTP serves srv until ctx is cancelled, then shuts it down, giving requests in flight up
// to grace to finish.
func ServeHTTP(ctx context.Context, srv *http.Server, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Every runs fn every interval until ctx is cancelled (errors are the caller's to log).
func Every(interval time.Duration, fn func(ctx context.Context)) Runner {
	return Func(func(ctx context.Context) error {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
				fn(ctx)
			}
		}
	})
}
