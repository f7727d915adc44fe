package app

import (
	"context"
	"fmt"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"sort"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/shopspring/decimal"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/store"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// KindParked is the exception kind of postings parked until a rate (or a project's contract)
// arrives; one exception per missing thing, however many entries wait for it.
const KindParked = "posting.parked"

var (
	postingsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "accrue_postings_total", Help: "Posting outcomes of time entries and expenses.",
	}, []string{"source_type", "outcome"})
	postingBatchSize = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "accrue_posting_batch_entries", Help: "Entries per posting batch (one transaction).",
		Buckets: []float64{1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000},
	})
)

// Collectors returns the posting pipeline's Prometheus collectors.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{postingsTotal, postingBatchSize}
}

func parkedKey(m ledger.Missing) string { return KindParked + ":" + m.Kind + ":" + m.Key }

// PostBatch posts sources in tx: it skips sources already posted, rejected or reversed (the
// business guard behind the inbox), loads what the batch needs in a few queries, posts in memory,
// writes everything with bulk statements, publishes one postings.recorded event and keeps the
// parked exceptions in step. Entries are processed in order, so a correction's reversal follows
// its original.
func (s *Service) PostBatch(ctx context.Context, tx pgx.Tx, sources []ledger.Source) ([]ledger.Result, error) {
	if len(sources) == 0 {
		return nil, nil
	}
	final, err := store.FinalResults(ctx, tx, sources)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	todo := sources[:0:0]
	for _, src := range sources {
		k := store.Key(src.Type, src.ID, src.Version)
		if final[k] || seen[k] {
			continue
		}
		seen[k] = true
		todo = append(todo, src)
	}
	if len(todo) == 0 {
		return nil, nil
	}
	book, err := store.LoadBook(ctx, tx, todo)
	if err != nil {
		return nil, err
	}
	fx := map[string]decimal.Decimal{}
	var fxErr error
	book.FX = func(from, to string, d civil.Date) (decimal.Decimal, bool) {
		k := from + to + d.String()
		if r, ok := fx[k]; ok {
			return r, !r.IsZero()
		}
		r, ok, err := store.ExchangeRate(ctx, tx, from, to, d)
		if err != nil {
			fxErr = err
		}
		fx[k] = r
		return r, ok
	}
	book.NewID = func() string { return uuid.Must(uuid.NewV7()).String() }
	results := make([]ledger.Result, 0, len(todo))
	for _, src := range todo {
		r := book.Post(src)
		if r.Entry != nil && !r.Entry.Balanced() {
			return nil, fmt.Errorf("ledger: entry for %s %s does not balance", src.Type, src.ID)
		}
		if r.Outcome == ledger.Posted && r.Entry != nil {
			// A later reversal in the same batch finds its original here.
			book.PostedBefore[src.ID] = ledger.Prior{Outcome: ledger.Posted, Entry: r.Entry}
		}
		results = append(results, r)
	}
	if fxErr != nil {
		return nil, fxErr
	}
	if err := store.WriteResults(ctx, tx, results, correlation.ID(ctx)); err != nil {
		return nil, err
	}
	if err := s.publishResults(ctx, tx, results); err != nil {
		return nil, err
	}
	if err := s.trackParked(ctx, tx, results); err != nil {
		return nil, err
	}
	postingBatchSize.Observe(float64(len(results)))
	for _, r := range results {
		postingsTotal.WithLabelValues(r.Source.Type, string(r.Outcome)).Inc()
	}
	return results, nil
}

func (s *Service) publishResults(ctx context.Context, tx pgx.Tx, results []ledger.Result) error {
	ev := &billingv1.PostingsRecorded{}
	for _, r := range results {
		ev.Results = append(ev.Results, resultProto(r))
		if r.Outcome == ledger.Reversed && r.ReversedCandidateOf != "" {
			orig := resultProto(r)
			orig.SourceId, orig.SourceVersion, orig.JournalEntryId = r.ReversedCandidateOf, r.ReversedVersion, ""
			orig.Hours, orig.BillableHours = "0", "0"
			orig.Cost, orig.Revenue = wire.MoneyProto(money.Zero(r.Cost.Currency)), wire.MoneyProto(money.Zero(r.Revenue.Currency))
			ev.Results = append(ev.Results, orig)
		}
	}
	_, err := s.outbox.Enqueue(ctx, tx, outbox.Event{Stream: wire.Stream, Type: wire.EventPostingsRecorded,
		Subject: results[0].Source.ID, Payload: ev})
	return err
}

var outcomes = map[ledger.Outcome]billingv1.PostingOutcome{
	ledger.Posted:               billingv1.PostingOutcome_POSTING_OUTCOME_POSTED,
	ledger.RejectedClosedPeriod: billingv1.PostingOutcome_POSTING_OUTCOME_REJECTED_CLOSED_PERIOD,
	ledger.Parked:               billingv1.PostingOutcome_POSTING_OUTCOME_PARKED_RATE_MISSING,
	ledger.Reversed:             billingv1.PostingOutcome_POSTING_OUTCOME_REVERSED,
}

