package service

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/accrue/accrue/internal/platform/config"
	"github.com/accrue/accrue/internal/platform/lifecycle"
	"github.com/accrue/accrue/internal/platform/tlsx"
)

// LivenessService is the health service name that reports SERVING while the gRPC server runs,
// whatever Postgres and Redis do: liveness probes ask for it, so an outage of a dependency
// makes a service unready (the "" service) without getting it restarted.
const LivenessService = "liveness"

// Healthcheck asks the gRPC health service at addr (a listen address such as ":7001"; an
// unspecified host means this machine) whether service is SERVING. It backs `<svc> healthcheck`,
// the container image's HEALTHCHECK, which has no shell or probe binary to call.
// With tlsCfg (the process's client configuration) it connects with mutual TLS.
func Healthcheck(ctx context.Context, addr, service string, tlsCfg *tls.Config) error {
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
	creds := grpc.WithTransportCredentials(insecure.NewCredentials())
	if tlsCfg != nil {
		creds = grpc.WithTransportCredentials(credentials.NewTLS(tlsCfg))
	}
	conn, err := grpc.NewClient(net.JoinHostPort(host, port), creds)
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

// healthcheckTLS is the client TLS configuration of `<svc> healthcheck`: the process's own
// certificate (ACCRUE_TLS_*), or nil when none is configured. The certificate names the
// service, not the loopback address the probe dials, so only the chain is verified.
func healthcheckTLS() *tls.Config {
	r := config.FromEnv()
	f := tlsx.Files{CertFile: r.String("ACCRUE_TLS_CERT_FILE", ""), KeyFile: r.String("ACCRUE_TLS_KEY_FILE", ""),
		CAFile: r.String("ACCRUE_TLS_CA_FILE", "")}
	if !f.Set() {
		return nil
	}
	rl, err := tlsx.NewReloader(f)
	if err != nil {
		return nil
	}
	cfg := rl.ClientConfig()
	verify := cfg.VerifyConnection
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		cs.ServerName = "" // the probe dials its own process on the loopback address
		return verify(cs)
	}
	return cfg
}

// readiness reports SERVING while Postgres and Redis answer. A broker loss being repaired keeps
// the service SERVING (it works) but degraded, with the reason (see Readiness).
func (b *Base) readiness(ctx context.Context) error {
	check := func(ctx context.Context) {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		st := healthpb.HealthCheckResponse_SERVING
		if err := b.Pool.Ping(cctx); err != nil {
			st = healthpb.HealthCheckResponse_NOT_SERVING
			b.Log.WarnContext(ctx, "readiness: postgres unreachable", "err", err)
		} else if err := b.Redis.Ping(cctx).Err(); err != nil {
			st = healthpb.HealthCheckResponse_NOT_SERVING
			b.Log.WarnContext(ctx, "readiness: redis unreachable", "err", err)
		}
		if ctx.Err() == nil {
			b.Health.SetServingStatus("", st)
		}
	}
	check(ctx)
	return lifecycle.Every(2*time.Second, check).Run(ctx)
}
