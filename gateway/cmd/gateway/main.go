// Command gateway serves Accrue's REST API (grpc-gateway over the five services' gRPC APIs),
// the webhook receivers, health, readiness and the OpenAPI document, and metrics on a separate
// admin address.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/accrue/accrue/gateway/internal/gateway"
	"github.com/accrue/accrue/gateway/internal/ratelimit"
	"github.com/accrue/accrue/gateway/internal/translate"
	"github.com/accrue/accrue/gateway/internal/webhook"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/config"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/logging"
	"github.com/accrue/accrue/internal/platform/redisx"
	"github.com/accrue/accrue/internal/platform/service"
	"github.com/accrue/accrue/internal/platform/telemetry"
	"github.com/accrue/accrue/internal/platform/tlsx"
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
	adminAddr := r.String("ACCRUE_GATEWAY_ADMIN_ADDR", "127.0.0.1:9100")
	pprof := r.Bool("ACCRUE_PPROF", false)
	upstreams := map[string]string{}
	defaults := map[string]string{"customer": "127.0.0.1:7001", "project": "127.0.0.1:7002",
		"resource": "127.0.0.1:7003", "timeexpense": "127.0.0.1:7004", "billing": "127.0.0.1:7005"}
	for _, s := range gateway.Services {
		upstreams[s] = r.String("ACCRUE_"+upper(s)+"_ADDR", defaults[s])
	}
	// The outbound webhook dispatcher (optional: "" serves no /v1/webhook-subscriptions routes).
	upstreams[gateway.Dispatcher] = r.String("ACCRUE_DISPATCHER_ADDR", "")
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
	tokenDir := r.String("ACCRUE_WEBHOOK_TOKEN_DIR", "")
	sharedToken := r.Bool("ACCRUE_WEBHOOK_SHARED_TOKEN", false)
	timeout := r.Duration("ACCRUE_UPSTREAM_TIMEOUT", 10*time.Second)
	clientLimit := limiter(r, "ACCRUE_RATE_LIMIT_CLIENT", 100, 200)
	webhookLimit := limiter(r, "ACCRUE_RATE_LIMIT_WEBHOOK", 50, 100)
	refusedLimit := limiter(r, "ACCRUE_RATE_LIMIT_WEBHOOK_REFUSED", 5, 20)
	level := r.OneOf("ACCRUE_LOG_LEVEL", "info", "debug", "info", "warn", "error")
	version, _ := service.Version()
	traces := telemetry.Load(r, "gateway", version)
	// Mutual TLS towards the services, and Redis's TLS files (see service.Links).
	links := service.Links{InsecureDev: r.Bool("ACCRUE_INSECURE_DEV", false),
		TLS: tlsx.Files{CertFile: r.String("ACCRUE_TLS_CERT_FILE", ""), KeyFile: r.String("ACCRUE_TLS_KEY_FILE", ""),
			CAFile: r.String("ACCRUE_TLS_CA_FILE", "")},
		Redis: redisx.Options{CAFile: r.String("ACCRUE_REDIS_CA_FILE", ""), CertFile: r.String("ACCRUE_REDIS_CERT_FILE", ""),
			KeyFile: r.String("ACCRUE_REDIS_KEY_FILE", "")}}
	links.Check(r, false)
	if sharedToken && svc.TokenSource() == nil {
		r.Fail(errors.New("ACCRUE_WEBHOOK_SHARED_TOKEN needs ACCRUE_SERVICE_TOKEN_FILE or ACCRUE_OAUTH_TOKEN_URL"))
	}
	if err := r.Err(); err != nil {
		return err
	}
	log := logging.New(os.Stdout, "gateway", level)
	// Tracing before the gateway is built: its handler and upstream connections instrument
	// themselves when it is on. The deferred flush exports what is buffered at shutdown.
	flush, err := telemetry.Setup(ctx, traces)
	if err != nil {
		return err
	}
	defer func() {
		fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := flush(fctx); err != nil {
			log.Warn("tracing: flush on shutdown failed", "err", err)
		}
	}()
	verifier, err := auth.NewVerifier(ctx, authCfg)
	if err != nil {
		return err
	}
	_, upstreamTLS, err := links.TLSConfigs()
	if err != nil {
		return err
	}
	if upstreamTLS == nil {
		log.WarnContext(ctx, "ACCRUE_INSECURE_DEV: the gateway calls the services over plaintext gRPC (development only)")
	}
	rdb, err := redisx.Connect(ctx, redisAddr, links.Redis)
	if err != nil {
		return err
	}
	defer rdb.Close()
	opts := gateway.Options{Upstreams: upstreams, Verifier: verifier, Logger: log,
		MaxBodyBytes: maxBody, UpstreamTimeout: timeout, UpstreamTLS: upstreamTLS, Redis: rdb, ClientLimit: clientLimit, Salesforce: sfMappings,
		AdminAddr: adminAddr, Pprof: pprof, WebhookTokens: webhookTokens(tokenDir, svc),
		Webhooks: webhook.Config{Secrets: secrets, Tolerance: tolerance, MaxBody: maxBody, KeyPrefix: prefix,
			Limit: webhookLimit, RefusedLimit: refusedLimit}}
	if sharedToken {
		opts.SharedWebhookToken = svc.TokenSource()
		log.WarnContext(ctx, "webhook routes without a token of their own call the services with the gateway's shared token "+
			"(ACCRUE_WEBHOOK_SHARED_TOKEN=true): for development only; give each route its own token (ACCRUE_WEBHOOK_TOKEN_DIR)")
	}
	g, err := gateway.New(ctx, opts)
	if err != nil {
		return fmt.Errorf("%w: set ACCRUE_WEBHOOK_TOKEN_DIR (a <route>.jwt per route) or ACCRUE_OAUTH_TOKEN_URL "+
			"(in development only: ACCRUE_WEBHOOK_SHARED_TOKEN=true)", err)
	}
	if tokenDir != "" {
		if err := g.CheckWebhookTokens(ctx); err != nil {
			g.Close()
			return err
		}
	}
	return g.Run(ctx, addr)
}

