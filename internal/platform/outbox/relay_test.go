package outbox_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pgtest"
	"github.com/accrue/accrue/internal/platform/redistest"
)

func TestPublishOnce(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, nil)
	rdb, prefix := redistest.New(t)
	at := time.Date(2026, 3, 31, 17, 45, 0, 0, time.UTC)
	w := outbox.Writer{Producer: "timeexpense", Now: func() time.Time { return at }}

	// The stream name is unique to this run so that the check for an
	// unprefixed write cannot see another process using the shared Redis.
	teStream := fmt.Sprintf("timeexpense.events.%d", time.Now().UnixNano())
	ectx := correlation.WithCausation(correlation.With(ctx, "corr-timesheet-42"), "cause-1")
	envs := enqueue(t, ectx, db, w,
		event(teStream, "time.approved", "entry-1", "8h"),
		event(teStream, "time.approved", "entry-2", "4h"),
		event("other.events", "expense.approved", "exp-1", "12.50"))

	relay := outbox.NewRelay(db.Pool, rdb, outbox.RelayConfig{StreamPrefix: prefix}, quietLogger())
	n, err := relay.PublishOnce(ctx)
	if err != nil || n != 3 {
		t.Fatalf("PublishOnce = %d, %v; want 3", n, err)
	}

	entries, err := rdb.XRange(ctx, prefix+teStream, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("stream %s%s has %d entries, want 2", prefix, teStream, len(entries))
	}
	for i, e := range entries {
		if e.Values["event_id"] != envs[i].GetEventId() || e.Values["type"] != "time.approved" {
			t.Errorf("entry %d fields = %v", i, e.Values)
		}
		var env commonv1.EventEnvelope
		if err := proto.Unmarshal([]byte(e.Values["envelope"].(string)), &env); err != nil {
			t.Fatalf("entry %d envelope: %v", i, err)
		}
		if env.GetEventId() != envs[i].GetEventId() || env.GetType() != "time.approved" ||
			env.GetSubject() != []string{"entry-1", "entry-2"}[i] || env.GetCorrelationId() != "corr-timesheet-42" ||
			env.GetCausationId() != "cause-1" || env.GetProducer() != "timeexpense" || !env.GetOccurredAt().AsTime().Equal(at) {
			t.Errorf("entry %d envelope = %v", i, &env)
		}
		var p wrapperspb.StringValue
		if err := env.GetPayload().UnmarshalTo(&p); err != nil || p.GetValue() != []string{"8h", "4h"}[i] {
			t.Errorf("entry %d payload = %v, %v", i, p.GetValue(), err)
		}
	}
	if n := rdb.XLen(ctx, prefix+"other.events").Val(); n != 1 {
		t.Errorf("stream other.events has %d entries, want 1", n)
	}
	if n := rdb.XLen(ctx, teStream).Val(); n != 0 {
		t.Errorf("unprefixed stream written (%d entries)", n)
	}
	if n := count(t, db.Pool, `SELECT count(*) FROM outbox WHERE published_at IS NOT NULL`); n != 3 {
		t.Fatalf("%d rows marked published, want 3", n)
	}

	// Nothing left: a second pass publishes nothing.
	if n, err := relay.PublishOnce(ctx); err != nil || n != 0 {
		t.Fatalf("second PublishOnce = %d, %v; want 0", n, err)
	}
	if n := rdb.XLen(ctx, prefix+teStream).Val(); n != 2 {
		t.Fatalf("stream has %d entries after second pass, want 2", n)
	}
}

func TestPublishFailureLeavesRowsUnpublished(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, nil)
	rdb, prefix := redistest.New(t)
	enqueue(t, ctx, db, outbox.Writer{Producer: "billing"}, event("billing.events", "invoice.posted", "inv-1", "x"))

	// The stream key holds a plain string: XADD fails.
	if err := rdb.Set(ctx, prefix+"billing.events", "not a stream", 0).Err(); err != nil {
		t.Fatal(err)
	}
	relay := outbox.NewRelay(db.Pool, rdb, outbox.RelayConfig{StreamPrefix: prefix}, quietLogger())
	if _, err := relay.PublishOnce(ctx); err == nil {
		t.Fatal("PublishOnce succeeded although XADD failed")
	}
	if n := count(t, db.Pool, `SELECT count(*) FROM outbox WHERE published_at IS NULL`); n != 1 {
		t.Fatalf("%d unpublished rows, want the row kept for the next attempt", n)
	}
	rdb.Del(ctx, prefix+"billing.events")
	if n, err := relay.PublishOnce(ctx); err != nil || n != 1 {
		t.Fatalf("PublishOnce after recovery = %d, %v; want 1", n, err)
	}
}

