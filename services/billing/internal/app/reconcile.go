package app

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/shopspring/decimal"

	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/catalogue"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
	"github.com/accrue/accrue/services/billing/internal/reconcile"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// ReconcileStore is what reconciliation needs of billing's database.
type ReconcileStore interface {
	// LegalEntity can return legalentity.ErrNotFound.
	LegalEntity(ctx context.Context, id string) (legalentity.LegalEntity, error)
	// OpenPeriods lists every open period of every legal entity.
	OpenPeriods(ctx context.Context) ([]reconcile.Scope, error)
	// LedgerFacts returns what billing holds per time entry / expense id dated from..to, plus
	// the posting results of the ids in also.
	LedgerFacts(ctx context.Context, legalEntityID string, from, to civil.Date, also []string) (map[string]reconcile.Posted, error)
	Imbalances(ctx context.Context, legalEntityID string, from, to civil.Date) ([]reconcile.Imbalance, error)
	Allocations(ctx context.Context, legalEntityID string, from, to civil.Date) ([]reconcile.Allocation, error)
	SaveReconciliation(ctx context.Context, r reconcile.Run) error
	// ReconciliationRun can return reconcile.ErrRunNotFound.
	ReconciliationRun(ctx context.Context, id string) (reconcile.Run, error)
	ReconciliationRuns(ctx context.Context, f reconcile.Filter) ([]reconcile.Run, error)
	LatestReconciliation(ctx context.Context, legalEntityID, period string) (reconcile.Run, bool, error)
	RecordException(ctx context.Context, n exceptions.New) (string, error)
	ResolveException(ctx context.Context, dedupeKey, by, note string) (bool, error)
}

// Ops is one service's operations API as reconciliation uses it: its published events (a dry-run
// replay lists them) and its inbox.
type Ops interface {
	ReplayEvents(ctx context.Context, in *opsv1.ReplayEventsRequest) (*opsv1.ReplayEventsResponse, error)
	ListProcessedEvents(ctx context.Context, in *opsv1.ListProcessedEventsRequest) (*opsv1.ListProcessedEventsResponse, error)
}

// OpsClient adapts a gRPC client of accrue.ops.v1.ExceptionService to Ops.
type OpsClient struct{ C opsv1.ExceptionServiceClient }

func (o OpsClient) ReplayEvents(ctx context.Context, in *opsv1.ReplayEventsRequest) (*opsv1.ReplayEventsResponse, error) {
	return o.C.ReplayEvents(ctx, in)
}

func (o OpsClient) ListProcessedEvents(ctx context.Context, in *opsv1.ListProcessedEventsRequest) (*opsv1.ListProcessedEventsResponse, error) {
	return o.C.ListProcessedEvents(ctx, in)
}

// ReconcileConfig tunes reconciliation (ACCRUE_RECONCILE_*; see docs/configuration.md).
type ReconcileConfig struct {
	// Grace: approvals and events younger than this are still in flight between services and
	// are not judged (main's default: 2 minutes).
	Grace time.Duration
	// EventWindow: how far back published events are checked against their consumers' inboxes
	// (default 24 hours; the outbox keeps 7 days).
	EventWindow time.Duration
}

var (
	reconcileRuns = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "accrue_reconciliation_runs_total",
		Help: "Reconciliation runs by status (CLEAN, DRIFT, INCOMPLETE)."}, []string{"status"})
	reconcileDrift = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "accrue_reconciliation_drift",
		Help: "Findings of the latest reconciliation run of each legal entity and period, by check (the drift KPI)."},
		[]string{"legal_entity_id", "period", "check"})
)

// ReconcileCollectors are reconciliation's metrics.
func ReconcileCollectors() []prometheus.Collector {
	return []prometheus.Collector{reconcileRuns, reconcileDrift}
}

// Reconciler runs continuous reconciliation (see accrue.ops.v1.ReconciliationService).
type Reconciler struct {
	store ReconcileStore
	te    timeexpensev1.TimeExpenseServiceClient
	ops   map[string]Ops
	cfg   ReconcileConfig
	log   *slog.Logger
	now   func() time.Time
}

// NewReconciler returns the reconciliation use cases: st for billing's own data, te for time &
// expense's approved entries, ops per service name (every producer and consumer of events).
func NewReconciler(st ReconcileStore, te timeexpensev1.TimeExpenseServiceClient, ops map[string]Ops, cfg ReconcileConfig, log *slog.Logger) *Reconciler {
	if st == nil || te == nil || len(ops) == 0 || log == nil {
		panic("app: NewReconciler needs a store, a time & expense client, the services' ops clients and a logger")
	}
	if cfg.EventWindow == 0 {
		cfg.EventWindow = 24 * time.Hour
	}
	return &Reconciler{store: st, te: te, ops: ops, cfg: cfg, log: log, now: time.Now}
}

