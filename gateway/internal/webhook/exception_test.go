package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/accrue/accrue/gateway/internal/webhook"
	"github.com/accrue/accrue/internal/platform/redistest"
)

// A delivery its translator turns into an exception (a Salesforce CDC gap) calls nothing: it is
// answered 202 with the records to re-sync, kept in the quarantine with its reason, entity and
// record ids, and its event id counts as processed, so a redelivery raises nothing twice.
func TestExceptionDeliveryIsQuarantinedOnceAndAccepted(t *testing.T) {
	rdb, prefix := redistest.New(t)
	secret := []byte("a-test-secret-of-32-characters!!")
	problems := 0
	rc := webhook.NewReceiver(webhook.Config{Secrets: webhook.Secrets{{Route: "salesforce.opportunities", Source: "salesforce"}: {secret}}, KeyPrefix: prefix},
		rdb, slog.New(slog.NewTextHandler(io.Discard, nil)), webhook.Responders{
			Problem: func(w http.ResponseWriter, _ *http.Request, status int, reason, _ string) {
				problems++
				w.WriteHeader(status)
				_, _ = w.Write([]byte(reason))
			},
			Reply: func(http.ResponseWriter, *http.Request, proto.Message) {
				t.Error("an exception delivery was replied to as a call")
			},
			Error: func(http.ResponseWriter, *http.Request, error) { t.Error("an exception delivery failed as a call") },
		})
	calls := 0
	h := rc.Handle("salesforce.opportunities", func(string, []byte) (webhook.Command, error) {
		return webhook.Command{EventID: "tk-1:1", Exception: &webhook.Exception{Reason: "CDC_GAP", Detail: "re-sync them",
			Entity: "Opportunity", RecordIDs: []string{"006A", "006B"}},
			Call: func(context.Context) (proto.Message, error) { calls++; return nil, nil }}, nil
	})
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/salesforce/{source}/opportunities", h)
	deliver := func() *httptest.ResponseRecorder {
		body := `{"gap":true}`
		r := httptest.NewRequest(http.MethodPost, "/webhooks/salesforce/salesforce/opportunities", strings.NewReader(body))
		r.Header.Set(webhook.SignatureHeader, webhook.Sign(secret, time.Now(), []byte(body)))
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w
	}

	w := deliver()
	var got struct {
		Status       string   `json:"status"`
		Reason       string   `json:"reason"`
		Entity       string   `json:"entity"`
		RecordIDs    []string `json:"record_ids"`
		QuarantineID string   `json:"quarantine_id"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != http.StatusAccepted {
		t.Fatalf("exception delivery: %d %s (%v), want 202", w.Code, w.Body, err)
	}
	if got.Status != "exception" || got.Reason != "CDC_GAP" || got.Entity != "Opportunity" ||
		strings.Join(got.RecordIDs, ",") != "006A,006B" || got.QuarantineID == "" {
		t.Errorf("answer %+v, want the exception with both records and its quarantine id", got)
	}
	if w := deliver(); w.Code != http.StatusConflict || w.Body.String() != webhook.ReasonReplayedEvent {
		t.Errorf("redelivery: %d %s, want 409 REPLAYED_EVENT", w.Code, w.Body)
	}
	if calls != 0 {
		t.Errorf("the command was called %d times, want 0", calls)
	}
	q, err := rc.Quarantine(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	gaps := 0
	for _, e := range q {
		if e.Reason == "CDC_GAP" {
			gaps++
			if e.ID != got.QuarantineID || e.Entity != "Opportunity" || strings.Join(e.RecordIDs, ",") != "006A,006B" ||
				e.EventID != "tk-1:1" || e.Detail != "re-sync them" {
				t.Errorf("quarantined exception %+v", e)
			}
		}
	}
	if gaps != 1 || len(q) != 2 {
		t.Errorf("quarantine: %d CDC_GAP entries of %d, want 1 of 2 (the exception and the refused replay)", gaps, len(q))
	}
}
