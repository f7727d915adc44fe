package stream

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// What the consumers keep, and for how long: inbox rows until PruneInbox removes them, dead
// letters up to Config.DeadLetterMaxLen per dead-letter stream.

// NearCapRatio is the share of DeadLetterMaxLen from which a dead-letter stream counts as near
// its cap (accrue_stream_dead_letter_near_cap): past the cap, XADD trims its oldest entries.
const NearCapRatio = 0.9

var (
	deadLetterLength = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "accrue_stream_dead_letter_length", Help: "Entries in a dead-letter stream (sampled).",
	}, []string{"stream"})
	deadLetterNearCap = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "accrue_stream_dead_letter_near_cap",
		Help: "1 when a dead-letter stream holds 90% or more of its cap: its oldest entries are about to be trimmed (their exceptions keep the envelopes).",
	}, []string{"stream"})
)

// SampleDeadLetters updates the length and near-cap gauges of the consumer's dead-letter stream.
// The consumer samples after each dead letter; call it periodically too (service.Base does), so
// the gauges follow an operator trimming the stream.
func (c *Consumer) SampleDeadLetters(ctx context.Context) error {
	n, err := c.rdb.XLen(ctx, c.cfg.StreamPrefix+c.cfg.DeadLetterStream).Result()
	if err != nil {
		return fmt.Errorf("stream: dead-letter length: %w", err)
	}
	deadLetterLength.WithLabelValues(c.cfg.DeadLetterStream).Set(float64(n))
	near := 0.0
	if float64(n) >= NearCapRatio*float64(c.cfg.DeadLetterMaxLen) {
		near = 1
	}
	deadLetterNearCap.WithLabelValues(c.cfg.DeadLetterStream).Set(near)
	return nil
}

// PruneInbox deletes the inbox rows of events processed before now - retention, at most batch
// rows per statement (so no statement holds many locks or runs long), until none is left, and
// returns how many it deleted. An event redelivered after its row is gone would be applied
// again: keep retention at least as long as the outbox keeps published events for replay
// (service.Limits.InboxRetention is checked against it).
func PruneInbox(ctx context.Context, pool *pgxpool.Pool, retention time.Duration, batch int) (int64, error) {
	if retention <= 0 || batch <= 0 {
		return 0, fmt.Errorf("stream: PruneInbox needs a positive retention and batch")
	}
	var total int64
	for {
		tag, err := pool.Exec(ctx, `DELETE FROM stream_inbox WHERE ctid = ANY (ARRAY(
			SELECT ctid FROM stream_inbox WHERE processed_at < now() - make_interval(secs => $1) LIMIT $2))`,
			retention.Seconds(), batch)
		if err != nil {
			return total, fmt.Errorf("stream: prune inbox: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < int64(batch) || ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}