// Run reconciles one legal entity and period now, stores the run and returns it. The caller
// must act for the legal entity.
func (r *Reconciler) Run(ctx context.Context, sc reconcile.Scope) (reconcile.Run, error) {
	if err := auth.CheckLegalEntity(ctx, sc.LegalEntityID); err != nil {
		return reconcile.Run{}, err
	}
	if _, err := r.store.LegalEntity(ctx, sc.LegalEntityID); err != nil {
		return reconcile.Run{}, err
	}
	events, totals, err := r.events(ctx)
	return r.run(ctx, sc, auth.Actor(ctx), events, totals, err)
}

// RunScheduled reconciles every open period of every legal entity (the events check once for
// all of them).
func (r *Reconciler) RunScheduled(ctx context.Context) {
	scopes, err := r.store.OpenPeriods(ctx)
	if err != nil {
		r.log.WarnContext(ctx, "reconciliation: cannot list open periods", "err", err)
		return
	}
	if len(scopes) == 0 {
		return
	}
	events, totals, eventsErr := r.events(ctx)
	for _, sc := range scopes {
		if ctx.Err() != nil {
			return
		}
		if _, err := r.run(ctx, sc, "schedule", events, totals, eventsErr); err != nil {
			r.log.WarnContext(ctx, "reconciliation failed", "legal_entity_id", sc.LegalEntityID, "period", sc.Period, "err", err)
		}
	}
}

func (r *Reconciler) run(ctx context.Context, sc reconcile.Scope, by string, events []reconcile.Finding, eventTotals reconcile.Totals, eventsErr error) (reconcile.Run, error) {
	run := reconcile.Run{ID: uuid.Must(uuid.NewV7()).String(), LegalEntityID: sc.LegalEntityID, Period: sc.Period, TriggeredBy: by,
		StartedAt: r.now().UTC()}
	from, err := civil.Parse(sc.Period + "-01")
	if err != nil {
		return run, fmt.Errorf("reconcile: period %q: %w", sc.Period, err)
	}
	to := civil.Of(from.Time().AddDate(0, 1, -1))
	totals := reconcile.Totals{}
	merge := func(t reconcile.Totals) {
		for k, v := range t {
			totals.Add(k[0], k[1], v)
		}
	}
	incomplete := func(check string, err error) {
		r.log.WarnContext(ctx, "reconciliation check could not run", "check", check, "err", err)
		run.Findings = append(run.Findings, reconcile.Finding{Check: reconcile.CheckIncomplete, Code: reconcile.CheckFailed,
			EntityType: "check", EntityIDs: []string{check}, Detail: fmt.Sprintf("the %s check could not run: %v", check, err)})
	}

	// a. approved = posted = billed + unbilled.
	approved, err := r.approved(ctx, sc)
	if err != nil {
		incomplete(reconcile.CheckTime, err)
	} else {
		ids := make([]string, len(approved))
		for i, a := range approved {
			ids[i] = a.ID
		}
		posted, err := r.store.LedgerFacts(ctx, sc.LegalEntityID, from, to, ids)
		if err != nil {
			return run, err
		}
		f, t := reconcile.CompareTime(approved, posted, run.StartedAt.Add(-r.cfg.Grace))
		run.Findings = append(run.Findings, f...)
		merge(t)
	}
	// b. supplier bill lines = allocations.
	allocs, err := r.store.Allocations(ctx, sc.LegalEntityID, from, to)
	if err != nil {
		return run, err
	}
	f, t := reconcile.CompareAllocations(allocs)
	run.Findings = append(run.Findings, f...)
	merge(t)
	// c. every journal entry balanced.
	imbalances, err := r.store.Imbalances(ctx, sc.LegalEntityID, from, to)
	if err != nil {
		return run, err
	}
	run.Findings = append(run.Findings, reconcile.Unbalanced(imbalances)...)
	totals.Add("journal.entries_unbalanced", "", decimalOf(len(reconcile.Unbalanced(imbalances))))
	// d. published = consumed.
	if eventsErr != nil {
		incomplete(reconcile.CheckEvents, eventsErr)
	} else {
		run.Findings = append(run.Findings, events...)
		merge(eventTotals)
	}
	run.Totals = totals.List()
	run.FinishedAt = r.now().UTC()
	run.Settle()
	if err := r.record(ctx, &run); err != nil {
		return run, err
	}
	if err := r.store.SaveReconciliation(ctx, run); err != nil {
		return run, err
	}
	reconcileRuns.WithLabelValues(string(run.Status)).Inc()
	counts := map[string]int{reconcile.CheckTime: 0, reconcile.CheckSupplier: 0, reconcile.CheckJournal: 0, reconcile.CheckEvents: 0}
	for _, f := range run.Findings {
		counts[f.Check]++
	}
	for c, n := range counts {
		reconcileDrift.WithLabelValues(run.LegalEntityID, run.Period, c).Set(float64(n))
	}
	r.log.InfoContext(ctx, "reconciliation run", "run_id", run.ID, "legal_entity_id", run.LegalEntityID, "period", run.Period,
		"status", run.Status, "findings", run.FindingCount)
	return run, nil
}

