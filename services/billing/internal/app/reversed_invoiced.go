package app

import (
	"context"
	"fmt"

	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/ledger"
)

// KindCreditNeeded is the exception kind of work reversed (a corrected or deleted time entry or
// expense) after a posted invoice billed it: one per candidate, asking for a credit note.
const KindCreditNeeded = "invoice.credit_needed"

// ReasonInvoicedWorkReversed is the reason of a KindCreditNeeded exception.
const ReasonInvoicedWorkReversed = "INVOICED_WORK_REVERSED"

// listReversedInvoiced lists the work of results' reversals that posted invoices still bill for
// a credit note (a rebill decision with a negative delta) and opens an exception for each; the
// posted invoices are never edited. Runs in the transaction of ctx.
func (s *Service) listReversedInvoiced(ctx context.Context, results []ledger.Result) error {
	var ids []string
	for _, r := range results {
		if r.Outcome == ledger.Reversed && r.ReversedCandidateOf != "" {
			ids = append(ids, r.ReversedCandidateOf)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	listed, err := s.store.SaveReversedRebills(ctx, ids)
	if err != nil {
		return err
	}
	for _, r := range listed {
		if _, err := s.store.RecordException(ctx, exceptions.New{Kind: KindCreditNeeded, Reason: ReasonInvoicedWorkReversed,
			Message: fmt.Sprintf("%s of %s was reversed after invoice %s billed it: a credit note of %s (quantity %s) is to issue (GET /v1/rebill-decisions?contract_id=%s)",
				r.SourceID, r.SourceDate, r.Invoices, r.Invoiced, r.Quantity, r.ContractID),
			EntityType: "invoice_candidate", EntityID: r.CandidateID, DedupeKey: KindCreditNeeded + ":" + r.CandidateID}); err != nil {
			return err
		}
	}
	return nil
}

// settleReversedInvoiced resolves the KindCreditNeeded exceptions of the reversed work credit
// note cn leaves unbilled. Runs in the transaction of ctx.
func (s *Service) settleReversedInvoiced(ctx context.Context, cn invoice.Invoice) error {
	ids, err := s.store.ReversedCredited(ctx, cn.ID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := s.store.ResolveException(ctx, KindCreditNeeded+":"+id, "system", "credited by "+cn.Number); err != nil {
			return err
		}
	}
	return nil
}
