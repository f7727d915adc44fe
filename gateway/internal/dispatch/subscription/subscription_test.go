package subscription

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestRotationOverlapSignsWithBothSecretsThenOnlyTheNew(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	s := Subscription{Secret: NewSecret(), PreviousSecret: NewSecret(), PreviousExpiresAt: now.Add(time.Hour)}
	if !strings.HasPrefix(s.Secret, "whsec_") {
		t.Fatalf("secret %q", s.Secret)
	}
	body := []byte(`{"id":"e1"}`)
	sig, err := Sign(s.Secrets(now), "e1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(sig)); n != 2 {
		t.Fatalf("during the overlap the header carries %d signatures, want 2: %s", n, sig)
	}
	for _, secret := range []string{s.Secret, s.PreviousSecret} {
		if err := Verify(secret, "e1", "1796299200", sig, body, now, 5*time.Minute); err != nil {
			t.Errorf("verify: %v", err)
		}
	}
	if err := Verify(s.Secret, "e1", "1796299200", sig, []byte(`{"id":"e2"}`), now, 5*time.Minute); err == nil {
		t.Error("a tampered body verified")
	}
	if err := Verify(s.Secret, "e1", "1796299200", sig, body, now.Add(10*time.Minute), 5*time.Minute); err == nil {
		t.Error("a timestamp 10 minutes old verified")
	}
	after, _ := Sign(s.Secrets(now.Add(2*time.Hour)), "e1", now, body)
	if err := Verify(s.PreviousSecret, "e1", "1796299200", after, body, now, 5*time.Minute); err == nil {
		t.Error("the previous secret still signs after the overlap")
	}
}

func TestScheduleJittersAndEnds(t *testing.T) {
	s, err := ParseSchedule("1s, 10s")
	if err != nil {
		t.Fatal(err)
	}
	for n, base := range map[int]time.Duration{1: time.Second, 2: 10 * time.Second} {
		d, ok := s.Next(n)
		if !ok || d < base*8/10 || d > base*12/10 {
			t.Errorf("after attempt %d: %s %v, want %s ±20%%", n, d, ok, base)
		}
	}
	if _, ok := s.Next(3); ok {
		t.Error("a third failure is retried; the schedule has two waits")
	}
	if _, err := ParseSchedule("1s,soon"); err == nil {
		t.Error("a bad schedule parsed")
	}
}

func TestCloudEventBody(t *testing.T) {
	ev := Event{ID: "019a", Type: "invoice.posted", Subject: "inv-1", Producer: "billing",
		OccurredAt: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC), CorrelationID: "c-1", Data: []byte(`{"invoice":{"number":"A-1"}}`)}
	ct, body, err := RenderBody("", ev)
	if err != nil || ct != "application/cloudevents+json" {
		t.Fatalf("%s %v", ct, err)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"specversion": "1.0", "id": "019a", "source": "/accrue/billing", "type": "invoice.posted",
		"subject": "inv-1", "time": "2026-12-03T12:00:00Z", "datacontenttype": "application/json", "correlationid": "c-1"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if got["data"].(map[string]any)["invoice"].(map[string]any)["number"] != "A-1" {
		t.Errorf("data %v", got["data"])
	}
	if !ShapeKnown("") || ShapeKnown("salesforce-x") {
		t.Error("shapes")
	}
}

func TestFilterMatchesTheEventsIds(t *testing.T) {
	s := Subscription{EventTypes: []string{"invoice.posted"}, Filter: Filter{LegalEntityID: "le-1"}}
	if !s.Wants(Event{Type: "invoice.posted", Refs: Filter{LegalEntityID: "le-1"}}) {
		t.Error("same legal entity not matched")
	}
	if s.Wants(Event{Type: "invoice.posted", Refs: Filter{LegalEntityID: "le-2"}}) {
		t.Error("another legal entity matched")
	}
	if s.Wants(Event{Type: "period.closed", Refs: Filter{LegalEntityID: "le-1"}}) {
		t.Error("an unsubscribed type matched")
	}
}
