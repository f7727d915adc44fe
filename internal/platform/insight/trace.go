package insight

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
)

// TraceQuery is what to trace: business keys, correlation ids already known, and event ids
// published elsewhere (to find which this service consumed).
type TraceQuery struct {
	Keys, CorrelationIDs, EventIDs []string
	Limit                          int
}

// Timeline is a service's answer to a TraceQuery.
type Timeline struct {
	Items             []Item
	CorrelationIDs    []string
	RelatedKeys       []string
	PublishedEventIDs []string
	Truncated         bool
}

// Trace finds the correlation ids the keys map to (the keys themselves count as correlation ids
// too: an operator may paste one), then the service's audit records, outbox events and exceptions
// about the keys or under those correlation ids, its inbox entries for the event ids, and what the
// registered hooks find. Items come oldest first.
func (in *Insight) Trace(ctx context.Context, q TraceQuery) (Timeline, error) {
	if q.Limit <= 0 {
		q.Limit = 200
	}
	var t Timeline
	keys := nonEmpty(q.Keys)
	corr := map[string]bool{}
	for _, c := range append(nonEmpty(q.CorrelationIDs), keys...) {
		if c != "" {
			corr[c] = true
		}
	}
	hooks, _, _ := in.snapshot()
	related := map[string]bool{}
	for _, h := range hooks {
		f, err := h(ctx, keys, setList(corr), q.Limit)
		if err != nil {
			return t, fmt.Errorf("insight: trace hook: %w", err)
		}
		t.Items = append(t.Items, f.Items...)
		t.Truncated = t.Truncated || f.Truncated
		for _, c := range f.CorrelationIDs {
			if c != "" {
				corr[c] = true
			}
		}
		for _, k := range f.RelatedKeys {
			if k != "" && !slices.Contains(keys, k) {
				related[k] = true
			}
		}
	}
	// Correlation ids of the requests and failures about the keys.
	rows, err := in.pool.Query(ctx, `SELECT correlation_id FROM audit_log WHERE entity_id = ANY($1) AND correlation_id <> ''
		UNION SELECT correlation_id FROM exceptions WHERE entity_id = ANY($1) AND correlation_id <> ''`, keys)
	if err != nil {
		return t, fmt.Errorf("insight: trace correlation ids: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return t, fmt.Errorf("insight: trace correlation ids: %w", err)
	}
	for _, c := range ids {
		corr[c] = true
	}
	corrList := setList(corr)

	if err := in.traceAudit(ctx, keys, corrList, q.Limit, &t); err != nil {
		return t, err
	}
	if err := in.traceOutbox(ctx, keys, corrList, q.Limit, &t, corr); err != nil {
		return t, err
	}
	if err := in.traceExceptions(ctx, keys, corrList, q.Limit, &t); err != nil {
		return t, err
	}
	if err := in.traceInbox(ctx, q.EventIDs, q.Limit, &t); err != nil {
		return t, err
	}
	for c := range corr {
		if !slices.Contains(keys, c) || slices.ContainsFunc(t.Items, func(i Item) bool { return i.CorrelationID == c }) {
			t.CorrelationIDs = append(t.CorrelationIDs, c)
		}
	}
	sort.Strings(t.CorrelationIDs)
	t.RelatedKeys = setList(related)
	sort.SliceStable(t.Items, func(i, j int) bool { return t.Items[i].Time.Before(t.Items[j].Time) })
	return t, nil
}

func (in *Insight) traceAudit(ctx context.Context, keys, corr []string, limit int, t *Timeline) error {
	rows, err := in.pool.Query(ctx, `SELECT occurred_at, action, entity_type, entity_id, correlation_id, actor, reason
		FROM audit_log WHERE correlation_id = ANY($1) OR entity_id = ANY($2) ORDER BY id LIMIT $3`, corr, keys, limit+1)
	if err != nil {
		return fmt.Errorf("insight: trace audit: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var it Item
		var actor, reason string
		if err := rows.Scan(&it.Time, &it.Title, &it.EntityType, &it.EntityID, &it.CorrelationID, &actor, &reason); err != nil {
			return err
		}
		if n++; n > limit {
			t.Truncated = true
			break
		}
		it.Kind, it.Status, it.Detail = KindRequest, "DONE", "by "+actor
		if reason != "" {
			it.Detail += ": " + reason
		}
		t.Items = append(t.Items, it)
	}
	return rows.Err()
}

func (in *Insight) traceOutbox(ctx context.Context, keys, corr []string, limit int, t *Timeline, corrSet map[string]bool) error {
	// The correlation id lives in the envelope (protobuf): rows are preselected by a byte search
	// for the id, then decoded and checked.
	needles := make([][]byte, 0, len(corr))
	for _, c := range corr {
		needles = append(needles, []byte(c))
	}
	rows, err := in.pool.Query(ctx, `SELECT event_id::text, stream, event_type, subject, envelope, created_at, published_at
		FROM outbox WHERE subject = ANY($1) OR event_id::text = ANY($1)
		   OR EXISTS (SELECT 1 FROM unnest($2::bytea[]) AS c(b) WHERE position(c.b IN envelope) > 0)
		ORDER BY id LIMIT $3`, keys, needles, limit+1)
	if err != nil {
		return fmt.Errorf("insight: trace outbox: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var it Item
		var stream, subject string
		var raw []byte
		var published *time.Time
		if err := rows.Scan(&it.EventID, &stream, &it.Title, &subject, &raw, &it.Time, &published); err != nil {
			return err
		}
		var env commonv1.EventEnvelope
		if err := proto.Unmarshal(raw, &env); err == nil {
			it.CorrelationID = env.GetCorrelationId()
		}
		if !slices.Contains(keys, subject) && !slices.Contains(keys, it.EventID) && !corrSet[it.CorrelationID] {
			continue // the bytes matched by chance
		}
		if n++; n > limit {
			t.Truncated = true
			break
		}
		it.Kind, it.EntityID, it.Detail = KindEventPublished, subject, "on "+stream
		it.Status = "PENDING"
		if published != nil {
			it.Status = "PUBLISHED"
		}
		t.Items = append(t.Items, it)
		t.PublishedEventIDs = append(t.PublishedEventIDs, it.EventID)
	}
	return rows.Err()
}

func (in *Insight) traceExceptions(ctx context.Context, keys, corr []string, limit int, t *Timeline) error {
	rows, err := in.pool.Query(ctx, `SELECT id::text, created_at, kind, reason, message, status, entity_type, entity_id, correlation_id
		FROM exceptions WHERE correlation_id = ANY($1) OR entity_id = ANY($2) OR id::text = ANY($2)
		ORDER BY created_at LIMIT $3`, corr, keys, limit+1)
	if err != nil {
		return fmt.Errorf("insight: trace exceptions: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var it Item
		var id, kind, reason, msg string
		if err := rows.Scan(&id, &it.Time, &kind, &reason, &msg, &it.Status, &it.EntityType, &it.EntityID, &it.CorrelationID); err != nil {
			return err
		}
		if n++; n > limit {
			t.Truncated = true
			break
		}
		it.Kind, it.Title, it.EventID, it.Detail = KindException, reason, "", kind+": "+msg+" (exception "+id+")"
		t.Items = append(t.Items, it)
	}
	return rows.Err()
}

func (in *Insight) traceInbox(ctx context.Context, eventIDs []string, limit int, t *Timeline) error {
	ids := make([]string, 0, len(eventIDs))
	for _, id := range eventIDs {
		if _, err := uuid.Parse(id); err == nil {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	rows, err := in.pool.Query(ctx, `SELECT consumer_group, event_id::text, processed_at FROM stream_inbox
		WHERE event_id = ANY($1::uuid[]) ORDER BY processed_at LIMIT $2`, ids, limit+1)
	if err != nil {
		return fmt.Errorf("insight: trace inbox: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var it Item
		var group string
		if err := rows.Scan(&group, &it.EventID, &it.Time); err != nil {
			return err
		}
		if n++; n > limit {
			t.Truncated = true
			break
		}
		it.Kind, it.Title, it.Status, it.Detail = KindEventConsumed, "consumed by "+group, "APPLIED", "group "+group
		t.Items = append(t.Items, it)
	}
	return rows.Err()
}

// nonEmpty drops empty keys, duplicates and keys Postgres text cannot hold (NUL): no record has them.
func nonEmpty(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if s != "" && !strings.ContainsRune(s, 0) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func setList(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
