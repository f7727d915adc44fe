// Command gateway serves Accrue's REST API (grpc-gateway over the five services' gRPC APIs),
// health, readiness, metrics and the OpenAPI document.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/accrue/accrue/gateway/internal/gateway"
	"github.com/accrue/accrue/gateway/internal/translate"
	"github.com/accrue/accrue/gateway/internal/webhook"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/config"
	"github.com/accrue/accrue/internal/platform/logging"
	"github.com/accrue/accrue/internal/platform/redisx"
	"github.com/accrue/accrue/internal/platform/service"
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
	redisAddr := r.String("ACCRUE_REDIS_ADDR", "127.0.0.1:6379")
	prefix := r.String("ACCRUE_STREAM_PREFIX", "")
	secrets, err := webhookSecrets(r.String("ACCRUE_WEBHOOK_SECRETS", ""), r.String("ACCRUE_WEBHOOK_SECRETS_FILE", ""))
	if err != nil {
		r.Fail(err)
	}
	tolerance := r.Duration("ACCRUE_WEBHOOK_TOLERANCE", 300*time.Second)
	sfMappings, err := translate.LoadSalesforceMappings(r.String("ACCRUE_SALESFORCE_MAPPING", ""))
	if err != nil {
		r.Fail(fmt.Errorf("ACCRUE_SALESFORCE_MAPPING: %w", err))
	}
	svc := service.Config{ServiceTokenFile: r.String("ACCRUE_SERVICE_TOKEN_FILE", ""),
		OAuthTokenURL: r.String("ACCRUE_OAUTH_TOKEN_URL", ""), OAuthClientID: r.String("ACCRUE_OAUTH_CLIENT_ID", ""),
		OAuthClientSecret: r.String("ACCRUE_OAUTH_CLIENT_SECRET", ""), Auth: authCfg}
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
	rdb, err := redisx.Connect(ctx, redisAddr)
	if err != nil {
		return err
	}
	defer rdb.Close()
	g, err := gateway.New(ctx, gateway.Options{Upstreams: upstreams, Verifier: verifier, Logger: log,
		MaxBodyBytes: maxBody, UpstreamTimeout: timeout, Redis: rdb, Salesforce: sfMappings,
		Webhooks: webhook.Config{Secrets: secrets, Tolerance: tolerance, MaxBody: maxBody, KeyPrefix: prefix, Token: svc.TokenSource()}})
	if err != nil {
		return err
	}
	return g.Run(ctx, addr)
}

// webhookSecrets reads "source=secret" pairs, separated by commas (inline) or newlines (file).
// A source may appear twice during a secret rotation.
func webhookSecrets(inline, file string) (map[string][][]byte, error) {
	text := inline
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("ACCRUE_WEBHOOK_SECRETS_FILE: %w", err)
		}
		text += "\n" + string(b)
	}
	out := map[string][][]byte{}
	for _, line := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == '\n' }) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		src, secret, ok := strings.Cut(line, "=")
		if !ok || src == "" || len(secret) < 16 {
			return nil, fmt.Errorf("webhook secrets: want source=secret with a secret of at least 16 characters, got %q", src)
		}
		out[strings.TrimSpace(src)] = append(out[strings.TrimSpace(src)], []byte(strings.TrimSpace(secret)))
	}
	return out, nil
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
