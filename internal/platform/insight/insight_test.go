package insight_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/insight"
	"github.com/accrue/accrue/internal/platform/pgtest"
	"github.com/accrue/accrue/internal/platform/redistest"
)

func newInsight(t *testing.T) (*insight.Insight, *pgtest.DB) {
	t.Helper()
	db := pgtest.New(t, nil)
	rdb, prefix := redistest.New(t)
	in, err := insight.New(db.Pool, rdb, "project", prefix)
	if err != nil {
		t.Fatal(err)
	}
	return in, db
}

// A project converted under one correlation id: its audit record, the event it published (the
// correlation id inside the envelope), an exception, and the project itself (a hook) are one
// timeline; the hook's related key and the consumer's inbox row come back too.
func TestTraceFindsEverythingUnderTheKeysCorrelationIDs(t *testing.T) {
	t.Parallel()
	in, db := newInsight(t)
	ctx := correlation.With(context.Background(), "corr-convert-1")
	projectID, eventID := uuid.NewString(), uuid.Must(uuid.NewV7()).String()
	if err := audit.Write(ctx, db.Pool, audit.Record{Action: "project.created", EntityType: "project", EntityID: projectID}); err != nil {
		t.Fatal(err)
	}
	env, _ := proto.Marshal(&commonv1.EventEnvelope{EventId: eventID, Type: "project.created", Subject: projectID, CorrelationId: "corr-convert-1"})
	other, _ := proto.Marshal(&commonv1.EventEnvelope{EventId: uuid.NewString(), Type: "project.created", Subject: "x", CorrelationId: "corr-other"})
	if _, err := db.Pool.Exec(ctx, `INSERT INTO outbox (event_id, stream, event_type, subject, envelope)
		VALUES ($1, 'project.events', 'project.created', 'someone-else', $2), ($3, 'project.events', 'project.created', 'x', $4)`,
		eventID, env, uuid.NewString(), other); err != nil {
		t.Fatal(err)
	}
	q := exceptions.NewQueue(db.Pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, err := q.Record(ctx, nil, exceptions.New{Kind: "project.financial_activation", Reason: "BILLING_UNAVAILABLE",
		EntityType: "project", EntityID: projectID}); err != nil {
		t.Fatal(err)
	}
	in.AddTraceHook(func(_ context.Context, keys, _ []string, _ int) (insight.Found, error) {
		if !slices.Contains(keys, "006-OPP") {
			return insight.Found{}, nil
		}
		return insight.Found{Items: []insight.Item{{Time: time.Now(), Kind: insight.KindProject, EntityID: projectID, Status: "ACTIVE"}},
			RelatedKeys: []string{projectID}}, nil
	})

	tl, err := in.Trace(context.Background(), insight.TraceQuery{Keys: []string{"006-OPP"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Items) != 1 || tl.Items[0].Kind != insight.KindProject || !slices.Equal(tl.RelatedKeys, []string{projectID}) {
		t.Fatalf("opportunity trace: %+v, want the project and its id as a related key", tl)
	}
	tl, err = in.Trace(context.Background(), insight.TraceQuery{Keys: []string{projectID}})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, it := range tl.Items {
		kinds[it.Kind]++
		if it.CorrelationID != "corr-convert-1" {
			t.Errorf("item %+v under another correlation id", it)
		}
	}
	if kinds[insight.KindRequest] != 1 || kinds[insight.KindEventPublished] != 1 || kinds[insight.KindException] != 1 || len(tl.Items) != 3 {
		t.Errorf("project trace kinds %v, want one request, one event (found by its correlation id, not the other one), one exception", kinds)
	}
	if !slices.Equal(tl.CorrelationIDs, []string{"corr-convert-1"}) || !slices.Equal(tl.PublishedEventIDs, []string{eventID}) {
		t.Errorf("correlation ids %v, published %v; want corr-convert-1 and %s", tl.CorrelationIDs, tl.PublishedEventIDs, eventID)
	}

	if _, err := db.Pool.Exec(ctx, `INSERT INTO stream_inbox (consumer_group, event_id, stream_id) VALUES ('billing', $1, '1-0')`, eventID); err != nil {
		t.Fatal(err)
	}
	tl, err = in.Trace(context.Background(), insight.TraceQuery{EventIDs: []string{eventID, "not-a-uuid"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Items) != 1 || tl.Items[0].Kind != insight.KindEventConsumed || tl.Items[0].EventID != eventID {
		t.Errorf("inbox trace %+v, want the event consumed by billing", tl.Items)
	}
}

// KPIs are computed from the registered sources, recorded as samples, and read back in time order.
func TestKpisAreRecordedAndReadBack(t *testing.T) {
	t.Parallel()
	in, _ := newInsight(t)
	n := 0
	in.AddKpiSource(func(context.Context) ([]insight.KpiValue, error) {
		n++
		return []insight.KpiValue{{KPI: "unbilled_time", Value: "1250.50", Currency: "USD"}, {KPI: "projects_awaiting", Value: "3"}}, nil
	})
	ctx := context.Background()
	first, err := in.Record(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.Record(ctx); err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 || n != 2 {
		t.Fatalf("recorded %v after %d source calls", first, n)
	}
	hist, err := in.History(ctx, "unbilled_time", time.Now().Add(-time.Hour), time.Now().Add(time.Second), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Value != "1250.50" || hist[0].Currency != "USD" || hist[1].At.Before(hist[0].At) {
		t.Errorf("history %+v, want two USD samples of 1250.50, oldest first", hist)
	}
	all, err := in.History(ctx, "", time.Now().Add(-time.Hour), time.Now().Add(time.Second), 3)
	if err != nil || len(all) != 3 {
		t.Errorf("history of every KPI limited to 3: %d samples (%v)", len(all), err)
	}
}

// The outbox backlog counts unpublished rows; the streams they go to are listed as produced.
func TestStreamHealthReportsTheOutboxBacklog(t *testing.T) {
	t.Parallel()
	in, db := newInsight(t)
	env, _ := proto.Marshal(&commonv1.EventEnvelope{EventId: uuid.NewString()})
	if _, err := db.Pool.Exec(context.Background(), `INSERT INTO outbox (event_id, stream, event_type, subject, envelope, created_at)
		VALUES ($1, 'project.events', 'project.created', 'p', $2, now() - interval '90 seconds'),
		       ($3, 'project.events', 'project.created', 'p', $2, now())`, uuid.NewString(), env, uuid.NewString()); err != nil {
		t.Fatal(err)
	}
	h, err := in.StreamHealth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if h.Outbox.Unpublished != 2 || h.Outbox.OldestAge < 89*time.Second || len(h.Produced) != 1 || h.Produced[0].Stream != "project.events" {
		t.Errorf("stream health %+v, want 2 unpublished, the oldest 90 s old, produced project.events", h)
	}
}
