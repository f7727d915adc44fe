// Package wire is the dispatcher's only mapping between protobuf (the SubscriptionService
// messages and the event envelopes it consumes) and the subscription domain.
package wire

import (
	"bytes"
	"encoding/json"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/accrue/accrue/gateway/internal/dispatch/subscription"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	webhooksv1 "github.com/accrue/accrue/gen/go/accrue/webhooks/v1"
)

var dataJSON = protojson.MarshalOptions{UseProtoNames: true}

// Event turns a consumed event into the domain's: its payload as compact protobuf JSON (proto
// field names) and the ids the filters match on (top-level legal_entity_id, customer_id and
// project_id fields of the payload).
func Event(env *commonv1.EventEnvelope, payload proto.Message) (subscription.Event, error) {
	raw, err := dataJSON.Marshal(payload)
	if err != nil {
		return subscription.Event{}, err
	}
	var data bytes.Buffer
	if err := json.Compact(&data, raw); err != nil {
		return subscription.Event{}, err
	}
	ev := subscription.Event{ID: env.GetEventId(), Type: env.GetType(), Subject: env.GetSubject(), Producer: env.GetProducer(),
		OccurredAt: env.GetOccurredAt().AsTime(), CorrelationID: env.GetCorrelationId(), Data: data.Bytes()}
	m := payload.ProtoReflect()
	ev.Refs = subscription.Filter{LegalEntityID: findString(m, "legal_entity_id", 2), CustomerID: findString(m, "customer_id", 2),
		ProjectID: findString(m, "project_id", 2)}
	return ev, nil
}

// Subscription maps a subscription (never its secrets) to its message.
func Subscription(s subscription.Subscription) *webhooksv1.Subscription {
	out := &webhooksv1.Subscription{SubscriptionId: s.ID, Url: s.URL, EventTypes: s.EventTypes, Description: s.Description,
		Shape: s.Shape, Status: subscriptionStatus[s.Status], CreatedAt: ts(s.CreatedAt),
		Filter: &webhooksv1.SubscriptionFilter{LegalEntityId: s.Filter.LegalEntityID, CustomerId: s.Filter.CustomerID,
			ProjectId: s.Filter.ProjectID}}
	if s.PreviousSecret != "" && time.Now().Before(s.PreviousExpiresAt) {
		out.PreviousSecretExpiresAt = ts(s.PreviousExpiresAt)
	}
	return out
}

var subscriptionStatus = map[subscription.Status]webhooksv1.SubscriptionStatus{
	subscription.Active: webhooksv1.SubscriptionStatus_SUBSCRIPTION_STATUS_ACTIVE,
	subscription.Paused: webhooksv1.SubscriptionStatus_SUBSCRIPTION_STATUS_PAUSED,
}

var deliveryStatus = map[subscription.DeliveryStatus]webhooksv1.DeliveryStatus{
	subscription.Pending:   webhooksv1.DeliveryStatus_DELIVERY_STATUS_PENDING,
	subscription.Delivered: webhooksv1.DeliveryStatus_DELIVERY_STATUS_DELIVERED,
	subscription.Dead:      webhooksv1.DeliveryStatus_DELIVERY_STATUS_DEAD,
}

// DeliveryStatus maps a requested status filter (unspecified: any).
func DeliveryStatus(s webhooksv1.DeliveryStatus) subscription.DeliveryStatus {
	for k, v := range deliveryStatus {
		if v == s {
			return k
		}
	}
	return ""
}

// Filter maps a subscription filter.
func Filter(f *webhooksv1.SubscriptionFilter) subscription.Filter {
	return subscription.Filter{LegalEntityID: f.GetLegalEntityId(), CustomerID: f.GetCustomerId(), ProjectID: f.GetProjectId()}
}

// Delivery maps a delivery.
func Delivery(d subscription.Delivery) *webhooksv1.Delivery {
	out := &webhooksv1.Delivery{SubscriptionId: d.SubscriptionID, EventId: d.EventID, EventType: d.EventType, Subject: d.Subject,
		Status: deliveryStatus[d.Status], Attempts: int32(d.Attempts), OccurredAt: ts(d.OccurredAt),
		DeliveredAt: ts(d.DeliveredAt), LastStatusCode: int32(d.LastStatusCode), LastError: d.LastError}
	if d.Status == subscription.Pending {
		out.NextAttemptAt = ts(d.NextAttemptAt)
	}
	return out
}

// Attempt maps an attempt.
func Attempt(a subscription.Attempt) *webhooksv1.DeliveryAttempt {
	return &webhooksv1.DeliveryAttempt{Attempt: int32(a.Attempt), StartedAt: ts(a.StartedAt), LatencyMs: a.Latency.Milliseconds(),
		StatusCode: int32(a.StatusCode), Error: a.Error, ResponseExcerpt: a.ResponseExcerpt}
}

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// findString returns the first non-empty string field name of m, looking depth levels of
// singular message fields deep (an invoice.posted payload carries its ids in its invoice).
func findString(m protoreflect.Message, name protoreflect.Name, depth int) string {
	fields := m.Descriptor().Fields()
	if f := fields.ByName(name); f != nil && f.Kind() == protoreflect.StringKind && !f.IsList() {
		if v := m.Get(f).String(); v != "" {
			return v
		}
	}
	if depth == 0 {
		return ""
	}
	for i := 0; i < fields.Len(); i++ {
		f := fields.Get(i)
		if f.Kind() == protoreflect.MessageKind && !f.IsList() && !f.IsMap() && m.Has(f) {
			if v := findString(m.Get(f).Message(), name, depth-1); v != "" {
				return v
			}
		}
	}
	return ""
}
