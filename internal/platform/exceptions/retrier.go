package exceptions

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/lifecycle"
)

// RetryDue retries open exceptions whose automatic retry time has come, with exponential backoff
// (base × 2^attempts, at most max) between failures. It returns how many it tried.
func (q *Queue) RetryDue(ctx context.Context, base, max time.Duration) (int, error) {
	rows, err := q.pool.Query(ctx, `SELECT id::text, attempts FROM exceptions
		WHERE status = 'OPEN' AND next_retry_at <= now() ORDER BY next_retry_at LIMIT 100`)
	if err != nil {
		return 0, err
	}
	type due struct {
		id       string
		attempts int
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (due, error) {
		var d due
		return d, r.Scan(&d.id, &d.attempts)
	})
	if err != nil {
		return 0, err
	}
	for _, d := range list {
		e, err := q.Retry(ctx, d.id, "system")
		if err != nil {
			q.log.WarnContext(ctx, "automatic retry skipped", "exception_id", d.id, "err", err)
			continue
		}
		if e.Status == StatusOpen && e.NextRetryAt != nil { // nil: StopRetrying, a human's turn
			delay := base << min(e.Attempts, 20)
			if delay > max || delay <= 0 {
				delay = max
			}
			if _, err := q.pool.Exec(ctx, `UPDATE exceptions SET next_retry_at = now() + make_interval(secs => $2)
				WHERE id = $1 AND status = 'OPEN'`, d.id, delay.Seconds()); err != nil {
				return len(list), err
			}
		}
	}
	return len(list), nil
}

// Retrier runs RetryDue every interval until ctx ends.
type Retrier struct {
	Queue    *Queue
	Interval time.Duration // 1s when zero
	Base     time.Duration // first backoff; 1s when zero
	Max      time.Duration // backoff cap; 5 minutes when zero
}

// Run retries due exceptions until ctx is cancelled.
func (r Retrier) Run(ctx context.Context) error {
	if r.Interval <= 0 {
		r.Interval = time.Second
	}
	if r.Base <= 0 {
		r.Base = time.Second
	}
	if r.Max <= 0 {
		r.Max = 5 * time.Minute
	}
	return lifecycle.Every(r.Interval, func(ctx context.Context) {
		if _, err := r.Queue.RetryDue(ctx, r.Base, r.Max); err != nil && ctx.Err() == nil {
			r.Queue.log.WarnContext(ctx, "exception retrier failed", "err", err)
		}
		r.Queue.sample(ctx)
	}).Run(ctx)
}

// sample refreshes the open-exceptions gauge.
func (q *Queue) sample(ctx context.Context) {
	rows, err := q.pool.Query(ctx, `SELECT kind, reason, count(*) FROM exceptions WHERE status = 'OPEN' GROUP BY kind, reason`)
	if err != nil {
		return
	}
	defer rows.Close()
	openGauge.Reset()
	for rows.Next() {
		var kind, reason string
		var n int64
		if rows.Scan(&kind, &reason, &n) == nil {
			openGauge.WithLabelValues(kind, reason).Set(float64(n))
		}
	}
}
