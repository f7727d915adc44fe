package outbox

import (
	"context"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/types/known/timestamppb"

	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/paging"
)

// Replayer serves accrue.ops.v1.ExceptionService/ReplayEvents over one service's outbox (the
// exceptions.Server delegates to it).
type Replayer struct {
	pool *pgxpool.Pool
}

// NewReplayer returns the replay use case over pool's outbox.
func NewReplayer(pool *pgxpool.Pool) *Replayer {
	if pool == nil {
		panic("outbox: NewReplayer needs a pool")
	}
	return &Replayer{pool: pool}
}

// ReplayEvents lists (dry run) or re-drives the page of published events req selects. A real run
// needs ops:write and writes one audit record (actor, filters, count) in the transaction that
// puts the events back; the caller has checked req.Service.
func (r *Replayer) ReplayEvents(ctx context.Context, req *opsv1.ReplayEventsRequest) (*opsv1.ReplayEventsResponse, error) {
	if !req.GetDryRun() {
		if err := auth.RequireScope(ctx, "ops:write"); err != nil {
			return nil, err
		}
	}
	f := ReplayFilter{Type: req.GetEventType(), Subject: req.GetSubject(), CorrelationID: req.GetCorrelationId(),
		EventIDs: req.GetEventIds(), Limit: int(req.GetPageSize())}
	if req.Since != nil {
		f.Since = req.GetSince().AsTime()
	}
	if req.Until != nil {
		f.Until = req.GetUntil().AsTime()
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return nil, fault.Invalidf("REPLAY_RANGE_EMPTY", "until", "until must be after since")
	}
	if tok := req.GetPageToken(); tok != "" {
		id, key, err := paging.Decode(tok)
		n, perr := strconv.ParseInt(id, 10, 64)
		if err != nil || perr != nil || key != "outbox" || n <= 0 {
			return nil, fault.Invalidf(paging.ReasonInvalidToken, "page_token", "the page token is not one this service issued")
		}
		f.AfterID = n
	}
	resp := &opsv1.ReplayEventsResponse{DryRun: req.GetDryRun()}
	var list []Replayable
	var next int64
	run := func(q pgx.Tx) error {
		var err error
		list, next, err = Find(ctx, q, f)
		if err != nil || req.GetDryRun() || len(list) == 0 {
			return err
		}
		ids := make([]int64, len(list))
		for i, e := range list {
			ids[i] = e.ID
		}
		n, err := Redrive(ctx, q, ids)
		if err != nil {
			return err
		}
		resp.ReplayedCount = int32(n)
		return audit.Write(ctx, q, audit.Record{Action: "outbox.replayed", EntityType: "outbox", EntityID: req.GetService(),
			Details: map[string]any{"since": stamp(req.GetSince()), "until": stamp(req.GetUntil()), "event_type": f.Type,
				"subject": f.Subject, "correlation_id": f.CorrelationID, "event_ids": f.EventIDs,
				"after_id": f.AfterID, "count": n}})
	}
	if err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error { return run(tx) }); err != nil {
		return nil, err
	}
	resp.MatchedCount = int32(len(list))
	for _, e := range list {
		resp.Events = append(resp.Events, &opsv1.ReplayedEvent{EventId: e.EventID, Stream: e.Stream, EventType: e.Type,
			Subject: e.Subject, CorrelationId: e.CorrelationID, CreateTime: timestamppb.New(e.CreatedAt),
			PublishTime: timestamppb.New(e.PublishedAt)})
	}
	if next > 0 {
		resp.NextPageToken = paging.Encode(strconv.FormatInt(next, 10), "outbox")
	}
	return resp, nil
}

func stamp(t *timestamppb.Timestamp) string {
	if t == nil {
		return ""
	}
	return t.AsTime().UTC().Format("2006-01-02T15:04:05.999999999Z07:00")
}
