package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/insight"
)

// TraceDeliveries is the dispatcher's trace hook (insight.TraceHook): the outbound webhook
// deliveries of the events whose id or subject is among keys or whose correlation id is among
// keys or corr, oldest event first, at most limit (Truncated when there are more). Each item says
// the subscription, the event, the status, the attempts and the last HTTP status code.
func (s *Store) TraceDeliveries(ctx context.Context, keys, corr []string, limit int) (insight.Found, error) {
	var f insight.Found
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.Q(ctx).Query(ctx, `SELECT d.subscription_id::text, e.event_id, e.type, e.subject, e.correlation_id,
			e.recorded_at, d.status, d.attempts, d.last_status_code, d.delivered_at
		FROM webhook_events e JOIN webhook_deliveries d ON d.event_id = e.event_id
		WHERE e.event_id = ANY($1) OR e.subject = ANY($1)
		   OR (e.correlation_id <> '' AND (e.correlation_id = ANY($1) OR e.correlation_id = ANY($2)))
		ORDER BY e.seq, d.subscription_id LIMIT $3`, keys, corr, limit+1)
	if err != nil {
		return f, err
	}
	type row struct {
		sub, event, typ, subject, corr, status string
		at                                     time.Time
		attempts, code                         int
		delivered                              *time.Time
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.sub, &x.event, &x.typ, &x.subject, &x.corr, &x.at, &x.status, &x.attempts, &x.code, &x.delivered)
		return x, err
	})
	if err != nil {
		return f, err
	}
	if len(list) > limit {
		list, f.Truncated = list[:limit], true
	}
	seen := map[string]bool{}
	for _, x := range list {
		at := x.at
		if x.delivered != nil {
			at = *x.delivered
		}
		f.Items = append(f.Items, insight.Item{Time: at, Kind: insight.KindDelivery, Title: "webhook " + x.typ,
			Status: x.status, EntityType: "webhook_subscription", EntityID: x.sub, CorrelationID: x.corr, EventID: x.event,
			Detail: fmt.Sprintf("subject %s, %d attempts, last status code %d", x.subject, x.attempts, x.code)})
		if x.corr != "" && !seen[x.corr] {
			seen[x.corr] = true
			f.CorrelationIDs = append(f.CorrelationIDs, x.corr)
		}
	}
	return f, nil
}
