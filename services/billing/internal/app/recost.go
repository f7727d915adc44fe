package app

import (
	"context"
	"fmt"
	"strings"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// KindRecostRejected is the exception kind of cost adjustments a closed period rejected (the
// legal entity's policy is REJECT): one per resource and rates version, listing the entries.
const KindRecostRejected = "posting.recost_rejected"

// recost re-costs the posted time of a resource whose cost rate changed (ratesVersion): every
// posted, unreversed entry whose labor cost differs from hours × the rate now in effect on its
// work date gets a delta adjustment (ledger.Book.Recost), never an edit of the original. The
// adjustments are written like postings (posting_results keyed by the rates version, so a
// redelivered change posts nothing twice), published in postings.recorded (cost delta, zero
// hours) and audited with the rate change that caused them. Runs in the transaction of ctx.
func (s *Service) recost(ctx context.Context, resourceID string, ratesVersion int64) error {
	posted, err := s.store.PostedCosts(ctx, resourceID)
	if err != nil || len(posted) == 0 {
		return err
	}
	sources := make([]ledger.Source, 0, len(posted))
	adjustments := make([]ledger.Source, 0, len(posted))
	for _, p := range posted {
		sources = append(sources, ledger.Source{Type: ledger.SourceTime, ID: p.SourceID, ResourceID: resourceID, ProjectID: p.ProjectID})
		adjustments = append(adjustments, ledger.Source{Type: ledger.SourceCostAdjustment, ID: p.SourceID, Version: ratesVersion})
	}
	done, err := s.store.FinalResults(ctx, adjustments)
	if err != nil {
		return err
	}
	book, err := s.store.LoadAdjustmentBook(ctx, sources)
	if err != nil {
		return err
	}
	fxErr := s.equip(ctx, &book)
	var results []ledger.Result
	var rejected []string
	for _, p := range posted {
		if done[ledger.SourceKey(ledger.SourceCostAdjustment, p.SourceID, ratesVersion)] {
			continue
		}
		r, ok := book.Recost(p, ratesVersion)
		if !ok {
			continue
		}
		if r.Outcome != ledger.Posted {
			rejected = append(rejected, fmt.Sprintf("%s (%s, %s)", p.SourceID, p.Date, r.Cost))
			continue
		}
		if !r.Entry.Balanced() {
			return fmt.Errorf("ledger: cost adjustment of %s does not balance", p.SourceID)
		}
		results = append(results, r)
	}
	if err := fxErr(); err != nil {
		return err
	}
	if len(rejected) > 0 {
		if _, err := s.store.RecordException(ctx, exceptions.New{Kind: KindRecostRejected, Reason: ledger.ReasonPeriodClosed,
			Message: fmt.Sprintf("cost rate of resource %s changed (rates v%d): %d posted entries in closed periods were not re-costed (policy REJECT): %s",
				resourceID, ratesVersion, len(rejected), strings.Join(rejected, ", ")),
			EntityType: "resource", EntityID: resourceID, DedupeKey: fmt.Sprintf("%s:%s:%d", KindRecostRejected, resourceID, ratesVersion)}); err != nil {
			return err
		}
	}
	if len(results) == 0 {
		return nil
	}
	if err := s.store.WriteResults(ctx, results, correlation.ID(ctx)); err != nil {
		return err
	}
	if err := s.store.Publish(ctx, outbox.Event{Stream: billingv1.EventStream, Type: billingv1.EventTypePostingsRecorded,
		Subject: resourceID, Payload: wire.PostingsRecorded(results)}); err != nil {
		return err
	}
	if err := s.reallocateForLaborCost(ctx, results); err != nil {
		return err
	}
	recs := make([]audit.Record, 0, len(results))
	for _, r := range results {
		recs = append(recs, audit.Record{Action: "posting.cost_adjusted", EntityType: ledger.SourceTime, EntityID: r.Source.ID,
			Reason: fmt.Sprintf("cost rate of resource %s changed (rates v%d)", resourceID, ratesVersion),
			Details: map[string]any{"resource_id": resourceID, "rates_version": ratesVersion, "journal_entry_id": r.Entry.ID,
				"posting_date": r.PostingDate.String()}})
	}
	if err := s.store.Audit(ctx, recs...); err != nil {
		return err
	}
	for _, r := range results {
		postingsTotal.WithLabelValues(r.Source.Type, string(r.Outcome)).Inc()
	}
	return nil
}
