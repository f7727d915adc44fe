package stream_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"

	"github.com/accrue/accrue/internal/platform/stream"
)

// gauge reads a stream collector's gauge for a dead-letter stream.
func gauge(t *testing.T, name, dlq string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(stream.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "stream" && l.GetValue() == dlq {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{stream=%q}", name, dlq)
	return 0
}

func TestDeadLetterStreamIsCappedAndWatched(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := newEnv(t)
	e.createGroup(t, testGroup)
	const dlq, maxLen, sent = "platformtest.captest.dlq", 100, 320
	pipe := e.rdb.Pipeline()
	for range sent {
		xaddPipe(t, pipe, e.stream(), newEnvelope(t, "entry", "1h", "corr"))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	last := newEnvelope(t, "entry-last", "1h", "corr-last")
	xadd(t, e.rdb, e.stream(), last)

	// Every event is unroutable: each is dead-lettered at its first delivery.
	c := e.consumer(t, stream.Config{DeadLetterStream: dlq, DeadLetterMaxLen: maxLen},
		func(ctx context.Context, msgs []stream.Message) error { return stream.Unroutable(msgs[0]) })
	run(t, c)
	waitFor(t, 60*time.Second, "every event dead-lettered", func() bool {
		return pending(t, e.rdb, e.stream(), testGroup) == 0 &&
			len(e.deadLetters(t, "platformtest.captest")) > 0 && lastDeadLetter(t, e, dlq) == last.GetEventId()
	})

	// MAXLEN ~ trims whole nodes (100 entries each): the stream holds at least the cap and
	// at most a node more, the newest entries kept.
	n := int64(len(e.deadLetters(t, "platformtest.captest")))
	if n < maxLen || n > maxLen+100 {
		t.Fatalf("dead-letter stream holds %d entries after %d dead letters, want %d to %d", n, sent+1, maxLen, maxLen+100)
	}
	if got := gauge(t, "accrue_stream_dead_letter_length", dlq); got != float64(n) {
		t.Errorf("length gauge = %v, want %d", got, n)
	}
	if got := gauge(t, "accrue_stream_dead_letter_near_cap", dlq); got != 1 {
		t.Errorf("near-cap gauge = %v, want 1", got)
	}
	// Every dead letter still has its exception (with the envelope), trimmed or not.
	if open, err := e.queue.CountOpen(ctx, stream.DeadLetterKind(testGroup, testStream), ""); err != nil || open != sent+1 {
		t.Errorf("open dead-letter exceptions = %d, %v; want %d", open, err, sent+1)
	}

	// An operator empties the stream: the next sample says so.
	if err := e.rdb.Del(ctx, e.prefix+dlq).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.SampleDeadLetters(ctx); err != nil {
		t.Fatal(err)
	}
	if l, near := gauge(t, "accrue_stream_dead_letter_length", dlq), gauge(t, "accrue_stream_dead_letter_near_cap", dlq); l != 0 || near != 0 {
		t.Errorf("after emptying: length %v, near cap %v; want 0 and 0", l, near)
	}
}

func xaddPipe(t *testing.T, pipe redis.Pipeliner, stream string, env *commonv1.EventEnvelope) {
	t.Helper()
	b, err := proto.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	pipe.XAdd(context.Background(), &redis.XAddArgs{Stream: stream,
		Values: []any{"event_id", env.GetEventId(), "type", env.GetType(), "envelope", b}})
}

func lastDeadLetter(t *testing.T, e env, dlq string) string {
	t.Helper()
	msgs, err := e.rdb.XRevRangeN(context.Background(), e.prefix+dlq, "+", "-", 1).Result()
	if err != nil || len(msgs) == 0 {
		return ""
	}
	id, _ := msgs[0].Values["event_id"].(string)
	return id
}

func TestPruneInboxDeletesOnlyRowsPastRetention(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := newEnv(t)
	if _, err := e.db.Pool.Exec(ctx, `INSERT INTO stream_inbox (consumer_group, event_id, stream_id, processed_at)
		SELECT 'billing', gen_random_uuid(), i::text || '-0', now() - interval '8 days' - i * interval '1 second'
		FROM generate_series(1, 2500) AS i`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Pool.Exec(ctx, `INSERT INTO stream_inbox (consumer_group, event_id, stream_id, processed_at)
		SELECT 'billing', gen_random_uuid(), i::text || '-1', now() - interval '6 days' FROM generate_series(1, 10) AS i`); err != nil {
		t.Fatal(err)
	}
	// As the service's role, in batches of 1000.
	n, err := stream.PruneInbox(ctx, e.db.AppPool(t), 7*24*time.Hour, 1000)
	if err != nil || n != 2500 {
		t.Fatalf("PruneInbox = %d, %v; want 2500 deleted", n, err)
	}
	var left int
	if err := e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM stream_inbox WHERE processed_at > now() - interval '7 days'`).Scan(&left); err != nil || left != 10 {
		t.Fatalf("rows left within retention = %d (%v), want 10", left, err)
	}
	if n, err := stream.PruneInbox(ctx, e.db.Pool, 7*24*time.Hour, 1000); err != nil || n != 0 {
		t.Fatalf("second prune = %d, %v; want nothing", n, err)
	}
	if _, err := stream.PruneInbox(ctx, e.db.Pool, 0, 1000); err == nil {
		t.Fatal("a zero retention was accepted")
	}
}
