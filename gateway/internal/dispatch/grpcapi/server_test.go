package grpcapi_test

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/accrue/accrue/gateway/internal/dispatch/app"
	"github.com/accrue/accrue/gateway/internal/dispatch/egress"
	"github.com/accrue/accrue/gateway/internal/dispatch/grpcapi"
	"github.com/accrue/accrue/gateway/internal/dispatch/store"
	_ "github.com/accrue/accrue/gen/go/accrue/billing/v1" // the catalogue's invoice.posted
	webhooksv1 "github.com/accrue/accrue/gen/go/accrue/webhooks/v1"
	"github.com/accrue/accrue/internal/platform/catalogue"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/pgstore"
	"github.com/accrue/accrue/internal/platform/servicetest"
)

func newEnv(t *testing.T, allow string) (*servicetest.Env, webhooksv1.SubscriptionServiceClient) {
	env := servicetest.New(t, "dispatcher", store.Migrations(), func(e *servicetest.Env) {
		g, err := egress.NewGuard(allow)
		if err != nil {
			t.Fatal(err)
		}
		st := store.New(pgstore.New(e.DB.Pool, e.Outbox, e.Queue))
		webhooksv1.RegisterSubscriptionServiceServer(e.Server, grpcapi.New(app.New(st, g, catalogue.Known)))
	})
	return env, webhooksv1.NewSubscriptionServiceClient(env.Conn)
}

func TestSubscriptionLifecycleOverGRPC(t *testing.T) {
	env, c := newEnv(t, "127.0.0.1")
	ctx := env.Ctx([]string{"webhooks:manage"}, "idempotency-key", "create-1")
	req := &webhooksv1.CreateSubscriptionRequest{Url: "http://127.0.0.1:9/hooks", EventTypes: []string{"invoice.posted"},
		Description: "PSA", Filter: &webhooksv1.SubscriptionFilter{LegalEntityId: "le-1"}}
	created, err := c.CreateSubscription(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.GetSigningSecret(), "whsec_") || created.GetSubscription().GetStatus() != webhooksv1.SubscriptionStatus_SUBSCRIPTION_STATUS_ACTIVE {
		t.Fatalf("created %v", created)
	}
	// The same Idempotency-Key replays the same subscription: no second one.
	again, err := c.CreateSubscription(ctx, req)
	if err != nil || again.GetSubscription().GetSubscriptionId() != created.GetSubscription().GetSubscriptionId() {
		t.Fatalf("replayed create: %v %v", again, err)
	}
	if n := env.Count("webhook_subscriptions"); n != 1 {
		t.Errorf("%d subscriptions after a replayed create, want 1", n)
	}
	id := created.GetSubscription().GetSubscriptionId()
	manage := env.Ctx([]string{"webhooks:manage"})
	got, err := c.GetSubscription(manage, &webhooksv1.GetSubscriptionRequest{SubscriptionId: id})
	if err != nil || got.GetSubscription().GetFilter().GetLegalEntityId() != "le-1" {
		t.Fatalf("get %v %v", got, err)
	}
	rot, err := c.RotateSubscriptionSecret(manage, &webhooksv1.RotateSubscriptionSecretRequest{SubscriptionId: id, OverlapSeconds: 3600})
	if err != nil || rot.GetSigningSecret() == created.GetSigningSecret() || rot.GetSubscription().GetPreviousSecretExpiresAt() == nil {
		t.Fatalf("rotate %v %v", rot, err)
	}
	p, err := c.PauseSubscription(manage, &webhooksv1.PauseSubscriptionRequest{SubscriptionId: id})
	if err != nil || p.GetSubscription().GetStatus() != webhooksv1.SubscriptionStatus_SUBSCRIPTION_STATUS_PAUSED {
		t.Fatalf("pause %v %v", p, err)
	}
	if _, err := c.ResumeSubscription(manage, &webhooksv1.ResumeSubscriptionRequest{SubscriptionId: id}); err != nil {
		t.Fatal(err)
	}
	list, err := c.ListSubscriptions(manage, &webhooksv1.ListSubscriptionsRequest{})
	if err != nil || len(list.GetSubscriptions()) != 1 {
		t.Fatalf("list %v %v", list, err)
	}
	ds, err := c.ListDeliveries(manage, &webhooksv1.ListDeliveriesRequest{SubscriptionId: id})
	if err != nil || len(ds.GetDeliveries()) != 0 {
		t.Fatalf("deliveries %v %v", ds, err)
	}

	for name, call := range map[string]func() error{
		"forbidden URL": func() error {
			_, err := c.CreateSubscription(manage, &webhooksv1.CreateSubscriptionRequest{Url: "http://169.254.169.254/", EventTypes: []string{"invoice.posted"}})
			return err
		},
		"unknown subscription": func() error {
			_, err := c.GetSubscription(manage, &webhooksv1.GetSubscriptionRequest{SubscriptionId: "019a0000-0000-7000-8000-000000000000"})
			return err
		},
		"bad replay range": func() error {
			_, err := c.ReplayDeliveries(manage, &webhooksv1.ReplayDeliveriesRequest{SubscriptionId: id})
			return err
		},
		"no scope": func() error {
			_, err := c.ListSubscriptions(env.Ctx([]string{"ops:read"}), &webhooksv1.ListSubscriptionsRequest{})
			return err
		},
	} {
		err := call()
		want := map[string]struct {
			code   codes.Code
			reason string
		}{
			"forbidden URL":        {codes.InvalidArgument, "WEBHOOK_URL_FORBIDDEN"},
			"unknown subscription": {codes.NotFound, "WEBHOOK_SUBSCRIPTION_NOT_FOUND"},
			"bad replay range":     {codes.InvalidArgument, "WEBHOOK_REPLAY_RANGE_INVALID"},
			"no scope":             {codes.PermissionDenied, ""},
		}[name]
		if status.Code(err) != want.code || (want.reason != "" && grpcx.ReasonOf(err) != want.reason) {
			t.Errorf("%s: %v (reason %q), want %s %s", name, err, grpcx.ReasonOf(err), want.code, want.reason)
		}
	}
	if n := env.Count("webhook_subscriptions"); n != 1 {
		t.Errorf("refused requests wrote: %d subscriptions", n)
	}
}
