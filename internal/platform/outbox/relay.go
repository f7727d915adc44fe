package outbox

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/accrue/accrue/internal/platform/exceptions"
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
	// CheckInterval is how often the relay compares each stream's last id in Redis with the
	// highest id it recorded, to notice a broker that lost entries while nothing is published
	// (see CheckBroker); 1s.
	CheckInterval time.Duration
	// Exceptions is the queue that records a broker loss (kind outbox.broker_loss); a queue on
	// the relay's pool when nil.
	Exceptions *exceptions.Queue
	// Degraded, when set, is told why the service is degraded while a broker loss is being
	// repaired, and "" once it is repaired (service wires it to its readiness).
	Degraded func(reason string)
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
	if c.CheckInterval <= 0 {
		c.CheckInterval = time.Second
	}
}

// Relay publishes outbox rows to Redis Streams. Several relays may run against one database.
type Relay struct {
	pool *pgxpool.Pool
	rdb  redis.UniversalClient
	cfg  RelayConfig
	log  *slog.Logger

	queue *exceptions.Queue
	check chan struct{} // asks for a broker check now (a publication found a stream behind)
	wake  chan struct{} // wakes the publishing loop (a notification, a repair)

	mu       sync.Mutex
	streams  map[string]struct{}
	degraded string
}

var (
	publishedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "accrue_outbox_published_total", Help: "Events published from the outbox to Redis Streams.",
	}, []string{"stream"})
	backlogGauge = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "accrue_outbox_backlog", Help: "Outbox rows not yet published (sampled by the relay).",
	})
	republishedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "accrue_outbox_republished_total",
		Help: "Published events put back to publish again because Redis lost them (broker loss repairs).",
	}, []string{"stream"})
)

// Collectors returns the relay's Prometheus collectors.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{publishedTotal, backlogGauge, republishedTotal}
}

// NewRelay returns a relay; it does nothing until Run.
func NewRelay(pool *pgxpool.Pool, rdb redis.UniversalClient, cfg RelayConfig, log *slog.Logger) *Relay {
	if pool == nil || rdb == nil || log == nil {
		panic("outbox: NewRelay needs a pool, a redis client and a logger")
	}
	cfg.defaults()
	q := cfg.Exceptions
	if q == nil {
		q = exceptions.NewQueue(pool, log)
	}
	return &Relay{pool: pool, rdb: rdb, cfg: cfg, log: log, queue: q, check: make(chan struct{}, 1),
		wake: make(chan struct{}, 1), streams: map[string]struct{}{}}
}

// Run publishes until ctx is cancelled. It wakes on the outbox trigger's notifications and polls
// every PollInterval in case a notification was missed.
func (r *Relay) Run(ctx context.Context) error {
	wake := r.wake
	go r.listen(ctx, wake)
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.checkLoop(ctx)
	}()
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

// row is one outbox row to publish.
type row struct {
	id                      int64
	stream, eventID, evType string
	envelope                []byte
}

