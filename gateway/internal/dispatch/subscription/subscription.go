// Package subscription is the outbound webhooks' domain: subscriptions and their filters,
// signing secrets and Standard Webhooks signatures, deliveries and their retry schedule, and the
// body a subscription receives (a CloudEvents 1.0 structured JSON document by default). It does
// no I/O. Everything here is safe for concurrent use.
package subscription

import (
	"slices"
	"time"

	"github.com/accrue/accrue/internal/platform/fault"
)

// Status of a subscription.
type Status string

const (
	Active Status = "ACTIVE"
	Paused Status = "PAUSED"
)

// DeliveryStatus of one event for one subscription.
type DeliveryStatus string

const (
	Pending   DeliveryStatus = "PENDING"
	Delivered DeliveryStatus = "DELIVERED"
	Dead      DeliveryStatus = "DEAD"
)

// Errors, with their stable reasons.
var (
	ErrNotFound         = fault.New(fault.NotFound, "WEBHOOK_SUBSCRIPTION_NOT_FOUND", "no such webhook subscription")
	ErrDeliveryNotFound = fault.New(fault.NotFound, "WEBHOOK_DELIVERY_NOT_FOUND", "no such delivery")
	ErrURLInvalid       = fault.New(fault.Invalid, "WEBHOOK_URL_INVALID", "the URL must be an absolute http(s) URL with a host")
	ErrURLForbidden     = fault.New(fault.Invalid, "WEBHOOK_URL_FORBIDDEN", "the URL resolves to a loopback, link-local, private, unspecified or multicast address")
	ErrEventTypeUnknown = fault.New(fault.Invalid, "WEBHOOK_EVENT_TYPE_UNKNOWN", "the event catalogue has no such event type")
	ErrShapeUnknown     = fault.New(fault.Invalid, "WEBHOOK_SHAPE_UNKNOWN", "no such body shape")
	ErrPageToken        = fault.New(fault.Invalid, "INVALID_PAGE_TOKEN", "the page token is not one this service issued")
	ErrReplayRange      = fault.New(fault.Invalid, "WEBHOOK_REPLAY_RANGE_INVALID", "give an event id, or a time range whose start is before its end")
)

// Filter narrows the events of a subscription; empty fields match everything.
type Filter struct {
	LegalEntityID, CustomerID, ProjectID string
}

// Subscription is a partner's endpoint.
type Subscription struct {
	ID          string
	URL         string
	EventTypes  []string
	Filter      Filter
	Description string
	Shape       string
	Status      Status
	CreatedAt   time.Time
	// Secret signs every delivery; PreviousSecret also signs until PreviousExpiresAt (a
	// rotation's overlap).
	Secret            string
	PreviousSecret    string
	PreviousExpiresAt time.Time
}

// Secrets returns the secrets that sign a delivery at now: the current one, and the previous
// one during its overlap.
func (s Subscription) Secrets(now time.Time) []string {
	out := []string{s.Secret}
	if s.PreviousSecret != "" && now.Before(s.PreviousExpiresAt) {
		out = append(out, s.PreviousSecret)
	}
	return out
}

// Wants reports whether the subscription receives ev (its type is subscribed and the filter
// matches the ids the event carries).
func (s Subscription) Wants(ev Event) bool {
	if !slices.Contains(s.EventTypes, ev.Type) {
		return false
	}
	match := func(want, got string) bool { return want == "" || want == got || want == ev.Subject }
	return match(s.Filter.LegalEntityID, ev.Refs.LegalEntityID) && match(s.Filter.CustomerID, ev.Refs.CustomerID) &&
		match(s.Filter.ProjectID, ev.Refs.ProjectID)
}

// Event is a domain event as the dispatcher keeps it.
type Event struct {
	ID            string
	Type          string
	Subject       string
	Producer      string
	OccurredAt    time.Time
	CorrelationID string
	// Data is the payload as compact JSON (protobuf JSON, proto field names).
	Data []byte
	// Refs are the ids the filters match on, read from the payload.
	Refs Filter
}

// Delivery is one event for one subscription.
type Delivery struct {
	SubscriptionID string
	EventID        string
	EventType      string
	Subject        string
	Status         DeliveryStatus
	Attempts       int
	OccurredAt     time.Time
	NextAttemptAt  time.Time
	DeliveredAt    time.Time
	LastStatusCode int
	LastError      string
}

// Attempt is one HTTP request of a delivery.
type Attempt struct {
	Attempt         int
	StartedAt       time.Time
	Latency         time.Duration
	StatusCode      int // 0: no answer
	Error           string
	ResponseExcerpt string
}

// OK reports whether the endpoint accepted the delivery (2xx).
func (a Attempt) OK() bool { return a.StatusCode >= 200 && a.StatusCode < 300 }

// Claim is a delivery leased for an attempt, with what sending it needs.
type Claim struct {
	Delivery     Delivery
	Event        Event
	Subscription Subscription
}

// Outcome is what an attempt changes.
type Outcome struct {
	// Status is the delivery's new status; Next its next attempt when still pending.
	Status DeliveryStatus
	Next   time.Time
	// BreakerFailures opens the endpoint's circuit for BreakerCooldown once it has failed this
	// many times in a row (0: no breaker).
	BreakerFailures int
	BreakerCooldown time.Duration
}
