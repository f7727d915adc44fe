package insight

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/accrue/accrue/internal/platform/stream"
)

// Produced is a stream the service publishes to.
type Produced struct {
	Stream string
	Length int64
}

// Backlog is the outbox rows the relay has not published yet.
type Backlog struct {
	Unpublished int64
	OldestAge   time.Duration
}

// StreamHealth is the service's streams and outbox.
type StreamHealth struct {
	Groups   []stream.GroupHealth
	Produced []Produced
	Outbox   Backlog
}

// StreamHealth reads the health of the service's consumer groups, the streams its outbox
// publishes to (those the relay has published to) and its outbox backlog.
func (in *Insight) StreamHealth(ctx context.Context) (StreamHealth, error) {
	var h StreamHealth
	_, _, groups := in.snapshot()
	for _, g := range groups {
		gh, err := g.Health(ctx)
		if err != nil {
			return h, fmt.Errorf("insight: stream health: %w", err)
		}
		h.Groups = append(h.Groups, gh)
	}
	rows, err := in.pool.Query(ctx, `SELECT stream FROM outbox_streams
		UNION SELECT DISTINCT stream FROM outbox WHERE published_at IS NULL ORDER BY 1`)
	if err != nil {
		return h, fmt.Errorf("insight: produced streams: %w", err)
	}
	var names []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return h, err
		}
		names = append(names, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return h, err
	}
	for _, s := range names {
		n, err := in.rdb.XLen(ctx, in.prefix+s).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return h, fmt.Errorf("insight: stream length: %w", err)
		}
		h.Produced = append(h.Produced, Produced{Stream: s, Length: n})
	}
	var secs float64
	if err := in.pool.QueryRow(ctx, `SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8
		FROM outbox WHERE published_at IS NULL`).Scan(&h.Outbox.Unpublished, &secs); err != nil {
		return h, fmt.Errorf("insight: outbox backlog: %w", err)
	}
	h.Outbox.OldestAge = time.Duration(secs * float64(time.Second))
	return h, nil
}
