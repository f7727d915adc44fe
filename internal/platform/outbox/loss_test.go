package outbox_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/outbox"
)

func TestRelayRepublishesEverythingAfterTotalBrokerLoss(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := newLossEnv(t, false, "total.events")
	before := republished(t, e.stream)
	first := e.mustProduce(ctx, 10)
	relay := e.relay(outbox.RelayConfig{})
	if n, err := relay.PublishOnce(ctx); err != nil || n != 10 {
		t.Fatalf("PublishOnce = %d, %v", n, err)
	}
	e.start(e.consumer())
	waitFor(t, 5*time.Second, "the first 10 applied", func() bool { _, d := e.applied(); return d == 10 })
	recorded := e.recorded()

	// Redis forgets everything; new events keep coming.
	if err := e.rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	second := e.mustProduce(ctx, 5)
	start := time.Now()
	e.start(relay)
	waitFor(t, 10*time.Second, "all 15 events applied and the incident resolved", func() bool {
		_, d := e.applied()
		l := e.losses(ctx)
		return d == 15 && len(l) == 1 && l[0].Status == exceptions.StatusResolved
	})
	t.Logf("total loss detected, repaired and applied in %v", time.Since(start).Round(time.Millisecond))

	if rows, distinct := e.applied(); rows != 15 || distinct != 15 {
		t.Fatalf("effects = %d rows for %d events, want each of the 15 applied once", rows, distinct)
	}
	// The stream holds exactly the 10 lost events, re-published once, and the 5 new ones.
	events, _ := e.entries(ctx)
	if len(events) != 15 || !sameSet(events, append(slices.Clone(first), second...)) {
		t.Fatalf("stream holds %d entries %v, want the 10 lost and the 5 new events once each", len(events), events)
	}
	loss := e.losses(ctx)[0]
	var p outbox.BrokerLoss
	if err := json.Unmarshal(loss.Payload, &p); err != nil {
		t.Fatal(err)
	}
	if loss.Reason != outbox.ReasonBrokerLoss || loss.EntityID != e.stream || p.Entries != 10 || p.LastID != "0-0" || p.RecordedID != recorded {
		t.Fatalf("exception = %+v, payload %+v; want BROKER_DATA_LOST for 10 entries, last id 0-0, recorded %s", loss, p, recorded)
	}
	if loss.ResolvedBy != "outbox relay" || !strings.Contains(loss.ResolutionNote, "re-published 10 events") {
		t.Fatalf("resolution = %q by %q", loss.ResolutionNote, loss.ResolvedBy)
	}
	if got := republished(t, e.stream) - before; got != 10 {
		t.Fatalf("accrue_outbox_republished_total grew by %v, want 10", got)
	}
	reports := e.degradedReports()
	if !mentions(reports, e.stream) || reports[len(reports)-1] != "" {
		t.Fatalf("degraded reports = %q, want the stream named while repairing, then cleared", reports)
	}
	t.Logf("readiness reports: %q", reports)
}

// A failover to a replica that lagged: the newest entries are gone and the stream's last id went
// back. Only the rows recorded above it are published again.
func TestRelayRepublishesExactlyTheEntriesAPartialLossTook(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := newLossEnv(t, false, "partial.events")
	before := republished(t, e.stream)
	ids := e.mustProduce(ctx, 10)
	relay := e.relay(outbox.RelayConfig{})
	if n, err := relay.PublishOnce(ctx); err != nil || n != 10 {
		t.Fatalf("PublishOnce = %d, %v", n, err)
	}
	e.start(e.consumer())
	waitFor(t, 5*time.Second, "the 10 applied", func() bool { _, d := e.applied(); return d == 10 })

	// What the replica had: the first 6 entries, the group at the 6th.
	_, entryIDs := e.entries(ctx)
	key := lossPrefix + e.stream
	if err := e.rdb.XDel(ctx, key, entryIDs[6:]...).Err(); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]any{{"XSETID", key, entryIDs[5]}, {"XGROUP", "SETID", key, "ledger", entryIDs[5]}} {
		if err := e.rdb.Do(ctx, cmd...).Err(); err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
	}
	later := e.mustProduce(ctx, 2)
	e.start(relay)
	waitFor(t, 10*time.Second, "the incident resolved and the new events applied", func() bool {
		_, d := e.applied()
		l := e.losses(ctx)
		return d == 12 && len(l) == 1 && l[0].Status == exceptions.StatusResolved
	})
	if rows, distinct := e.applied(); rows != 12 || distinct != 12 {
		t.Fatalf("effects = %d rows for %d events, want 12 events applied once each", rows, distinct)
	}
	events, _ := e.entries(ctx)
	want := append(append(slices.Clone(ids[:6]), ids[6:]...), later...)
	if len(events) != 12 || !slices.Equal(events[:6], ids[:6]) || !sameSet(events, want) {
		t.Fatalf("stream = %v, want the 6 kept entries, the 4 lost ones re-published once, the 2 new ones", events)
	}
	var p outbox.BrokerLoss
	if err := json.Unmarshal(e.losses(ctx)[0].Payload, &p); err != nil {
		t.Fatal(err)
	}
	if p.Entries != 4 || p.LastID != entryIDs[5] || p.RecordedID != entryIDs[9] {
		t.Fatalf("loss = %+v, want 4 entries, last id %s, recorded %s", p, entryIDs[5], entryIDs[9])
	}
	if got := republished(t, e.stream) - before; got != 4 {
		t.Fatalf("accrue_outbox_republished_total grew by %v, want 4", got)
	}
}

// A broker that reloads its append-only file keeps its last ids: no alarm, nothing published
// twice, and the consumer's lag is 0 once it caught up.
func TestNoFalseAlarmAfterAnAppendOnlyReload(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := newLossEnv(t, true, "reload.events")
	before := republished(t, e.stream)
	relay := e.relay(outbox.RelayConfig{})
	consumer := e.consumer()
	e.start(relay)
	e.start(consumer)
	e.mustProduce(ctx, 10)
	waitFor(t, 5*time.Second, "the 10 applied", func() bool { _, d := e.applied(); return d == 10 })

	e.srv.Restart()
	e.mustProduce(ctx, 5)
	waitFor(t, 10*time.Second, "the 5 new applied", func() bool { _, d := e.applied(); return d == 15 })
	for range 3 {
		if err := relay.CheckBroker(ctx); err != nil {
			t.Fatalf("CheckBroker: %v", err)
		}
	}
	if l := e.losses(ctx); len(l) != 0 {
		t.Fatalf("broker loss exceptions after a reload: %+v", l)
	}
	if got := republished(t, e.stream) - before; got != 0 {
		t.Fatalf("%v events re-published after a reload, want 0", got)
	}
	if events, _ := e.entries(ctx); len(events) != 15 {
		t.Fatalf("stream holds %d entries, want 15 (nothing published twice)", len(events))
	}
	if rows, _ := e.applied(); rows != 15 {
		t.Fatalf("effects = %d, want 15", rows)
	}
	waitFor(t, 5*time.Second, "lag 0", func() bool { lag, err := consumer.Lag(ctx); return err == nil && lag == 0 })
	if r := e.degradedReports(); slices.ContainsFunc(r, func(s string) bool { return s != "" }) {
		t.Fatalf("degraded after a reload: %q", r)
	}
}