func TestConcurrentRelaysPublishEachEventOnce(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, nil)
	rdb, prefix := redistest.New(t)
	w := outbox.Writer{Producer: "billing"}
	const total = 1000
	events := make([]outbox.Event, 0, total)
	for i := range total {
		events = append(events, event("billing.events", "posting.recorded", "p", string(rune('a'+i%26))))
	}
	// Several transactions, as producers would write them.
	for i := 0; i < total; i += 250 {
		enqueue(t, ctx, db, w, events[i:i+250]...)
	}

	var wg sync.WaitGroup
	published := make([]int, 2)
	errs := make([]error, 2)
	for r := range 2 {
		relay := outbox.NewRelay(db.Pool, rdb, outbox.RelayConfig{StreamPrefix: prefix, BatchSize: 64}, quietLogger())
		wg.Go(func() {
			for ctx.Err() == nil {
				n, err := relay.PublishOnce(ctx)
				if err != nil {
					errs[r] = err
					return
				}
				published[r] += n
				if n == 0 {
					// Nothing claimable: done when nothing is left unpublished (the other relay
					// may still hold locked rows).
					var left int
					if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE published_at IS NULL`).Scan(&left); err != nil {
						errs[r] = err
						return
					}
					if left == 0 {
						return
					}
					time.Sleep(5 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("relay: %v", err)
		}
	}
	if published[0]+published[1] != total {
		t.Fatalf("relays reported %d + %d published, want %d", published[0], published[1], total)
	}
	entries, err := rdb.XRange(ctx, prefix+"billing.events", "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != total {
		t.Fatalf("stream has %d entries, want %d (each event exactly once)", len(entries), total)
	}
	ids := map[string]bool{}
	for _, e := range entries {
		ids[e.Values["event_id"].(string)] = true
	}
	if len(ids) != total {
		t.Fatalf("stream has %d distinct event ids, want %d", len(ids), total)
	}
	if n := count(t, db.Pool, `SELECT count(*) FROM outbox WHERE published_at IS NULL`); n != 0 {
		t.Fatalf("%d rows still unpublished", n)
	}
}

func TestReplayRepublishes(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, nil)
	rdb, prefix := redistest.New(t)
	w := outbox.Writer{Producer: "project"}
	before := time.Now().Add(-time.Minute)
	envs := enqueue(t, ctx, db, w,
		event("project.events", "project.created", "prj-1", "a"),
		event("project.events", "project.activated", "prj-1", "b"),
		event("project.events", "project.created", "prj-2", "c"))
	relay := outbox.NewRelay(db.Pool, rdb, outbox.RelayConfig{StreamPrefix: prefix}, quietLogger())
	if n, err := relay.PublishOnce(ctx); err != nil || n != 3 {
		t.Fatalf("PublishOnce = %d, %v", n, err)
	}

	n, err := outbox.Replay(ctx, db.Pool, "prj-1", time.Time{})
	if err != nil || n != 2 {
		t.Fatalf("Replay(prj-1) = %d, %v; want 2", n, err)
	}
	if n, err := relay.PublishOnce(ctx); err != nil || n != 2 {
		t.Fatalf("PublishOnce after replay = %d, %v; want 2", n, err)
	}
	entries, _ := rdb.XRange(ctx, prefix+"project.events", "-", "+").Result()
	if len(entries) != 5 {
		t.Fatalf("stream has %d entries, want 3 + 2 replayed", len(entries))
	}
	// The replayed entries carry the original event ids (consumers deduplicate on them).
	if entries[3].Values["event_id"] != envs[0].GetEventId() || entries[4].Values["event_id"] != envs[1].GetEventId() {
		t.Errorf("replayed ids = %v, %v", entries[3].Values["event_id"], entries[4].Values["event_id"])
	}

	// Replay by time: everything created since before.
	if n, err := outbox.Replay(ctx, db.Pool, "", before); err != nil || n != 3 {
		t.Fatalf("Replay(since) = %d, %v; want 3", n, err)
	}
	// Not yet published rows are not counted twice.
	if n, err := outbox.Replay(ctx, db.Pool, "", before); err != nil || n != 0 {
		t.Fatalf("second Replay(since) = %d, %v; want 0", n, err)
	}
}

func TestRelayRunWakesOnNotify(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, nil)
	rdb, prefix := redistest.New(t)
	w := outbox.Writer{Producer: "resource"}
	// Polling alone would take a minute: only the notification can publish within a second.
	relay := outbox.NewRelay(db.Pool, rdb, outbox.RelayConfig{StreamPrefix: prefix, PollInterval: time.Minute}, quietLogger())
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- relay.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})

	waitFor(t, 5*time.Second, "the relay to LISTEN", func() bool {
		return count(t, db.Pool, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN accrue_outbox'`) == 1
	})

	for i, subject := range []string{"res-1", "res-2"} {
		env := enqueue(t, ctx, db, w, event("resource.events", "cost_rate.changed", subject, "x"))[0]
		deadline := time.Now().Add(time.Second)
		for rdb.XLen(ctx, prefix+"resource.events").Val() != int64(i+1) {
			if time.Now().After(deadline) {
				t.Fatalf("event %d not published within 1s of commit", i+1)
			}
			time.Sleep(10 * time.Millisecond)
		}
		last, _ := rdb.XRevRangeN(ctx, prefix+"resource.events", "+", "-", 1).Result()
		if len(last) != 1 || last[0].Values["event_id"] != env.GetEventId() {
			t.Fatalf("last entry = %v, want event %s", last, env.GetEventId())
		}
	}
}

func TestRelayMaintenanceKeepsUnackedEntries(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, nil)
	rdb, prefix := redistest.New(t)
	stream := prefix + "billing.events"
	if err := rdb.XGroupCreateMkStream(ctx, stream, "project", "0").Err(); err != nil {
		t.Fatal(err)
	}
	enqueue(t, ctx, db, outbox.Writer{Producer: "billing"},
		event("billing.events", "posting.recorded", "p-1", "1"),
		event("billing.events", "posting.recorded", "p-2", "2"),
		event("billing.events", "posting.recorded", "p-3", "3"),
		event("billing.events", "posting.recorded", "p-4", "4"))

	relay := outbox.NewRelay(db.Pool, rdb, outbox.RelayConfig{StreamPrefix: prefix, PollInterval: 20 * time.Millisecond,
		MaintenanceInterval: 30 * time.Millisecond, TrimAfter: time.Millisecond, Retention: time.Millisecond}, quietLogger())
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- relay.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	waitFor(t, 5*time.Second, "4 entries published", func() bool { return rdb.XLen(ctx, stream).Val() == 4 })

	// The group reads three entries and acknowledges only the first.
	res, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "project", Consumer: "c1", Streams: []string{stream, ">"}, Count: 3}).Result()
	if err != nil || len(res[0].Messages) != 3 {
		t.Fatalf("XREADGROUP = %v, %v", res, err)
	}
	msgs := res[0].Messages
	if err := rdb.XAck(ctx, stream, "project", msgs[0].ID).Err(); err != nil {
		t.Fatal(err)
	}

	waitFor(t, 5*time.Second, "the acknowledged entry to be trimmed", func() bool { return rdb.XLen(ctx, stream).Val() < 4 })
	time.Sleep(200 * time.Millisecond) // several more maintenance rounds
	left, _ := rdb.XRange(ctx, stream, "-", "+").Result()
	if len(left) != 3 || left[0].ID != msgs[1].ID || left[1].ID != msgs[2].ID {
		t.Fatalf("stream after trim = %v; want the two pending entries and the undelivered one", left)
	}
	// Published rows past retention are swept from the outbox.
	waitFor(t, 5*time.Second, "the retention sweep", func() bool { return count(t, db.Pool, `SELECT count(*) FROM outbox`) == 0 })
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