// record files every finding as an exception of billing's queue (one per finding, deduplicated
// on its key across runs), and resolves the exceptions of the previous run's findings that are
// gone.
func (r *Reconciler) record(ctx context.Context, run *reconcile.Run) error {
	prev, ok, err := r.store.LatestReconciliation(ctx, run.LegalEntityID, run.Period)
	if err != nil {
		return err
	}
	keys := map[string]bool{}
	skipped := map[string]bool{} // checks that could not run: their earlier findings stand
	for i, f := range run.Findings {
		if f.Check == reconcile.CheckIncomplete {
			skipped[f.EntityIDs[0]] = true
			continue
		}
		keys[f.Key()] = true
		id, err := r.store.RecordException(ctx, exceptions.New{Kind: "reconciliation." + f.Check, Reason: f.Code,
			Message:    "legal entity " + run.LegalEntityID + ", period " + run.Period + ": " + f.Detail,
			EntityType: f.EntityType, EntityID: f.EntityIDs[0], LegalEntityID: run.LegalEntityID, DedupeKey: f.Key()})
		if err != nil {
			return err
		}
		run.Findings[i].ExceptionID = id
	}
	if !ok {
		return nil
	}
	before, err := r.store.ReconciliationRun(ctx, prev.ID)
	if err != nil {
		return err
	}
	for _, f := range before.Findings {
		if f.Check != reconcile.CheckIncomplete && !skipped[f.Check] && !keys[f.Key()] {
			if _, err := r.store.ResolveException(ctx, f.Key(), "reconciliation", "no longer found by reconciliation run "+run.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// approved reads every page of time & expense's approved entries of the scope.
func (r *Reconciler) approved(ctx context.Context, sc reconcile.Scope) ([]reconcile.Approved, error) {
	var out []reconcile.Approved
	token := ""
	for {
		resp, err := r.te.ListApprovedEntries(ctx, &timeexpensev1.ListApprovedEntriesRequest{LegalEntityId: sc.LegalEntityID,
			Period: sc.Period, PageSize: 5000, PageToken: token})
		if err != nil {
			return nil, err
		}
		list, err := wire.ApprovedEntries(resp.GetEntries())
		if err != nil {
			return nil, err
		}
		out = append(out, list...)
		if token = resp.GetNextPageToken(); token == "" {
			return out, nil
		}
	}
}

// events checks the events every service published in the window (up to the grace period ago)
// against the inboxes of every service whose groups subscribe to them (the catalogue).
func (r *Reconciler) events(ctx context.Context) ([]reconcile.Finding, reconcile.Totals, error) {
	now := r.now()
	since, until := now.Add(-r.cfg.EventWindow), now.Add(-r.cfg.Grace)
	var findings []reconcile.Finding
	totals := reconcile.Totals{}
	totals.Ensure("events.checked")
	producers := make([]string, 0, len(r.ops))
	for p := range r.ops {
		producers = append(producers, p)
	}
	slices.Sort(producers)
	for _, p := range producers {
		token := ""
		for {
			resp, err := r.ops[p].ReplayEvents(ctx, wire.PublishedEventsRequest(p, since, until, token))
			if err != nil {
				return nil, nil, fmt.Errorf("events published by %s: %w", p, err)
			}
			page := wire.PublishedEvents(p, resp.GetEvents(), catalogue.Consumers)
			totals.Add("events.checked", "", decimalOf(len(page)))
			processed := map[string]map[string]bool{}
			byConsumer := map[string][]string{}
			for _, e := range page {
				for _, c := range e.Consumers {
					byConsumer[c] = append(byConsumer[c], e.ID)
				}
			}
			for c, ids := range byConsumer {
				ops, ok := r.ops[c]
				if !ok {
					return nil, nil, fmt.Errorf("no ops client for consumer %s", c)
				}
				processed[c] = map[string]bool{}
				for chunk := range slices.Chunk(ids, 1000) {
					got, err := ops.ListProcessedEvents(ctx, &opsv1.ListProcessedEventsRequest{Service: c, EventIds: chunk})
					if err != nil {
						return nil, nil, fmt.Errorf("events processed by %s: %w", c, err)
					}
					for _, e := range got.GetEvents() {
						processed[c][e.GetEventId()] = true
					}
				}
			}
			findings = append(findings, reconcile.Unconsumed(page, processed)...)
			if token = resp.GetNextPageToken(); token == "" {
				break
			}
		}
	}
	return findings, totals, nil
}

// GetRun returns one run with its findings, of a legal entity the caller acts for.
func (r *Reconciler) GetRun(ctx context.Context, id string) (reconcile.Run, error) {
	run, err := r.store.ReconciliationRun(ctx, id)
	if err != nil {
		return run, err
	}
	if err := auth.CheckLegalEntity(ctx, run.LegalEntityID); err != nil {
		return reconcile.Run{}, err
	}
	return run, nil
}

// ListRuns lists runs newest first, of the legal entities the caller acts for.
func (r *Reconciler) ListRuns(ctx context.Context, f reconcile.Filter) ([]reconcile.Run, error) {
	f.LegalEntities = auth.EntitiesOf(ctx).Filter()
	return r.store.ReconciliationRuns(ctx, f)
}

func decimalOf(n int) decimal.Decimal { return decimal.NewFromInt(int64(n)) }
