package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// LivenessService is the health service name that reports SERVING while the gRPC server runs,
// whatever Postgres and Redis do: liveness probes ask for it, so an outage of a dependency
// makes a service unready (the "" service) without getting it restarted.
const LivenessService = "liveness"

// Healthcheck asks the gRPC health service at addr (a listen address such as ":7001"; an
// unspecified host means this machine) whether service is SERVING. It backs `<svc> healthcheck`,
// the container image's HEALTHCHECK, which has no shell or probe binary to call.
func Healthcheck(ctx context.Context, addr, service string) error {
	if addr == "" {
		return errors.New("healthcheck: no address (set ACCRUE_GRPC_ADDR or pass one)")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("healthcheck: address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	conn, err := grpc.NewClient(net.JoinHostPort(host, port), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", addr, err)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("healthcheck %s: %s", addr, resp.GetStatus())
	}
	return nil
}
