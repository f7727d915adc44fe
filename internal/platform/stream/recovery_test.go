package stream_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/pgtest"
	"github.com/accrue/accrue/internal/platform/redistest"
	"github.com/accrue/accrue/internal/platform/stream"
)

// privateEnv is an env on a redis-server of the test's own, which the test may flush or restart.
func privateEnv(t *testing.T, appendOnly bool) (env, *redistest.Server) {
	srv := redistest.Private(t, appendOnly)
	db := pgtest.New(t, effectsMigrations)
	return env{db: db, rdb: srv.Client(), prefix: "p:", queue: exceptions.NewQueue(db.Pool, quietLogger())}, srv
}

// metric returns the value of the gauge or counter name with the given labels (0 when absent).
func metric(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(stream.Collectors()...)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; ok && v != l.GetValue() {
					continue next
				}
			}
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func TestConsumerRecreatesItsGroupWhenTheBrokerForgetsIt(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e, srv := privateEnv(t, false)
	const group = "recreate"
	run(t, e.consumer(t, stream.Config{Group: group}, newRecorder().handle))
	recreated := func() float64 {
		return metric(t, "accrue_stream_group_recreated_total", map[string]string{"stream": testStream, "group": group})
	}
	before := recreated()

	publishAndWait := func(what string) {
		t.Helper()
		env := newEnvelope(t, what, "8h", "corr-"+what)
		start := time.Now()
		xadd(t, e.rdb, e.stream(), env)
		waitFor(t, 10*time.Second, "the event published "+what, func() bool { return effects(t, e.db, env.GetEventId()) == 1 })
		t.Logf("event published %s applied in %v", what, time.Since(start).Round(time.Millisecond))
	}
	waitFor(t, 5*time.Second, "the group", func() bool { return e.rdb.Exists(ctx, e.stream()).Val() == 1 })
	publishAndWait("before any loss")

	// Everything flushed: the next XREADGROUP answers NOGROUP, the consumer recreates its group
	// at id 0 and reads what was published since.
	if err := e.rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	publishAndWait("after FLUSHALL")

	// The broker restarted with no persistence at all.
	srv.Restart()
	publishAndWait("after an empty restart")

	// Only the stream deleted.
	if err := e.rdb.Del(ctx, e.stream()).Err(); err != nil {
		t.Fatal(err)
	}
	publishAndWait("after DEL of the stream")

	if got := recreated() - before; got < 3 {
		t.Errorf("accrue_stream_group_recreated_total grew by %v, want at least 3", got)
	}
	if got := effects(t, e.db, ""); got != 4 {
		t.Errorf("effects = %d, want 4 (each event once)", got)
	}
}

func TestLagIsCountedNotTakenFromAStaleRedisFigure(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e, srv := privateEnv(t, true)
	const group = "lagcount"
	c := e.consumer(t, stream.Config{Group: group}, newRecorder().handle)
	e.createGroup(t, group)
	for i := range 5 {
		xadd(t, e.rdb, e.stream(), newEnvelope(t, fmt.Sprintf("lag-%d", i), "1h", "corr-lag"))
	}
	gauge := func() float64 {
		c.SampleLag(ctx)
		return metric(t, "accrue_stream_lag", map[string]string{"stream": testStream, "group": group})
	}
	redisLag := func() int64 {
		g, err := e.rdb.XInfoGroups(ctx, e.stream()).Result()
		if err != nil || len(g) != 1 {
			t.Fatalf("XINFO GROUPS = %v, %v", g, err)
		}
		return g[0].Lag
	}
	// Three of five delivered, then the broker reloads its append-only file: Redis no longer
	// knows the lag (nil), the consumer counts it.
	if err := e.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: "other", Streams: []string{e.stream(), ">"}, Count: 3}).Err(); err != nil {
		t.Fatal(err)
	}
	srv.Restart()
	t.Logf("after the reload Redis reports lag %d", redisLag())
	if got := gauge(); got != 2 {
		t.Fatalf("lag after a reload with 2 entries undelivered = %v, want 2", got)
	}
	// Everything delivered and the broker reloaded again: nothing is undelivered, lag 0.
	if err := e.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: "other", Streams: []string{e.stream(), ">"}, Count: 10}).Err(); err != nil {
		t.Fatal(err)
	}
	srv.Restart()
	if got := gauge(); got != 0 {
		t.Fatalf("lag after a reload with everything delivered = %v, want 0", got)
	}
	// The group lost (only the group): it will re-read the whole stream.
	if err := e.rdb.XGroupDestroy(ctx, e.stream(), group).Err(); err != nil {
		t.Fatal(err)
	}
	if got := gauge(); got != 5 {
		t.Fatalf("lag with the group missing = %v, want 5 (the stream's length)", got)
	}
	// The stream lost too: nothing to read, and the gauge says so instead of keeping 5.
	if err := e.rdb.Del(ctx, e.stream()).Err(); err != nil {
		t.Fatal(err)
	}
	if got := gauge(); got != 0 {
		t.Fatalf("lag with the stream missing = %v, want 0", got)
	}
}
