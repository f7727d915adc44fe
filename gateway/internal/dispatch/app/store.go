// Package app holds the dispatcher's use cases: managing subscriptions (create, rotate, pause,
// resume, replay), fanning events out into deliveries, and delivering them. It depends on the
// Store interface below, never on pgx.
package app

import (
	"context"
	"time"

	"github.com/accrue/accrue/gateway/internal/dispatch/subscription"
	"github.com/accrue/accrue/internal/platform/txn"
)

// Store is what the use cases need from the database. Not-found lookups return
// subscription.ErrNotFound or subscription.ErrDeliveryNotFound.
type Store interface {
	txn.Store
	InsertSubscription(ctx context.Context, s subscription.Subscription) error
	GetSubscription(ctx context.Context, id string, lock bool) (subscription.Subscription, error)
	UpdateSubscription(ctx context.Context, s subscription.Subscription) error
	ListSubscriptions(ctx context.Context, afterID string, limit int) ([]subscription.Subscription, error)
	AllSubscriptions(ctx context.Context) ([]subscription.Subscription, error)

	RecordEvent(ctx context.Context, ev subscription.Event, subs []string) error
	ClaimDue(ctx context.Context, limit, perEndpoint int, lease time.Duration, busy []string) ([]subscription.Claim, error)
	RecordAttempt(ctx context.Context, subID, eventID string, a subscription.Attempt, o subscription.Outcome) error
	Requeue(ctx context.Context, subID, eventID string, from, to time.Time) (int64, error)
	ListDeliveries(ctx context.Context, subID string, status subscription.DeliveryStatus, token string, limit int) ([]subscription.Delivery, string, error)
	GetDelivery(ctx context.Context, subID, eventID string) (subscription.Delivery, []subscription.Attempt, error)
	Prune(ctx context.Context, cutoff time.Time, limit int) (int64, error)
}
