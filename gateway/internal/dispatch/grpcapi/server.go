// Package grpcapi is the dispatcher's gRPC transport: accrue.webhooks.v1.SubscriptionService.
// It translates requests to use-case calls and results back (through wire); errors pass through
// unchanged and the platform interceptor maps them to codes and reasons (grpcx.ToStatus).
package grpcapi

import (
	"context"
	"time"

	"github.com/accrue/accrue/gateway/internal/dispatch/app"
	"github.com/accrue/accrue/gateway/internal/dispatch/subscription"
	"github.com/accrue/accrue/gateway/internal/dispatch/wire"
	webhooksv1 "github.com/accrue/accrue/gen/go/accrue/webhooks/v1"
	"github.com/accrue/accrue/internal/platform/grpcx"
)

// Server implements accrue.webhooks.v1.SubscriptionService.
type Server struct {
	webhooksv1.UnimplementedSubscriptionServiceServer
	app *app.Service
}

// New returns the gRPC server over the use cases.
func New(a *app.Service) *Server { return &Server{app: grpcx.Need(a)} }

func (s *Server) CreateSubscription(ctx context.Context, req *webhooksv1.CreateSubscriptionRequest) (*webhooksv1.CreateSubscriptionResponse, error) {
	sub, err := s.app.Create(ctx, app.CreateInput{URL: req.GetUrl(), EventTypes: req.GetEventTypes(), Filter: wire.Filter(req.GetFilter()),
		Description: req.GetDescription(), Shape: req.GetShape()})
	if err != nil {
		return nil, err
	}
	return &webhooksv1.CreateSubscriptionResponse{Subscription: wire.Subscription(sub), SigningSecret: sub.Secret}, nil
}

func (s *Server) GetSubscription(ctx context.Context, req *webhooksv1.GetSubscriptionRequest) (*webhooksv1.GetSubscriptionResponse, error) {
	sub, err := s.app.Get(ctx, req.GetSubscriptionId())
	if err != nil {
		return nil, err
	}
	return &webhooksv1.GetSubscriptionResponse{Subscription: wire.Subscription(sub)}, nil
}

func (s *Server) ListSubscriptions(ctx context.Context, req *webhooksv1.ListSubscriptionsRequest) (*webhooksv1.ListSubscriptionsResponse, error) {
	subs, next, err := s.app.List(ctx, req.GetPageToken(), int(req.GetPageSize()))
	if err != nil {
		return nil, err
	}
	out := &webhooksv1.ListSubscriptionsResponse{NextPageToken: next}
	for _, sub := range subs {
		out.Subscriptions = append(out.Subscriptions, wire.Subscription(sub))
	}
	return out, nil
}

func (s *Server) RotateSubscriptionSecret(ctx context.Context, req *webhooksv1.RotateSubscriptionSecretRequest) (*webhooksv1.RotateSubscriptionSecretResponse, error) {
	sub, err := s.app.Rotate(ctx, req.GetSubscriptionId(), time.Duration(req.GetOverlapSeconds())*time.Second)
	if err != nil {
		return nil, err
	}
	return &webhooksv1.RotateSubscriptionSecretResponse{Subscription: wire.Subscription(sub), SigningSecret: sub.Secret}, nil
}

func (s *Server) PauseSubscription(ctx context.Context, req *webhooksv1.PauseSubscriptionRequest) (*webhooksv1.PauseSubscriptionResponse, error) {
	sub, err := s.app.SetStatus(ctx, req.GetSubscriptionId(), subscription.Paused)
	if err != nil {
		return nil, err
	}
	return &webhooksv1.PauseSubscriptionResponse{Subscription: wire.Subscription(sub)}, nil
}

func (s *Server) ResumeSubscription(ctx context.Context, req *webhooksv1.ResumeSubscriptionRequest) (*webhooksv1.ResumeSubscriptionResponse, error) {
	sub, err := s.app.SetStatus(ctx, req.GetSubscriptionId(), subscription.Active)
	if err != nil {
		return nil, err
	}
	return &webhooksv1.ResumeSubscriptionResponse{Subscription: wire.Subscription(sub)}, nil
}

func (s *Server) ListDeliveries(ctx context.Context, req *webhooksv1.ListDeliveriesRequest) (*webhooksv1.ListDeliveriesResponse, error) {
	ds, next, err := s.app.Deliveries(ctx, req.GetSubscriptionId(), wire.DeliveryStatus(req.GetStatus()), req.GetPageToken(), int(req.GetPageSize()))
	if err != nil {
		return nil, err
	}
	out := &webhooksv1.ListDeliveriesResponse{NextPageToken: next}
	for _, d := range ds {
		out.Deliveries = append(out.Deliveries, wire.Delivery(d))
	}
	return out, nil
}

func (s *Server) ListDeliveryAttempts(ctx context.Context, req *webhooksv1.ListDeliveryAttemptsRequest) (*webhooksv1.ListDeliveryAttemptsResponse, error) {
	d, as, err := s.app.Attempts(ctx, req.GetSubscriptionId(), req.GetEventId())
	if err != nil {
		return nil, err
	}
	out := &webhooksv1.ListDeliveryAttemptsResponse{Delivery: wire.Delivery(d)}
	for _, a := range as {
		out.Attempts = append(out.Attempts, wire.Attempt(a))
	}
	return out, nil
}

func (s *Server) ReplayDeliveries(ctx context.Context, req *webhooksv1.ReplayDeliveriesRequest) (*webhooksv1.ReplayDeliveriesResponse, error) {
	var from, to time.Time
	if req.GetFrom() != nil {
		from = req.GetFrom().AsTime()
	}
	if req.GetTo() != nil {
		to = req.GetTo().AsTime()
	}
	n, err := s.app.Replay(ctx, req.GetSubscriptionId(), req.GetEventId(), from, to)
	if err != nil {
		return nil, err
	}
	return &webhooksv1.ReplayDeliveriesResponse{Replayed: n}, nil
}
