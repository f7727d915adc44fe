package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/paging"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// Exception kinds of a bill-rate change: WIP adjustments a closed period rejected (policy
// REJECT), and invoiced candidates that need a credit note / rebill decision. One per contract
// version, listing the entries.
const (
	KindRerateRejected = "posting.rerate_rejected"
	KindRebillNeeded   = "invoice.rebill_needed"
)

// rerate re-rates the billable time of contract c after version c.Version changed its bill
// rates: every open invoice candidate whose amount differs from its hours × the rate the rate
// card now holds for the resource's role on the work date takes that rate, and its WIP moves by a
// delta entry (ledger.Book.Rerate), never an edit of the original. The adjustments are written
// like postings (posting_results keyed by the contract version, so the same amendment re-rates
// once), published in postings.recorded (revenue delta, zero hours) and audited with the
// contract version that caused them. Invoiced candidates are left untouched and listed as
// rebill decisions with the delta they would need. Runs in the transaction of ctx.
func (s *Service) rerate(ctx context.Context, c contract.Contract) error {
	billed, err := s.store.BilledTime(ctx, c.ID)
	if err != nil || len(billed) == 0 {
		return err
	}
	sources := make([]ledger.Source, 0, len(billed))
	adjustments := make([]ledger.Source, 0, len(billed))
	for _, b := range billed {
		sources = append(sources, ledger.Source{Type: ledger.SourceTime, ID: b.Candidate.SourceID, ResourceID: b.ResourceID, ProjectID: b.Candidate.ProjectID})
		adjustments = append(adjustments, ledger.Source{Type: ledger.SourceBillAdjustment, ID: b.Candidate.SourceID, Version: c.Version})
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
	var (
		results  []ledger.Result
		rerated  []ledger.Rerated
		after    []ledger.Candidate
		checked  []string
		rebills  []ledger.Rebill
		rejected []string
	)
	for _, b := range billed {
		if b.Candidate.Status == ledger.CandidateInvoiced {
			checked = append(checked, b.Candidate.ID)
		} else if done[ledger.SourceKey(ledger.SourceBillAdjustment, b.Candidate.SourceID, c.Version)] {
			continue
		}
		r, ok := book.Rerate(b, c.Version)
		switch {
		case !ok:
		case r.Outcome == "":
			rebills = append(rebills, ledger.RebillOf(r, c.Version))
		case r.Outcome != ledger.Posted:
			rejected = append(rejected, fmt.Sprintf("%s (%s, %s)", b.Candidate.SourceID, b.Candidate.SourceDate, r.Delta))
		case r.Entry != nil && !r.Entry.Balanced():
			return fmt.Errorf("ledger: bill adjustment of %s does not balance", b.Candidate.SourceID)
		default:
			results, rerated, after = append(results, r.Result), append(rerated, r), append(after, r.After)
		}
	}
	if err := fxErr(); err != nil {
		return err
	}
	if err := s.listRebills(ctx, c, checked, rebills); err != nil {
		return err
	}
	if len(rejected) > 0 {
		if _, err := s.store.RecordException(ctx, exceptions.New{Kind: KindRerateRejected, Reason: ledger.ReasonPeriodClosed,
			Message: fmt.Sprintf("bill rates of contract %s changed (version %d): %d open candidates in closed periods were not re-rated (policy REJECT): %s",
				c.ID, c.Version, len(rejected), strings.Join(rejected, ", ")),
			EntityType: "contract", EntityID: c.ID, DedupeKey: fmt.Sprintf("%s:%s:%d", KindRerateRejected, c.ID, c.Version)}); err != nil {
			return err
		}
	}
	if len(results) == 0 {
		return nil
	}
	if err := s.store.WriteResults(ctx, results, correlation.ID(ctx)); err != nil {
		return err
	}
	if err := s.store.RerateCandidates(ctx, c.Version, after); err != nil {
		return err
	}
	if err := s.store.Publish(ctx, outbox.Event{Stream: billingv1.EventStream, Type: billingv1.EventTypePostingsRecorded,
		Subject: c.ID, Payload: wire.PostingsRecorded(results)}); err != nil {
		return err
	}
	recs := make([]audit.Record, 0, len(rerated))
	for _, r := range rerated {
		d := map[string]any{"contract_id": c.ID, "contract_version": c.Version, "candidate_id": r.Before.ID,
			"unit_price_before": r.Before.UnitPrice.String(), "unit_price_after": r.After.UnitPrice.String(),
			"amount_before": r.Before.Amount.String(), "amount_after": r.After.Amount.String(), "delta": r.Delta.String(),
			"posting_date": r.PostingDate.String()}
		if r.Entry != nil {
			d["journal_entry_id"] = r.Entry.ID
		}
		recs = append(recs, audit.Record{Action: "posting.bill_rerated", EntityType: ledger.SourceTime, EntityID: r.Before.SourceID,
			Reason: fmt.Sprintf("bill rates of contract %s changed (version %d: %s)", c.ID, c.Version, c.ChangeReason), Details: d})
	}
	if err := s.store.Audit(ctx, recs...); err != nil {
		return err
	}
	for _, r := range results {
		postingsTotal.WithLabelValues(r.Source.Type, string(r.Outcome)).Inc()
	}
	return nil
}

// listRebills keeps the rebill decisions of the invoiced candidates checked, and records one
// exception per contract version that asks for new ones.
func (s *Service) listRebills(ctx context.Context, c contract.Contract, checked []string, rebills []ledger.Rebill) error {
	if err := s.store.SaveRebills(ctx, c.Version, checked, rebills); err != nil || len(rebills) == 0 {
		return err
	}
	total := decimal.Zero
	for _, r := range rebills {
		total = total.Add(r.Delta.Value)
	}
	_, err := s.store.RecordException(ctx, exceptions.New{Kind: KindRebillNeeded, Reason: "INVOICED_AT_A_CHANGED_RATE",
		Message: fmt.Sprintf("bill rates of contract %s changed (version %d) after %d candidates were invoiced: a credit note / rebill of %s %s in all is to decide (GET /v1/rebill-decisions?contract_id=%s)",
			c.ID, c.Version, len(rebills), total, rebills[0].Delta.Currency, c.ID),
		EntityType: "contract", EntityID: c.ID, DedupeKey: fmt.Sprintf("%s:%s:%d", KindRebillNeeded, c.ID, c.Version)})
	return err
}

// RebillDecisions returns a page of invoiced candidates whose bill rate changed after they were
// invoiced, with the delta a credit note / rebill would need (page.Fetch() of them).
func (s *Service) RebillDecisions(ctx context.Context, f ledger.RebillFilter, page paging.Request) ([]ledger.Rebill, error) {
	f.LegalEntities = auth.EntitiesOf(ctx).Filter()
	return s.store.ListRebills(ctx, f, page)
}
