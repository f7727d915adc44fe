package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/telemetry"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

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

// PostBatch posts sources in one transaction (the ambient one of ctx, e.g. a consumer's batch):
// it skips sources already posted, rejected or reversed (the business guard behind the inbox),
// loads what the batch needs in a few queries, posts in memory, writes everything with bulk
// statements, publishes one postings.recorded event and keeps the parked exceptions in step.
// Entries are processed in order, so a correction's reversal follows its original.
func (s *Service) PostBatch(ctx context.Context, sources []ledger.Source) (results []ledger.Result, err error) {
	if len(sources) == 0 {
		return nil, nil
	}
	ctx, span := telemetry.Start(ctx, "billing.post_batch", trace.WithAttributes(attribute.Int("accrue.posting.sources", len(sources))))
	defer func() {
		if err == nil {
			outcomes := map[ledger.Outcome]int{}
			for _, r := range results {
				outcomes[r.Outcome]++
			}
			for o, n := range outcomes {
				span.SetAttributes(attribute.Int("accrue.posting."+strings.ToLower(string(o)), n))
			}
		}
		telemetry.End(span, err)
	}()
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		results, err = s.postBatch(ctx, sources)
		return err
	})
	return results, err
}

func (s *Service) postBatch(ctx context.Context, sources []ledger.Source) ([]ledger.Result, error) {
	final, err := s.store.FinalResults(ctx, sources)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	todo := sources[:0:0]
	for _, src := range sources {
		k := src.Key()
		if final[k] || seen[k] {
			continue
		}
		seen[k] = true
		todo = append(todo, src)
	}
	if len(todo) == 0 {
		return nil, nil
	}
	book, err := s.store.LoadBook(ctx, todo)
	if err != nil {
		return nil, err
	}
	fxErr := s.equip(ctx, &book)
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
	if err := fxErr(); err != nil {
		return nil, err
	}
	if err := s.store.WriteResults(ctx, results, correlation.ID(ctx)); err != nil {
		return nil, err
	}
	if err := s.listReversedInvoiced(ctx, results); err != nil {
		return nil, err
	}
	if err := s.store.Publish(ctx, outbox.Event{Stream: billingv1.EventStream, Type: billingv1.EventTypePostingsRecorded,
		Subject: results[0].Source.ID, Payload: wire.PostingsRecorded(results)}); err != nil {
		return nil, err
	}
	if err := s.trackParked(ctx, results); err != nil {
		return nil, err
	}
	if err := s.reallocateForHours(ctx, results); err != nil {
		return nil, err
	}
	postingBatchSize.Observe(float64(len(results)))
	for _, r := range results {
		postingsTotal.WithLabelValues(r.Source.Type, string(r.Outcome)).Inc()
	}
	return results, nil
}
