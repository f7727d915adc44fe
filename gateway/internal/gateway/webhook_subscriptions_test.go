package gateway

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc"

	"github.com/accrue/accrue/gateway/internal/dispatch/subscription"
	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	webhooksv1 "github.com/accrue/accrue/gen/go/accrue/webhooks/v1"
	"github.com/accrue/accrue/internal/platform/grpcx"
)

type fakeSubscriptions struct {
	webhooksv1.UnimplementedSubscriptionServiceServer
}

func (fakeSubscriptions) CreateSubscription(ctx context.Context, req *webhooksv1.CreateSubscriptionRequest) (*webhooksv1.CreateSubscriptionResponse, error) {
	if strings.Contains(req.GetUrl(), "169.254.169.254") {
		return nil, grpcx.ToStatus(ctx, subscription.ErrURLForbidden)
	}
	return &webhooksv1.CreateSubscriptionResponse{SigningSecret: "whsec_AAAA",
		Subscription: &webhooksv1.Subscription{SubscriptionId: "s-1", Url: req.GetUrl(), EventTypes: req.GetEventTypes()}}, nil
}

type fakeDispatcherExceptions struct {
	opsv1.UnimplementedExceptionServiceServer
}

func (fakeDispatcherExceptions) ListExceptions(context.Context, *opsv1.ListExceptionsRequest) (*opsv1.ListExceptionsResponse, error) {
	return &opsv1.ListExceptionsResponse{Exceptions: []*opsv1.Exception{{ExceptionId: "x-1", Reason: "WEBHOOK_DELIVERY_FAILED"}}}, nil
}

// The dispatcher's SubscriptionService and exception queue are served through the gateway:
// POST /v1/webhook-subscriptions and /v1/ops/dispatcher/exceptions.
func TestWebhookSubscriptionRoutesReachTheDispatcher(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	webhooksv1.RegisterSubscriptionServiceServer(srv, fakeSubscriptions{})
	opsv1.RegisterExceptionServiceServer(srv, fakeDispatcherExceptions{})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	e := newTestEnv(t, func(o *Options) { o.Upstreams[Dispatcher] = lis.Addr().String() })
	auth := map[string]string{"Authorization": "Bearer " + e.token("partner", "webhooks:manage"), "Content-Type": "application/json"}

	rec := e.do(http.MethodPost, "/v1/webhook-subscriptions", []byte(`{"url":"https://hooks.example.com/a","event_types":["invoice.posted"]}`), auth)
	var out struct {
		SigningSecret string `json:"signing_secret"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &out) != nil || out.SigningSecret != "whsec_AAAA" {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	rec = e.do(http.MethodPost, "/v1/webhook-subscriptions", []byte(`{"url":"http://169.254.169.254/","event_types":["invoice.posted"]}`), auth)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"reason":"WEBHOOK_URL_FORBIDDEN"`) {
		t.Fatalf("forbidden URL: %d %s", rec.Code, rec.Body)
	}
	rec = e.do(http.MethodPost, "/v1/webhook-subscriptions", []byte(`{"url":"https://hooks.example.com/a","event_types":["invoice.posted"]}`),
		map[string]string{"Authorization": "Bearer " + e.token("partner", "ops:read")})
	if rec.Code != http.StatusForbidden {
		t.Fatalf("without webhooks:manage: %d %s", rec.Code, rec.Body)
	}
	rec = e.do(http.MethodGet, "/v1/ops/dispatcher/exceptions", nil, map[string]string{"Authorization": "Bearer " + e.token("ops", "ops:read")})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "WEBHOOK_DELIVERY_FAILED") {
		t.Fatalf("dispatcher exceptions: %d %s", rec.Code, rec.Body)
	}
}
