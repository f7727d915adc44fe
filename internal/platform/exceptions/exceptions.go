// Package exceptions is the business exception queue every service keeps: work that failed for a
// business or infrastructure reason, recorded with the entity, the reason and the correlation id,
// so an operator (or the automatic retrier) can retry it or resolve it by hand.
//
// Work kinds register a RetryFunc; Retry calls it and resolves the exception when it succeeds.
// Record may run inside the caller's transaction (the failure is recorded atomically with any
// state change) or on the pool. A Queue is safe for concurrent use.
package exceptions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/pg"
)

// Status of an exception.
const (
	StatusOpen     = "OPEN"
	StatusResolved = "RESOLVED"
)

// Reasons the queue itself returns.
const (
	ReasonNotFound       = "EXCEPTION_NOT_FOUND"
	ReasonNotOpen        = "EXCEPTION_NOT_OPEN"
	ReasonNoRetryForKind = "EXCEPTION_NOT_RETRYABLE"
)

// Exception is one recorded failure.
type Exception struct {
	ID             string
	Kind           string
	Reason         string
	Message        string
	EntityType     string
	EntityID       string
	CorrelationID  string
	LegalEntityID  string
	DedupeKey      string
	Payload        []byte
	Status         string
	Attempts       int
	NextRetryAt    *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
	ResolvedBy     string
	ResolutionNote string
}

// New describes a failure to record.
type New struct {
	Kind       string
	Reason     string
	Message    string
	EntityType string
	EntityID   string
	// LegalEntityID is the legal entity the failure concerns, when the caller knows it; the
	// console filters by it.
	LegalEntityID string
	// DedupeKey identifies "the same failure": recording it again while it is OPEN bumps attempts
	// instead of adding a row. Kind + entity when empty.
	DedupeKey string
	// Payload is what the RetryFunc needs to re-drive the work (e.g. an event envelope).
	Payload []byte
	// RetryAfter schedules an automatic retry (see Retrier); zero means manual retry only.
	RetryAfter time.Duration
}

// RetryFunc re-drives the work of an exception. Returning nil resolves it. An error wrapped
// with StopRetrying also ends the automatic retries: the exception waits for a human.
type RetryFunc func(ctx context.Context, e Exception) error

// StopRetrying marks err (returned by a RetryFunc) as one no automatic retry can fix, e.g. a
// dead letter whose transient cause cleared but whose event now fails for a business reason.
func StopRetrying(err error) error {
	if err == nil {
		return nil
	}
	return stopRetrying{err}
}

type stopRetrying struct{ error }

func (s stopRetrying) Unwrap() error { return s.error }

func isStopRetrying(err error) bool {
	var s stopRetrying
	return errors.As(err, &s)
}

// Queue reads and writes one service's exceptions.
type Queue struct {
	pool *pgxpool.Pool
	log  *slog.Logger

	mu       sync.RWMutex
	handlers map[string]RetryFunc
	opened   OpenedHook
}

// OpenedHook runs for each exception the queue opens (a new one, not another attempt of an open
// one), through the same transaction that records it: the service's exception.opened event
// goes to its outbox with the exception (see outbox.ExceptionOpened).
type OpenedHook func(ctx context.Context, db pg.Querier, e Exception) error

// OnOpened sets the hook run for each exception the queue opens; call it before the queue is used.
func (q *Queue) OnOpened(h OpenedHook) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.opened = h
}

func (q *Queue) openedHook() OpenedHook {
	q.mu.RLock()
	defer q.mu.RUnlock()
	return q.opened
}

var openGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
	Name: "accrue_exceptions_open", Help: "Open business exceptions by kind and reason.",
}, []string{"kind", "reason"})

// Collectors returns the queue's Prometheus collectors.
func Collectors() []prometheus.Collector { return []prometheus.Collector{openGauge} }

// NewQueue returns the queue of the service whose database pool serves.
func NewQueue(pool *pgxpool.Pool, log *slog.Logger) *Queue {
	if pool == nil || log == nil {
		panic("exceptions: NewQueue needs a pool and a logger")
	}
	return &Queue{pool: pool, log: log, handlers: map[string]RetryFunc{}}
}

// Handle registers the retry function of kind.
func (q *Queue) Handle(kind string, fn RetryFunc) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.handlers[kind] = fn
}

func (q *Queue) handler(kind string) (RetryFunc, bool) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	fn, ok := q.handlers[kind]
	return fn, ok
}

// Record stores a failure through db (a transaction; nil for the pool), or bumps the attempts of
// the open exception with the same dedupe key. It returns the exception id. A new exception runs
// the OnOpened hook in the same transaction (one of its own when db is nil).
func (q *Queue) Record(ctx context.Context, db pg.Querier, n New) (string, error) {
	if n.Kind == "" || n.Reason == "" {
		return "", errors.New("exceptions: kind and reason are required")
	}
	if n.DedupeKey == "" {
		n.DedupeKey = n.Kind + ":" + n.EntityType + ":" + n.EntityID
	}
	hook := q.openedHook()
	if db == nil && hook != nil {
		var id string
		err := pgx.BeginFunc(ctx, q.pool, func(tx pgx.Tx) error {
			var err error
			id, err = q.record(ctx, tx, n, hook)
			return err
		})
		return id, err
	}
	if db == nil {
		db = q.pool
	}
	return q.record(ctx, db, n, hook)
}

