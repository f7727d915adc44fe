// Command dispatcher delivers Accrue's domain events to partners' endpoints as signed outbound
// webhooks and serves accrue.webhooks.v1.SubscriptionService (through the gateway:
// /v1/webhook-subscriptions…) and its exception queue (/v1/ops/dispatcher/exceptions). It reads
// every domain stream in its own consumer group (instances scale out), records one delivery per
// subscription and event in its own database (accrue_dispatcher), and posts them with retries,
// per-subject ordering and a circuit breaker per endpoint. `dispatcher migrate` applies the
// migrations and exits.
package main

import (
	"context"
	"fmt"
	"time"

	"github.com/accrue/accrue/gateway/internal/dispatch/app"
	"github.com/accrue/accrue/gateway/internal/dispatch/egress"
	"github.com/accrue/accrue/gateway/internal/dispatch/events"
	"github.com/accrue/accrue/gateway/internal/dispatch/grpcapi"
	"github.com/accrue/accrue/gateway/internal/dispatch/secretbox"
	"github.com/accrue/accrue/gateway/internal/dispatch/store"
	"github.com/accrue/accrue/gateway/internal/dispatch/subscription"
	webhooksv1 "github.com/accrue/accrue/gen/go/accrue/webhooks/v1"
	"github.com/accrue/accrue/internal/platform/catalogue"
	"github.com/accrue/accrue/internal/platform/config"
	"github.com/accrue/accrue/internal/platform/lifecycle"
	"github.com/accrue/accrue/internal/platform/pgstore"
	"github.com/accrue/accrue/internal/platform/service"
	"github.com/accrue/accrue/internal/platform/stream"

	// The contracts whose events can be subscribed to: linking them registers their payloads
	// in the catalogue.
	_ "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	_ "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	_ "github.com/accrue/accrue/gen/go/accrue/project/v1"
	_ "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	_ "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
)

func main() { service.Main(run) }

// Config is the dispatcher's own configuration (besides the common service.Config).
type Config struct {
	// Allow (ACCRUE_WEBHOOK_ALLOW) lists CIDRs, addresses and host names webhooks may reach
	// although they are loopback, link-local or private.
	Allow    string
	Delivery app.DeliveryConfig
}

func run(ctx context.Context, migrateOnly bool) error {
	r := config.FromEnv()
	cfg := service.LoadConfig(r, "dispatcher", service.Defaults{GRPCAddr: "127.0.0.1:7006", MetricsAddr: "127.0.0.1:9106", Database: "accrue_dispatcher"})
	own := Config{Allow: r.String("ACCRUE_WEBHOOK_ALLOW", "")}
	sched, err := subscription.ParseSchedule(r.String("ACCRUE_WEBHOOK_RETRY_SCHEDULE", "30s,2m,10m,30m,1h,2h,4h,8h"))
	if err != nil {
		r.Fail(err)
	}
	timeout := r.Duration("ACCRUE_WEBHOOK_TIMEOUT", 10*time.Second)
	retention := r.Duration("ACCRUE_WEBHOOK_RETENTION", 30*24*time.Hour)
	own.Delivery = app.DeliveryConfig{Schedule: sched, Lease: timeout + r.Duration("ACCRUE_WEBHOOK_LEASE_MARGIN", 20*time.Second),
		Poll: r.Duration("ACCRUE_WEBHOOK_POLL", 250*time.Millisecond), EndpointConcurrency: r.Int("ACCRUE_WEBHOOK_ENDPOINT_CONCURRENCY", 4),
		BreakerFailures: r.Int("ACCRUE_WEBHOOK_BREAKER_FAILURES", 5), BreakerCooldown: r.Duration("ACCRUE_WEBHOOK_BREAKER_COOLDOWN", 30*time.Second)}
	guard, err := egress.NewGuard(own.Allow)
	if err != nil {
		r.Fail(err)
	}
	// Subscription signing secrets are sealed at rest with these keys (AES-256-GCM); empty: stored
	// as they are (docs/configuration.md). Read by the server only: the migration Job has no file.
	keyFile := r.String("ACCRUE_WEBHOOK_SECRET_KEY_FILE", "")
	base, err := service.Boot(ctx, r, cfg, migrateOnly, store.Migrations(), app.Collectors()...)
	if base == nil || err != nil {
		return err
	}
	keys, err := secretbox.Load(keyFile)
	if err != nil {
		return err
	}
	// The dispatcher consumes ops.events itself: announcing its own dead letters there would feed
	// them back to the endpoints failing them (and need its own event key), so it announces none.
	base.Queue.OnOpened(nil)
	st := store.New(pgstore.New(base.Pool, base.Outbox, base.Queue), keys)
	svc := app.New(st, guard, catalogue.Known)
	webhooksv1.RegisterSubscriptionServiceServer(base.GRPC, grpcapi.New(svc))
	base.Queue.Handle(app.DeadLetterKind, svc.RetryDeadLetter)
	// The console's trace shows each event's outbound deliveries (status, attempts, last answer).
	base.Insight.AddTraceHook(st.TraceDeliveries)
	for _, s := range catalogue.Streams() {
		if _, err := base.Consume(s, catalogue.Types(s), events.Fanout(svc), func(c *stream.Config) { c.Group = events.Group }); err != nil {
			return fmt.Errorf("consume %s: %w", s, err)
		}
	}
	base.Add(app.NewDeliverer(st, egress.NewSender(guard, timeout), own.Delivery, base.Log),
		lifecycle.Every(time.Hour, func(ctx context.Context) {
			if n, err := svc.Prune(ctx, retention); err != nil {
				base.Log.WarnContext(ctx, "webhook deliveries: pruning failed", "err", err)
			} else if n > 0 {
				base.Log.InfoContext(ctx, "webhook deliveries pruned", "deliveries", n)
			}
		}))
	return base.Run(ctx)
}
