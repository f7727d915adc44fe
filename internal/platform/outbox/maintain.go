package outbox

import (
	"context"
	"fmt"
	"time"
)

// maintain deletes published rows past retention, samples the backlog and trims streams.
func (r *Relay) maintain(ctx context.Context) {
	if _, err := r.pool.Exec(ctx, `DELETE FROM outbox WHERE published_at < now() - make_interval(secs => $1)`,
		r.cfg.Retention.Seconds()); err != nil {
		r.log.WarnContext(ctx, "outbox relay: retention sweep failed", "err", err)
	}
	var backlog int64
	if err := r.pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE published_at IS NULL`).Scan(&backlog); err == nil {
		backlogGauge.Set(float64(backlog))
	}
	r.mu.Lock()
	streams := make([]string, 0, len(r.streams))
	for s := range r.streams {
		streams = append(streams, s)
	}
	r.mu.Unlock()
	for _, s := range streams {
		if err := r.trim(ctx, s); err != nil {
			r.log.WarnContext(ctx, "outbox relay: trim failed", "stream", s, "err", err)
		}
	}
}

// trim removes entries older than TrimAfter that every consumer group has acknowledged. A stream
// without consumer groups is left alone, as is anything at or after a group's oldest pending entry
// or after its last delivered entry.
func (r *Relay) trim(ctx context.Context, stream string) error {
	groups, err := r.rdb.XInfoGroups(ctx, stream).Result()
	if err != nil || len(groups) == 0 {
		return err
	}
	floor := fmt.Sprintf("%d-0", time.Now().Add(-r.cfg.TrimAfter).UnixMilli())
	for _, g := range groups {
		limit := nextID(g.LastDeliveredID)
		if g.Pending > 0 {
			p, err := r.rdb.XPending(ctx, stream, g.Name).Result()
			if err != nil {
				return err
			}
			limit = p.Lower
		}
		if lessID(limit, floor) {
			floor = limit
		}
	}
	return r.rdb.XTrimMinID(ctx, stream, floor).Err()
}