func (q *Queue) record(ctx context.Context, db pg.Querier, n New, hook OpenedHook) (string, error) {
	var next *time.Time
	if n.RetryAfter > 0 {
		t := time.Now().Add(n.RetryAfter)
		next = &t
	}
	var id string
	var inserted bool
	var attempts int
	var created time.Time
	err := db.QueryRow(ctx, `
		INSERT INTO exceptions (id, kind, reason, message, entity_type, entity_id, correlation_id, dedupe_key, payload, next_retry_at, legal_entity_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (dedupe_key) WHERE status = 'OPEN' DO UPDATE SET
			attempts = exceptions.attempts + 1, reason = EXCLUDED.reason, message = EXCLUDED.message,
			payload = COALESCE(EXCLUDED.payload, exceptions.payload), next_retry_at = EXCLUDED.next_retry_at,
			legal_entity_id = CASE WHEN EXCLUDED.legal_entity_id <> '' THEN EXCLUDED.legal_entity_id ELSE exceptions.legal_entity_id END,
			updated_at = now()
		RETURNING id::text, xmax = 0, attempts, created_at`,
		uuid.Must(uuid.NewV7()), n.Kind, n.Reason, n.Message, n.EntityType, n.EntityID,
		correlation.ID(ctx), n.DedupeKey, n.Payload, next, n.LegalEntityID).Scan(&id, &inserted, &attempts, &created)
	if err != nil {
		return "", fmt.Errorf("exceptions: record: %w", err)
	}
	if inserted && hook != nil {
		e := Exception{ID: id, Kind: n.Kind, Reason: n.Reason, Message: n.Message, EntityType: n.EntityType, EntityID: n.EntityID,
			CorrelationID: correlation.ID(ctx), LegalEntityID: n.LegalEntityID, DedupeKey: n.DedupeKey, Status: StatusOpen, Attempts: attempts,
			NextRetryAt: next, CreatedAt: created, UpdatedAt: created}
		if err := hook(ctx, db, e); err != nil {
			return "", fmt.Errorf("exceptions: opened hook: %w", err)
		}
	}
	q.log.WarnContext(ctx, "business exception recorded", "exception_id", id, "kind", n.Kind, "reason", n.Reason,
		"entity_type", n.EntityType, "entity_id", n.EntityID)
	return id, nil
}

