// Command gateway serves Accrue's REST API (grpc-gateway over the five services' gRPC APIs),
// health, readiness, metrics and the OpenAPI document.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/accrue/accrue/gateway/internal/gateway"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/config"
	"github.com/accrue/accrue/internal/platform/logging"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	r := config.FromEnv()
	addr := r.String("ACCRUE_HTTP_ADDR", "127.0.0.1:8080")
	upstreams := map[string]string{}
	defaults := map[string]string{"customer": "127.0.0.1:7001", "project": "127.0.0.1:7002",
		"resource": "127.0.0.1:7003", "timeexpense": "127.0.0.1:7004", "billing": "127.0.0.1:7005"}
	for _, s := range gateway.Services {
		upstreams[s] = r.String("ACCRUE_"+upper(s)+"_ADDR", defaults[s])
	}
	authCfg := auth.Config{
		Issuer:   r.String("ACCRUE_JWT_ISSUER", "https://auth.accrue.local"),
		Audience: r.String("ACCRUE_JWT_AUDIENCE", "accrue"),
		JWKSFile: r.String("ACCRUE_JWKS_FILE", ""),
		JWKSURL:  r.String("ACCRUE_JWKS_URL", ""),
	}
	if err := authCfg.Validate(); err != nil {
		r.Fail(err)
	}
	maxBody := int64(r.Int("ACCRUE_MAX_BODY_BYTES", 1<<20))
	timeout := r.Duration("ACCRUE_UPSTREAM_TIMEOUT", 0)
	level := r.OneOf("ACCRUE_LOG_LEVEL", "info", "debug", "info", "warn", "error")
	if err := r.Err(); err != nil {
		return err
	}
	log := logging.New(os.Stdout, "gateway", level)
	verifier, err := auth.NewVerifier(ctx, authCfg)
	if err != nil {
		return err
	}
	g, err := gateway.New(ctx, gateway.Options{Upstreams: upstreams, Verifier: verifier, Logger: log,
		MaxBodyBytes: maxBody, UpstreamTimeout: timeout})
	if err != nil {
		return err
	}
	return g.Run(ctx, addr)
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}
