package outbox_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pgtest"
	"github.com/accrue/accrue/internal/platform/redistest"
)

// TestReplayEvents: a dry run lists the published events the filters select and writes nothing;
// a real run puts them back, the relay XADDs their stored envelopes again (an entry deleted from
// the stream is re-driven), and the run is audited.
func TestReplayEvents(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, nil)
	rdb, prefix := redistest.New(t)
	s := fmt.Sprintf("timeexpense.events.%d", time.Now().UnixNano())
	w := outbox.Writer{Producer: "timeexpense"}
	a := enqueue(t, correlation.With(ctx, "corr-a"), db, w,
		event(s, "time.approved", "entry-1", "8h"), event(s, "time.approved", "entry-2", "4h"))
	b := enqueue(t, correlation.With(ctx, "corr-b"), db, w,
		event(s, "time.rejected", "entry-3", "2h"), event(s, "time.approved", "entry-3", "2h"))
	relay := outbox.NewRelay(db.Pool, rdb, outbox.RelayConfig{StreamPrefix: prefix}, quietLogger())
	if n, err := relay.PublishOnce(ctx); err != nil || n != 4 {
		t.Fatalf("PublishOnce = %d, %v; want 4", n, err)
	}
	// The second event is dropped from the stream before anyone read it.
	entries := rdb.XRange(ctx, prefix+s, "-", "+").Val()
	if len(entries) != 4 {
		t.Fatalf("stream has %d entries, want 4", len(entries))
	}
	rdb.XDel(ctx, prefix+s, entries[1].ID)

	r := outbox.NewReplayer(db.Pool)
	reader := auth.WithPrincipal(ctx, auth.Principal{Subject: "analyst", ClientID: "analyst", Scopes: []string{"ops:read"}})
	writer := auth.WithPrincipal(ctx, auth.Principal{Subject: "operator", ClientID: "operator", Scopes: []string{"ops:read", "ops:write"}})
	ids := func(resp *opsv1.ReplayEventsResponse) []string {
		var out []string
		for _, e := range resp.GetEvents() {
			out = append(out, e.GetEventId())
		}
		return out
	}
	now := time.Now()
	for _, tc := range []struct {
		name string
		req  *opsv1.ReplayEventsRequest
		want []string
	}{
		{"all", &opsv1.ReplayEventsRequest{}, []string{a[0].GetEventId(), a[1].GetEventId(), b[0].GetEventId(), b[1].GetEventId()}},
		{"type", &opsv1.ReplayEventsRequest{EventType: "time.rejected"}, []string{b[0].GetEventId()}},
		{"subject", &opsv1.ReplayEventsRequest{Subject: "entry-3"}, []string{b[0].GetEventId(), b[1].GetEventId()}},
		{"correlation", &opsv1.ReplayEventsRequest{CorrelationId: "corr-a"}, []string{a[0].GetEventId(), a[1].GetEventId()}},
		{"type and correlation", &opsv1.ReplayEventsRequest{CorrelationId: "corr-b", EventType: "time.approved"}, []string{b[1].GetEventId()}},
		{"event ids", &opsv1.ReplayEventsRequest{EventIds: []string{a[1].GetEventId()}}, []string{a[1].GetEventId()}},
		{"since", &opsv1.ReplayEventsRequest{Since: timestamppb.New(now.Add(-time.Hour)), Until: timestamppb.New(now.Add(time.Hour)), EventType: "time.rejected"}, []string{b[0].GetEventId()}},
		{"future", &opsv1.ReplayEventsRequest{Since: timestamppb.New(now.Add(time.Hour))}, nil},
	} {
		tc.req.Service, tc.req.DryRun = "timeexpense", true
		resp, err := r.ReplayEvents(reader, tc.req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := ids(resp); fmt.Sprint(got) != fmt.Sprint(tc.want) || int(resp.GetMatchedCount()) != len(tc.want) || resp.GetReplayedCount() != 0 {
			t.Errorf("%s: dry run = %v (matched %d, replayed %d), want %v", tc.name, got, resp.GetMatchedCount(), resp.GetReplayedCount(), tc.want)
		}
	}

	// Paging: one event per page, four pages, then no token.
	var paged []string
	tok := ""
	for range 5 {
		resp, err := r.ReplayEvents(reader, &opsv1.ReplayEventsRequest{Service: "timeexpense", DryRun: true, PageSize: 1, PageToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, ids(resp)...)
		if tok = resp.GetNextPageToken(); tok == "" {
			break
		}
	}
	if len(paged) != 4 || paged[3] != b[1].GetEventId() {
		t.Errorf("paged dry run = %v, want the four events", paged)
	}
	if _, err := r.ReplayEvents(reader, &opsv1.ReplayEventsRequest{Service: "timeexpense", DryRun: true, PageToken: "bogus"}); reasonOf(err) != "INVALID_PAGE_TOKEN" {
		t.Errorf("bad page token: %v, want InvalidArgument", err)
	}

	// Dry runs wrote nothing; a real run without ops:write is refused and writes nothing either.
	if _, err := r.ReplayEvents(reader, &opsv1.ReplayEventsRequest{Service: "timeexpense", EventIds: []string{a[1].GetEventId()}}); reasonOf(err) != auth.ReasonScopeMissing {
		t.Errorf("real run with ops:read only: %v, want PermissionDenied", err)
	}
	if n := count(t, db.Pool, `SELECT count(*) FROM outbox WHERE published_at IS NULL`); n != 0 {
		t.Errorf("%d events put back by dry runs or a refused run, want 0", n)
	}
	if n := count(t, db.Pool, `SELECT count(*) FROM audit_log`); n != 0 {
		t.Errorf("%d audit records after dry runs, want 0", n)
	}
	if n := rdb.XLen(ctx, prefix+s).Val(); n != 3 {
		t.Errorf("stream has %d entries after dry runs, want 3", n)
	}

	// The real run re-drives the dropped event: the stream gets its stored envelope back.
	resp, err := r.ReplayEvents(writer, &opsv1.ReplayEventsRequest{Service: "timeexpense", EventIds: []string{a[1].GetEventId()}})
	if err != nil || resp.GetReplayedCount() != 1 || fmt.Sprint(ids(resp)) != fmt.Sprint([]string{a[1].GetEventId()}) {
		t.Fatalf("replay = %v, %v; want event %s replayed", resp, err, a[1].GetEventId())
	}
	if n := count(t, db.Pool, `SELECT count(*) FROM audit_log WHERE action = 'outbox.replayed' AND actor = 'operator'
		AND details->>'count' = '1' AND details->'event_ids'->>0 = $1`, a[1].GetEventId()); n != 1 {
		t.Errorf("%d audit records of the replay, want 1", n)
	}
	if n, err := relay.PublishOnce(ctx); err != nil || n != 1 {
		t.Fatalf("PublishOnce after replay = %d, %v; want 1", n, err)
	}
	entries = rdb.XRange(ctx, prefix+s, "-", "+").Val()
	if len(entries) != 4 {
		t.Fatalf("stream has %d entries after replay, want 4", len(entries))
	}
	var stored []byte
	if err := db.Pool.QueryRow(ctx, `SELECT envelope FROM outbox WHERE event_id = $1`, a[1].GetEventId()).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	last := entries[3]
	if last.Values["event_id"] != a[1].GetEventId() || !bytes.Equal([]byte(last.Values["envelope"].(string)), stored) {
		t.Errorf("re-driven entry = %v, want the stored envelope of %s", last.Values["event_id"], a[1].GetEventId())
	}
	if n := count(t, db.Pool, `SELECT count(*) FROM outbox WHERE published_at IS NULL`); n != 0 {
		t.Errorf("%d events left unpublished, want 0", n)
	}
}

func reasonOf(err error) string {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return fe.Reason
	}
	return fmt.Sprint(err)
}
