package app

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/accrue/accrue/gateway/internal/dispatch/subscription"
	"github.com/accrue/accrue/internal/platform/audit"
)

// CreateInput is a new subscription's request.
type CreateInput struct {
	URL         string
	EventTypes  []string
	Filter      subscription.Filter
	Description string
	Shape       string
}

// Create registers a subscription after checking its event types against the catalogue, its
// shape, and its URL against the SSRF guard. The returned subscription carries its secret.
func (s *Service) Create(ctx context.Context, in CreateInput) (subscription.Subscription, error) {
	for i, t := range in.EventTypes {
		if !s.knownType(t) {
			return subscription.Subscription{}, subscription.ErrEventTypeUnknown.With("the event catalogue has no type "+t,
				"event_type", t).At("event_types[" + itoa(i) + "]")
		}
	}
	if !subscription.ShapeKnown(in.Shape) {
		return subscription.Subscription{}, subscription.ErrShapeUnknown.With("no body shape "+in.Shape, "shape", in.Shape).At("shape")
	}
	if err := s.guard.CheckURL(ctx, in.URL); err != nil {
		return subscription.Subscription{}, err
	}
	types := slices.Clone(in.EventTypes)
	slices.Sort(types)
	sub := subscription.Subscription{ID: uuid.Must(uuid.NewV7()).String(), URL: in.URL, EventTypes: slices.Compact(types),
		Filter: in.Filter, Description: in.Description, Shape: in.Shape, Status: subscription.Active,
		CreatedAt: s.now().UTC().Truncate(time.Microsecond), Secret: subscription.NewSecret()}
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		if err := s.st.InsertSubscription(ctx, sub); err != nil {
			return err
		}
		return s.st.Audit(ctx, audit.Record{Action: "webhook_subscription.created", EntityType: "webhook_subscription",
			EntityID: sub.ID, Details: map[string]any{"url": sub.URL, "event_types": sub.EventTypes}})
	})
	return sub, err
}

// Get returns a subscription.
func (s *Service) Get(ctx context.Context, id string) (subscription.Subscription, error) {
	return s.st.GetSubscription(ctx, id, false)
}

// List returns a page of subscriptions, newest first, and the next page's token.
func (s *Service) List(ctx context.Context, token string, limit int) ([]subscription.Subscription, string, error) {
	if limit <= 0 {
		limit = 100
	}
	if token != "" {
		if _, err := uuid.Parse(token); err != nil {
			return nil, "", subscription.ErrPageToken
		}
	}
	subs, err := s.st.ListSubscriptions(ctx, token, limit+1)
	if err != nil || len(subs) <= limit {
		return subs, "", err
	}
	return subs[:limit], subs[limit-1].ID, nil
}

// Rotate issues a new secret; the previous one keeps signing for overlap (DefaultOverlap when
// zero). The returned subscription carries the new secret.
func (s *Service) Rotate(ctx context.Context, id string, overlap time.Duration) (subscription.Subscription, error) {
	if overlap <= 0 {
		overlap = s.DefaultOverlap
	}
	return s.update(ctx, id, "webhook_subscription.secret_rotated", func(sub *subscription.Subscription) {
		sub.PreviousSecret, sub.PreviousExpiresAt = sub.Secret, s.now().Add(overlap).UTC().Truncate(time.Microsecond)
		sub.Secret = subscription.NewSecret()
	})
}

// SetStatus pauses or resumes a subscription (no change when it already has the status).
func (s *Service) SetStatus(ctx context.Context, id string, st subscription.Status) (subscription.Subscription, error) {
	return s.update(ctx, id, "webhook_subscription."+lower(string(st)), func(sub *subscription.Subscription) { sub.Status = st })
}

func (s *Service) update(ctx context.Context, id, action string, change func(*subscription.Subscription)) (subscription.Subscription, error) {
	var out subscription.Subscription
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		sub, err := s.st.GetSubscription(ctx, id, true)
		if err != nil {
			return err
		}
		change(&sub)
		if err := s.st.UpdateSubscription(ctx, sub); err != nil {
			return err
		}
		out = sub
		return s.st.Audit(ctx, audit.Record{Action: action, EntityType: "webhook_subscription", EntityID: sub.ID})
	})
	return out, err
}

// Deliveries lists a subscription's deliveries.
func (s *Service) Deliveries(ctx context.Context, id string, status subscription.DeliveryStatus, token string, limit int) ([]subscription.Delivery, string, error) {
	if _, err := s.st.GetSubscription(ctx, id, false); err != nil {
		return nil, "", err
	}
	if limit <= 0 {
		limit = 100
	}
	return s.st.ListDeliveries(ctx, id, status, token, limit)
}

// Attempts returns a delivery and its attempts.
func (s *Service) Attempts(ctx context.Context, id, eventID string) (subscription.Delivery, []subscription.Attempt, error) {
	if _, err := s.st.GetSubscription(ctx, id, false); err != nil {
		return subscription.Delivery{}, nil, err
	}
	return s.st.GetDelivery(ctx, id, eventID)
}

// Replay queues deliveries again (same webhook-id): one event, or those of [from, to).
func (s *Service) Replay(ctx context.Context, id, eventID string, from, to time.Time) (int64, error) {
	if eventID == "" && (from.IsZero() || to.IsZero() || !from.Before(to)) {
		return 0, subscription.ErrReplayRange
	}
	var n int64
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.st.GetSubscription(ctx, id, false); err != nil {
			return err
		}
		var err error
		if n, err = s.st.Requeue(ctx, id, eventID, from, to); err != nil {
			return err
		}
		if eventID != "" && n == 0 {
			return subscription.ErrDeliveryNotFound
		}
		return s.st.Audit(ctx, audit.Record{Action: "webhook_subscription.replayed", EntityType: "webhook_subscription",
			EntityID: id, Details: map[string]any{"event_id": eventID, "from": from, "to": to, "deliveries": n}})
	})
	return n, err
}
