package outbox

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/accrue/accrue/internal/platform/pg"
)

// RelayConfig configures a Relay. Zero values take the documented defaults.
type RelayConfig struct {
	// BatchSize is how many rows one transaction claims and one pipeline publishes; 500.
	BatchSize int
	// PollInterval is how long the relay waits for a notification before looking anyway; 1s.
	PollInterval time.Duration
	// StreamPrefix is prepended to every stream name (deployment or test isolation); "".
	StreamPrefix string
	// Retention is how long published rows stay in the outbox for replay; 7 days.
	Retention time.Duration
	// TrimAfter: stream entries older than this that every consumer group has acknowledged are
	// trimmed (XTRIM MINID); 24h. Entries still pending or undelivered are never trimmed.
	TrimAfter time.Duration
	// MaintenanceInterval is how often the retention sweep and the trim run; 1 minute.
	MaintenanceInterval time.Duration
	// Linger is how long the relay waits after a notification before it claims rows, so that
	// rows other transactions commit meanwhile go out in the same claim and pipeline; 0.
	Linger time.Duration
}

func (c *RelayConfig) defaults() {
	if c.BatchSize <= 0 {
		c.BatchSize = 500
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.Retention <= 0 {
		c.Retention = 7 * 24 * time.Hour
	}
	if c.TrimAfter <= 0 {
		c.TrimAfter = 24 * time.Hour
	}
	if c.MaintenanceInterval <= 0 {
		c.MaintenanceInterval = time.Minute
	}
}

// Relay publishes outbox rows to Redis Streams. Several relays may run against one database.
type Relay struct {
	pool *pgxpool.Pool
	rdb  redis.UniversalClient
	cfg  RelayConfig
	log  *slog.Logger

	mu      sync.Mutex
	streams map[string]struct{}
}

var (
	publishedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "accrue_outbox_published_total", Help: "Events published from the outbox to Redis Streams.",
	}, []string{"stream"})
	backlogGauge = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "accrue_outbox_backlog", Help: "Outbox rows not yet published (sampled by the relay).",
	})
)

// Collectors returns the relay's Prometheus collectors.
func Collectors() []prometheus.Collector { return []prometheus.Collector{publishedTotal, backlogGauge} }

// NewRelay returns a relay; it does nothing until Run.
func NewRelay(pool *pgxpool.Pool, rdb redis.UniversalClient, cfg RelayConfig, log *slog.Logger) *Relay {
	if pool == nil || rdb == nil || log == nil {
		panic("outbox: NewRelay needs a pool, a redis client and a logger")
	}
	cfg.defaults()
	return &Relay{pool: pool, rdb: rdb, cfg: cfg, log: log, streams: map[string]struct{}{}}
}

// Run publishes until ctx is cancelled. It wakes on the outbox trigger's notifications and polls
// every PollInterval in case a notification was missed.
func (r *Relay) Run(ctx context.Context) error {
	wake := make(chan struct{}, 1)
	go r.listen(ctx, wake)
	maint := time.NewTicker(r.cfg.MaintenanceInterval)
	defer maint.Stop()
	poll := time.NewTimer(0)
	defer poll.Stop()
	for {
		n, err := r.PublishOnce(ctx)
		if err != nil && ctx.Err() == nil {
			r.log.ErrorContext(ctx, "outbox relay: publish failed", "err", err)
		}
		if err == nil && n == r.cfg.BatchSize {
			continue // more may be waiting
		}
		poll.Reset(r.cfg.PollInterval)
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
			if r.cfg.Linger > 0 {
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(r.cfg.Linger):
				}
			}
		case <-poll.C:
		case <-maint.C:
			r.maintain(ctx)
		}
	}
}

// listen forwards Postgres notifications on the outbox channel to wake. It reconnects on errors.
func (r *Relay) listen(ctx context.Context, wake chan<- struct{}) {
	for ctx.Err() == nil {
		err := func() error {
			conn, err := r.pool.Acquire(ctx)
			if err != nil {
				return err
			}
			defer conn.Release()
			if _, err := conn.Exec(ctx, "LISTEN accrue_outbox"); err != nil {
				return err
			}
			defer conn.Exec(context.WithoutCancel(ctx), "UNLISTEN accrue_outbox") //nolint:errcheck
			for {
				if _, err := conn.Conn().WaitForNotification(ctx); err != nil {
					return err
				}
				select {
				case wake <- struct{}{}:
				default:
				}
			}
		}()
		if ctx.Err() != nil {
			return
		}
		r.log.WarnContext(ctx, "outbox relay: listen failed, polling until it reconnects", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// PublishOnce claims up to BatchSize unpublished rows, XADDs them in one pipeline and marks them
// published, all in one transaction. It returns how many rows it published.
func (r *Relay) PublishOnce(ctx context.Context) (int, error) {
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	rows, err := tx.Query(ctx, `SELECT id, stream, event_id::text, event_type, envelope FROM outbox
		WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, r.cfg.BatchSize)
	if err != nil {
		return 0, err
	}
	type row struct {
		id                      int64
		stream, eventID, evType string
		envelope                []byte
	}
	batch, err := pgx.CollectRows(rows, func(rw pgx.CollectableRow) (row, error) {
		var x row
		err := rw.Scan(&x.id, &x.stream, &x.eventID, &x.evType, &x.envelope)
		return x, err
	})
	if err != nil {
		return 0, err
	}
	if len(batch) == 0 {
		return 0, nil
	}
	pipe := r.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(batch))
	ids := make([]int64, len(batch))
	for i, x := range batch {
		cmds[i] = pipe.XAdd(ctx, &redis.XAddArgs{
			Stream: r.cfg.StreamPrefix + x.stream,
			Values: []any{"event_id", x.eventID, "type", x.evType, "envelope", x.envelope},
		})
		ids[i] = x.id
	}
	if _, err := pipe.Exec(ctx); err != nil {
		// Nothing is marked: the whole batch is published again later; consumers deduplicate.
		return 0, fmt.Errorf("outbox: xadd: %w", err)
	}
	// The stamp commits without waiting for its WAL flush: a stamp lost in a crash only
	// publishes the rows again, which consumers deduplicate; the rows themselves were flushed
	// by the transactions that wrote them.
	var mark pg.Batch
	mark.Queue(`SET LOCAL synchronous_commit TO OFF`)
	mark.Queue(`UPDATE outbox SET published_at = now() WHERE id = ANY($1)`, ids)
	if err := mark.Run(ctx, tx); err != nil {
		return 0, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, err
	}
	r.mu.Lock()
	for _, x := range batch {
		publishedTotal.WithLabelValues(x.stream).Inc()
		r.streams[r.cfg.StreamPrefix+x.stream] = struct{}{}
	}
	r.mu.Unlock()
	return len(batch), nil
}

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

// nextID returns the smallest stream id greater than id.
func nextID(id string) string {
	ms, seq, ok := strings.Cut(id, "-")
	if !ok {
		return id
	}
	n, err := strconv.ParseUint(seq, 10, 64)
	if err != nil {
		return id
	}
	return ms + "-" + strconv.FormatUint(n+1, 10)
}

// lessID compares two stream ids numerically.
func lessID(a, b string) bool {
	am, as, _ := strings.Cut(a, "-")
	bm, bs, _ := strings.Cut(b, "-")
	ami, _ := strconv.ParseUint(am, 10, 64)
	bmi, _ := strconv.ParseUint(bm, 10, 64)
	if ami != bmi {
		return ami < bmi
	}
	asi, _ := strconv.ParseUint(as, 10, 64)
	bsi, _ := strconv.ParseUint(bs, 10, 64)
	return asi < bsi
}
