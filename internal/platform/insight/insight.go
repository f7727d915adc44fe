// Package insight is what the operations console reads from every service (the
// accrue.ops.v1.OpsInsightService): the health of the streams the service consumes and produces
// and of its outbox, a timeline of what it did for business keys and correlation ids (audit
// records, events published and consumed, exceptions, plus the service's own records through
// the trace hooks it registers), and the history of its KPIs (recorded periodically by the
// Recorder from the KPI sources it registers). It knows nothing of any domain: services plug
// their records and KPIs in. An Insight is safe for concurrent use once started; register hooks
// and sources before serving.
package insight

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/accrue/accrue/internal/platform/stream"
)

// Item is one entry of a service's timeline (see opsv1.TraceItem for the kinds).
type Item struct {
	Time                                                                      time.Time
	Kind, Title, Status, EntityType, EntityID, CorrelationID, EventID, Detail string
}

// Kinds of timeline items.
const (
	KindRequest        = "REQUEST"
	KindEventPublished = "EVENT_PUBLISHED"
	KindEventConsumed  = "EVENT_CONSUMED"
	KindException      = "EXCEPTION"
	KindProject        = "PROJECT"
	KindTimeEntry      = "TIME_ENTRY"
	KindPosting        = "POSTING"
	KindInvoice        = "INVOICE"
	KindPayment        = "PAYMENT"
	// KindDelivery is an outbound webhook delivery of the dispatcher.
	KindDelivery = "DELIVERY"
)

// Found is what a trace hook found for some keys: its records as items, the correlation ids
// they were written under, and related keys worth following (e.g. an opportunity's project).
type Found struct {
	Items          []Item
	CorrelationIDs []string
	RelatedKeys    []string
	Truncated      bool
}

// TraceHook finds a service's own records for business keys (any of them may be an id the
// service does not know: it then finds nothing) and under correlation ids, at most limit of each
// kind.
type TraceHook func(ctx context.Context, keys, correlationIDs []string, limit int) (Found, error)

// KpiValue is one KPI's current value: a decimal string, with its currency when it is an amount.
type KpiValue struct {
	KPI, Value, Currency string
}

// KpiSource computes current KPI values within the legal entities of ctx's caller (every entity
// for the recorder, which runs for no caller).
type KpiSource func(ctx context.Context) ([]KpiValue, error)

// HealthReporter is a consumer group whose health can be read (*stream.Consumer).
type HealthReporter interface {
	Health(ctx context.Context) (stream.GroupHealth, error)
}

// Insight holds one service's hooks, KPI sources and consumer groups.
type Insight struct {
	pool    *pgxpool.Pool
	rdb     redis.UniversalClient
	service string
	prefix  string

	mu      sync.RWMutex
	hooks   []TraceHook
	sources []KpiSource
	groups  []HealthReporter
}

// New returns the Insight of the named service over its database and Redis (streams under
// prefix).
func New(pool *pgxpool.Pool, rdb redis.UniversalClient, service, prefix string) (*Insight, error) {
	if pool == nil || rdb == nil || service == "" {
		return nil, errors.New("insight: New needs a pool, redis and a service name")
	}
	return &Insight{pool: pool, rdb: rdb, service: service, prefix: prefix}, nil
}

// Service returns the service's name.
func (in *Insight) Service() string { return in.service }

// AddTraceHook registers a trace hook.
func (in *Insight) AddTraceHook(h TraceHook) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.hooks = append(in.hooks, h)
}

// AddKpiSource registers a KPI source.
func (in *Insight) AddKpiSource(s KpiSource) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.sources = append(in.sources, s)
}

// AddGroup registers a consumer group of the service.
func (in *Insight) AddGroup(g HealthReporter) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.groups = append(in.groups, g)
}

func (in *Insight) snapshot() ([]TraceHook, []KpiSource, []HealthReporter) {
	in.mu.RLock()
	defer in.mu.RUnlock()
	return append([]TraceHook(nil), in.hooks...), append([]KpiSource(nil), in.sources...), append([]HealthReporter(nil), in.groups...)
}