// ResolveByKey resolves the open exception with dedupe key (if any) through db, e.g. when the
// work succeeded on its own. It reports whether one was resolved.
func (q *Queue) ResolveByKey(ctx context.Context, db pg.Querier, dedupeKey, by, note string) (bool, error) {
	if db == nil {
		db = q.pool
	}
	tag, err := db.Exec(ctx, resolveByKey, dedupeKey, by, note)
	if err != nil {
		return false, fmt.Errorf("exceptions: resolve: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// QueueResolveByKey adds ResolveByKey to b, to run with the work that succeeded.
func (q *Queue) QueueResolveByKey(b *pg.Batch, dedupeKey, by, note string) {
	b.Queue(resolveByKey, dedupeKey, by, note)
}

// OpenByKeys returns the open exceptions with the given dedupe keys.
func (q *Queue) OpenByKeys(ctx context.Context, db pg.Querier, keys ...string) ([]Exception, error) {
	if db == nil {
		db = q.pool
	}
	rows, err := db.Query(ctx, `SELECT `+columns+` FROM exceptions WHERE dedupe_key = ANY($1) AND status = 'OPEN'`, keys)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Exception, error) { return scan(r) })
}

const resolveByKey = `UPDATE exceptions SET status = 'RESOLVED', resolved_by = $2, resolution_note = $3,
	next_retry_at = NULL, updated_at = now() WHERE dedupe_key = $1 AND status = 'OPEN'`

const columns = `id::text, kind, reason, message, entity_type, entity_id, correlation_id, dedupe_key, payload,
	status, attempts, next_retry_at, created_at, updated_at, resolved_by, resolution_note, legal_entity_id`

func scan(row pgx.Row) (Exception, error) {
	var e Exception
	err := row.Scan(&e.ID, &e.Kind, &e.Reason, &e.Message, &e.EntityType, &e.EntityID, &e.CorrelationID,
		&e.DedupeKey, &e.Payload, &e.Status, &e.Attempts, &e.NextRetryAt, &e.CreatedAt, &e.UpdatedAt,
		&e.ResolvedBy, &e.ResolutionNote, &e.LegalEntityID)
	return e, err
}

// Get returns one exception; fault NotFound / EXCEPTION_NOT_FOUND when there is none.
func (q *Queue) Get(ctx context.Context, id string) (Exception, error) {
	e, err := scan(q.pool.QueryRow(ctx, `SELECT `+columns+` FROM exceptions WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Exception{}, fault.New(fault.NotFound, ReasonNotFound, "no exception %s", id)
	}
	return e, err
}

// Filter selects exceptions to list.
type Filter struct {
	Status, Kind, Reason string
	// LegalEntityID keeps the exceptions recorded for this legal entity ("" = any).
	LegalEntityID string
	// Before pages backwards: only exceptions older than (CreatedAt, ID).
	BeforeTime time.Time
	BeforeID   string
	Limit      int
}

// List returns exceptions newest first.
func (q *Queue) List(ctx context.Context, f Filter) ([]Exception, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	rows, err := q.pool.Query(ctx, `SELECT `+columns+` FROM exceptions
		WHERE ($1 = '' OR status = $1) AND ($2 = '' OR kind = $2) AND ($3 = '' OR reason = $3)
		  AND ($4::uuid IS NULL OR (created_at, id) < ($5, $4::uuid)) AND ($7 = '' OR legal_entity_id = $7)
		ORDER BY created_at DESC, id DESC LIMIT $6`,
		f.Status, f.Kind, f.Reason, nullUUID(f.BeforeID), f.BeforeTime, f.Limit, f.LegalEntityID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Exception, error) { return scan(r) })
}

func nullUUID(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// CountOpen returns the number of open exceptions with the given kind and reason ("" = any).
func (q *Queue) CountOpen(ctx context.Context, kind, reason string) (int64, error) {
	var n int64
	err := q.pool.QueryRow(ctx, `SELECT count(*) FROM exceptions WHERE status = 'OPEN'
		AND ($1 = '' OR kind = $1) AND ($2 = '' OR reason = $2)`, kind, reason).Scan(&n)
	return n, err
}

// Retry re-drives an open exception with its kind's RetryFunc. On success the exception is
// resolved by actor ("retry succeeded"); on failure it stays open with the new error and one
// more attempt, and the error is returned inside the updated exception, not as err.
func (q *Queue) Retry(ctx context.Context, id, actor string) (Exception, error) {
	e, err := q.Get(ctx, id)
	if err != nil {
		return Exception{}, err
	}
	if e.Status != StatusOpen {
		return e, fault.New(fault.FailedPrecondition, ReasonNotOpen, "exception %s is %s", id, e.Status)
	}
	fn, ok := q.handler(e.Kind)
	if !ok {
		return e, fault.New(fault.FailedPrecondition, ReasonNoRetryForKind, "exceptions of kind %s cannot be retried here; resolve them by hand", e.Kind)
	}
	if e.CorrelationID != "" {
		ctx = correlation.With(ctx, e.CorrelationID)
	}
	if rerr := fn(ctx, e); rerr != nil {
		reason := fault.ReasonOf(rerr)
		if reason == "" {
			reason = e.Reason
		}
		q.log.WarnContext(ctx, "exception retry failed", "exception_id", id, "kind", e.Kind, "err", rerr)
		_, err = q.pool.Exec(ctx, `UPDATE exceptions SET attempts = attempts + 1, reason = $2, message = $3,
			next_retry_at = CASE WHEN $4 THEN NULL ELSE next_retry_at END,
			updated_at = now() WHERE id = $1 AND status = 'OPEN'`, id, reason, rerr.Error(), isStopRetrying(rerr))
		if err != nil {
			return e, err
		}
		return q.Get(ctx, id)
	}
	// The retried work may have resolved the exception itself (by dedupe key); the retry is still
	// what resolved it, so it is credited to the actor either way.
	if _, err := q.pool.Exec(ctx, `UPDATE exceptions SET status = 'RESOLVED', resolved_by = $2,
		resolution_note = 'retry succeeded', attempts = attempts + 1, next_retry_at = NULL, updated_at = now()
		WHERE id = $1`, id, actor); err != nil {
		return e, err
	}
	q.log.InfoContext(ctx, "exception resolved by retry", "exception_id", id, "kind", e.Kind)
	return q.Get(ctx, id)
}

// Resolve closes an open exception by hand.
func (q *Queue) Resolve(ctx context.Context, id, actor, note string) (Exception, error) {
	tag, err := q.pool.Exec(ctx, `UPDATE exceptions SET status = 'RESOLVED', resolved_by = $2, resolution_note = $3,
		next_retry_at = NULL, updated_at = now() WHERE id = $1 AND status = 'OPEN'`, id, actor, note)
	if err != nil {
		return Exception{}, err
	}
	e, err := q.Get(ctx, id)
	if err != nil {
		return e, err
	}
	if tag.RowsAffected() == 0 {
		return e, fault.New(fault.FailedPrecondition, ReasonNotOpen, "exception %s is %s", id, e.Status)
	}
	return e, nil
}
