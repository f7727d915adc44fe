package store_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/accrue/accrue/gateway/internal/dispatch/store"
	"github.com/accrue/accrue/gateway/internal/dispatch/subscription"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/insight"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pgstore"
	"github.com/accrue/accrue/internal/platform/pgtest"
)

// The trace hook finds the deliveries of an event by its id, its subject or its correlation id
// (one per subscription, with status, attempts and last status code), and nothing for a key it
// does not know.
func TestTraceDeliveries(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db := pgtest.New(t, store.Migrations())
	st := store.New(pgstore.New(db.Pool, outbox.Writer{Producer: "dispatcher"},
		exceptions.NewQueue(db.Pool, slog.New(slog.NewTextHandler(io.Discard, nil)))))
	subA, subB := "01970c3a-5e00-7000-8000-00000000000a", "01970c3a-5e00-7000-8000-00000000000b"
	for _, id := range []string{subA, subB} {
		if _, err := db.Pool.Exec(ctx, `INSERT INTO webhook_subscriptions (id, url, event_types, status, secret)
			VALUES ($1, 'https://partner.example/hooks', '{invoice.posted}', 'ACTIVE', 's')`, id); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)
	if err := st.RecordEvent(ctx, subscription.Event{ID: "ev-1", Type: "invoice.posted", Subject: "inv-1", Producer: "billing",
		OccurredAt: at, CorrelationID: "corr-1", Data: []byte(`{}`)}, []string{subA, subB}); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordEvent(ctx, subscription.Event{ID: "ev-2", Type: "invoice.posted", Subject: "inv-2", Producer: "billing",
		OccurredAt: at, CorrelationID: "corr-2", Data: []byte(`{}`)}, []string{subA}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE webhook_deliveries SET status = 'DELIVERED', attempts = 2, last_status_code = 204,
		delivered_at = now() WHERE subscription_id = $1 AND event_id = 'ev-1'`, subA); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE webhook_deliveries SET attempts = 1, last_status_code = 503
		WHERE subscription_id = $1 AND event_id = 'ev-1'`, subB); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name       string
		keys, corr []string
	}{{"event id", []string{"ev-1"}, nil}, {"subject", []string{"inv-1"}, nil}, {"correlation id", nil, []string{"corr-1"}},
		{"correlation id as key", []string{"corr-1"}, nil}} {
		f, err := st.TraceDeliveries(ctx, c.keys, c.corr, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Items) != 2 || len(f.CorrelationIDs) != 1 || f.CorrelationIDs[0] != "corr-1" {
			t.Fatalf("%s: %+v, want ev-1's two deliveries under corr-1", c.name, f)
		}
		got := map[string]insight.Item{}
		for _, it := range f.Items {
			if it.Kind != insight.KindDelivery || it.EventID != "ev-1" {
				t.Fatalf("%s: item %+v, want a DELIVERY of ev-1", c.name, it)
			}
			got[it.EntityID] = it
		}
		if a, b := got[subA], got[subB]; a.Status != "DELIVERED" || a.Detail != "subject inv-1, 2 attempts, last status code 204" ||
			b.Status != "PENDING" || b.Detail != "subject inv-1, 1 attempts, last status code 503" {
			t.Errorf("%s: deliveries %+v / %+v, want A DELIVERED after 2 attempts (204), B PENDING after 1 (503)", c.name, a, b)
		}
	}
	f, err := st.TraceDeliveries(ctx, []string{"ev-1", "ev-2"}, nil, 2)
	if err != nil || len(f.Items) != 2 || !f.Truncated {
		t.Errorf("limit 2 of 3 deliveries: %d items, truncated %v, err %v; want 2, truncated", len(f.Items), f.Truncated, err)
	}
	if f, err := st.TraceDeliveries(ctx, []string{"nothing"}, []string{"corr-x"}, 10); err != nil || len(f.Items) != 0 {
		t.Errorf("unknown keys: %+v, %v; want nothing", f, err)
	}
}