func resultProto(r ledger.Result) *billingv1.PostingResult {
	s := r.Source
	p := &billingv1.PostingResult{SourceType: s.Type, SourceId: s.ID, SourceVersion: s.Version, Outcome: outcomes[r.Outcome],
		Reason: r.Reason, ProjectId: s.ProjectID, ResourceId: s.ResourceID, SourceDate: civilpb.To(s.Date),
		Hours: "0", BillableHours: r.BillableHrs.String(), TimesheetId: s.Timesheet}
	if r.Entry != nil {
		p.JournalEntryId = r.Entry.ID
	}
	if !r.PostingDate.IsZero() {
		p.PostingDate = civilpb.To(r.PostingDate)
	}
	if s.Type == ledger.SourceTime && (r.Outcome == ledger.Posted || (r.Outcome == ledger.Reversed && r.Entry != nil)) {
		p.Hours = s.Hours.String()
	}
	if r.Cost.Currency != "" {
		p.Cost, p.Revenue = wire.MoneyProto(r.Cost), wire.MoneyProto(r.Revenue)
	}
	return p
}

// trackParked records one exception per missing rate (with the number of entries waiting for
// it) and resolves those whose entries were all posted.
func (s *Service) trackParked(ctx context.Context, tx pgx.Tx, results []ledger.Result) error {
	type group struct {
		m     ledger.Missing
		n     int
		dates []civil.Date
	}
	parked := map[string]*group{}
	for _, r := range results {
		if r.Outcome != ledger.Parked {
			continue
		}
		k := parkedKey(*r.Missing)
		g, ok := parked[k]
		if !ok {
			g = &group{m: *r.Missing}
			parked[k] = g
		}
		g.n++
		g.dates = append(g.dates, r.Missing.Date)
	}
	keys := make([]string, 0, len(parked))
	for k := range parked {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		g := parked[k]
		total, err := store.ParkedCount(ctx, tx, g.m.Kind, g.m.Key)
		if err != nil {
			return err
		}
		sort.Slice(g.dates, func(i, j int) bool { return g.dates[i].Before(g.dates[j]) })
		reason := ledger.ReasonRateMissing
		if g.m.Kind == "exchange_rate" {
			reason = ledger.ReasonFXMissing
		} else if g.m.Kind == "project" {
			reason = ledger.ReasonProjectUnknown
		}
		if _, err := s.queue.Record(ctx, tx, exceptions.New{Kind: KindParked, Reason: reason,
			Message: fmt.Sprintf("%d postings wait for a %s (%s), dates from %s; they post automatically when it arrives",
				total, strings.ReplaceAll(g.m.Kind, "_", " "), g.m.Key, g.dates[0]),
			EntityType: g.m.Kind, EntityID: g.m.Key, DedupeKey: k}); err != nil {
			return err
		}
	}
	return nil
}

// Repost re-drives the postings parked for kind and key ("" = all, a key ending in "/" is a
// prefix) in tx, and resolves the exceptions that no longer have parked entries.
func (s *Service) Repost(ctx context.Context, tx pgx.Tx, kind, key string) (int, error) {
	sources, err := store.Parked(ctx, tx, kind, key, 20000)
	if err != nil || len(sources) == 0 {
		return 0, err
	}
	results, err := s.PostBatch(ctx, tx, sources)
	if err != nil {
		return 0, err
	}
	posted := 0
	for _, r := range results {
		if r.Outcome != ledger.Parked {
			posted++
		}
	}
	// Every open parked exception of the kind may now have no entry left.
	released := map[string]ledger.Missing{}
	groups := map[string][2]string{}
	rows, err := tx.Query(ctx, `SELECT DISTINCT entity_type, entity_id FROM exceptions WHERE kind = $1 AND status = 'OPEN'
		AND ($2 = '' OR entity_type = $2)`, KindParked, kind)
	if err != nil {
		return posted, err
	}
	for rows.Next() {
		var k, id string
		if err := rows.Scan(&k, &id); err != nil {
			rows.Close()
			return posted, err
		}
		groups[k+":"+id] = [2]string{k, id}
	}
	rows.Close()
	for _, g := range groups {
		n, err := store.ParkedCount(ctx, tx, g[0], g[1])
		if err != nil {
			return posted, err
		}
		if n == 0 {
			released[g[0]+":"+g[1]] = ledger.Missing{Kind: g[0], Key: g[1]}
		}
	}
	for _, m := range released {
		if _, err := s.queue.ResolveByKey(ctx, tx, parkedKey(m), "system", "the missing rate arrived; parked postings were posted"); err != nil {
			return posted, err
		}
	}
	return posted, nil
}

// retryParked is the exception queue's retry of KindParked.
func (s *Service) retryParked(ctx context.Context, e exceptions.Exception) error {
	return pg.InTx(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := s.Repost(ctx, tx, e.EntityType, e.EntityID); err != nil {
			return err
		}
		n, err := store.ParkedCount(ctx, tx, e.EntityType, e.EntityID)
		if err != nil {
			return err
		}
		if n > 0 {
			return fault.New(fault.FailedPrecondition, e.Reason, "%d postings still wait for a %s (%s)", n, e.EntityType, e.EntityID)
		}
		return nil
	})
}