// PublishOnce claims up to BatchSize unpublished rows, XADDs them and stamps them published with
// their stream entry ids, all in one transaction. It returns how many rows it published.
//
// It locks the service's rows in outbox_streams (concurrent relays of one service take turns, so
// the recorded highest id of each stream is exact), and adds nothing to a stream whose last
// id in Redis is below it: those rows stay unpublished, and the broker check repairs the loss.
func (r *Relay) PublishOnce(ctx context.Context) (int, error) {
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	batch, heads, err := r.claim(ctx, tx)
	if err != nil || len(batch) == 0 {
		return 0, err
	}
	byStream := map[string][]row{}
	for _, x := range batch {
		byStream[x.stream] = append(byStream[x.stream], x)
	}
	streams := slices.Sorted(maps.Keys(byStream))
	var fresh []string // streams never published to: their outbox_streams row is created
	for _, s := range streams {
		if _, ok := heads[s]; !ok {
			fresh = append(fresh, s)
		}
	}
	if len(fresh) > 0 {
		more, err := r.lockNewHeads(ctx, tx, fresh)
		if err != nil {
			return 0, err
		}
		maps.Copy(heads, more)
	}
	var ids, ms, seq []int64
	var headStreams []string
	var headMs, headSeq []int64
	var behind bool
	var firstErr error
	for _, s := range streams {
		spans := publishSpans(ctx, r.cfg.StreamPrefix+s, byStream[s])
		got, err := r.xadd(ctx, s, heads[s], byStream[s])
		endSpans(spans, err)
		var be *behindError
		switch {
		case errors.As(err, &be):
			r.log.ErrorContext(ctx, "outbox relay: stream is behind what this service published; not publishing to it until the loss is repaired",
				"stream", s, "last_id", be.last.String(), "recorded_id", be.recorded.String())
			behind = true
			continue
		case err != nil:
			// Nothing of this stream is stamped: it is published again later; consumers deduplicate.
			firstErr = cmp.Or(firstErr, fmt.Errorf("outbox: xadd to %s: %w", s, err))
			continue
		}
		for i, x := range byStream[s] {
			ids, ms, seq = append(ids, x.id), append(ms, got[i].ms), append(seq, got[i].seq)
		}
		last := got[len(got)-1]
		headStreams, headMs, headSeq = append(headStreams, s), append(headMs, last.ms), append(headSeq, last.seq)
	}
	if behind {
		select {
		case r.check <- struct{}{}:
		default:
		}
	}
	if len(ids) == 0 {
		return 0, firstErr
	}
	// The stamp commits without waiting for its WAL flush: a stamp lost in a crash only
	// publishes the rows again, which consumers deduplicate, and leaves a recorded highest id
	// below the broker's, which raises no alarm; the rows themselves were flushed by the
	// transactions that wrote them.
	var mark pg.Batch
	mark.Queue(`SET LOCAL synchronous_commit TO OFF`)
	mark.Queue(`UPDATE outbox o SET published_at = now(), stream_ms = u.ms, stream_seq = u.seq
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS u(id, ms, seq) WHERE o.id = u.id`, ids, ms, seq)
	mark.Queue(`UPDATE outbox_streams s SET last_ms = u.ms, last_seq = u.seq, updated_at = now()
		FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS u(stream, ms, seq) WHERE s.stream = u.stream`,
		headStreams, headMs, headSeq)
	if err := mark.Run(ctx, tx); err != nil {
		return 0, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, err
	}
	r.mu.Lock()
	for _, s := range headStreams {
		publishedTotal.WithLabelValues(s).Add(float64(len(byStream[s])))
		r.streams[r.cfg.StreamPrefix+s] = struct{}{}
	}
	r.mu.Unlock()
	return len(ids), firstErr
}

// claim claims up to BatchSize unpublished rows and, in the same round trip, locks the service's
// streams (their outbox_streams rows) and returns the highest entry id recorded for each.
func (r *Relay) claim(ctx context.Context, tx pgx.Tx) ([]row, map[string]entryID, error) {
	var b pgx.Batch
	b.Queue(`SELECT id, stream, event_id::text, event_type, envelope FROM outbox
		WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, r.cfg.BatchSize)
	b.Queue(`SELECT stream, last_ms, last_seq FROM outbox_streams ORDER BY stream FOR UPDATE`)
	br := tx.SendBatch(ctx, &b)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return nil, nil, err
	}
	batch, err := pgx.CollectRows(rows, func(rw pgx.CollectableRow) (row, error) {
		var x row
		err := rw.Scan(&x.id, &x.stream, &x.eventID, &x.evType, &x.envelope)
		return x, err
	})
	if err != nil {
		return nil, nil, err
	}
	if rows, err = br.Query(); err != nil {
		return nil, nil, err
	}
	heads, err := collectHeads(rows)
	if err != nil {
		return nil, nil, err
	}
	return batch, heads, br.Close()
}

// lockNewHeads creates and locks the outbox_streams rows of streams.
func (r *Relay) lockNewHeads(ctx context.Context, tx pgx.Tx, streams []string) (map[string]entryID, error) {
	if _, err := tx.Exec(ctx, `INSERT INTO outbox_streams (stream) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`, streams); err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, `SELECT stream, last_ms, last_seq FROM outbox_streams WHERE stream = ANY($1)
		ORDER BY stream FOR UPDATE`, streams)
	if err != nil {
		return nil, err
	}
	return collectHeads(rows)
}

func collectHeads(rows pgx.Rows) (map[string]entryID, error) {
	heads := map[string]entryID{}
	var s string
	var id entryID
	_, err := pgx.ForEachRow(rows, []any{&s, &id.ms, &id.seq}, func() error {
		heads[s] = id
		return nil
	})
	return heads, err
}