// limiter reads <prefix>_RPS and <prefix>_BURST: requests per second (0: no limit) and burst.
func limiter(r *config.Reader, prefix string, rps, burst int) *ratelimit.Limiter {
	n, b := r.Int(prefix+"_RPS", rps), r.Int(prefix+"_BURST", burst)
	if n < 0 || b < 0 {
		r.Fail(fmt.Errorf("%s_RPS and %s_BURST must not be negative", prefix, prefix))
	}
	return ratelimit.New(float64(n), b)
}

// webhookTokens are the webhook routes' own credentials: the files <dir>/<route>.jwt, or else
// client-credentials tokens asked for with only the route's scopes. nil when neither is set.
func webhookTokens(dir string, svc service.Config) map[string]grpcx.TokenSource {
	out := map[string]grpcx.TokenSource{}
	for _, route := range gateway.WebhookRoutes() {
		switch {
		case dir != "":
			out[route.Name] = &auth.FileTokenSource{Path: filepath.Join(dir, route.Name+".jwt")}
		case svc.OAuthTokenURL != "":
			out[route.Name] = &auth.ClientCredentials{TokenURL: svc.OAuthTokenURL, ClientID: svc.OAuthClientID,
				ClientSecret: svc.OAuthClientSecret, Audience: svc.Auth.Audience, Scopes: route.Scopes()}
		}
	}
	return out
}

// webhookSecrets reads "<route>/<source>=<secret>" entries: comma separated inline, one per line
// in the file (see webhook.ParseSecrets).
func webhookSecrets(inline, file string) (webhook.Secrets, error) {
	text := inline
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("ACCRUE_WEBHOOK_SECRETS_FILE: %w", err)
		}
		text += "\n" + string(b)
	}
	return webhook.ParseSecrets(text)
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
