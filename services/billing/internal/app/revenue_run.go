package app

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/periodclose"
	"github.com/accrue/accrue/services/billing/internal/revenue"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// KindLossContract is the exception kind of a contract whose estimate at completion exceeds its
// price (one open exception per contract).
const KindLossContract = "revenue.loss_contract"

// ReasonLossContract is the reason of a loss-contract exception.
const ReasonLossContract = "LOSS_CONTRACT"

// RecognizeRevenue runs revenue recognition for a legal entity and period (see
// docs/design-notes.md, "Revenue recognition"): every line of its contracts not yet recognized
// for the period recognizes by its revenue method, cumulatively (to date less recognized
// before), with the expected loss of a loss contract provided at once; then each contract's
// asset / liability is reclassified at the period end. Everything is posted dated the period's
// last day, in one transaction, and published (revenue.recognized per line). A line or contract
// already done for the period is left alone, so running again posts nothing new. A closed period
// is refused (PERIOD_CLOSED); a soft-closed one is finance's to run. A dry run writes nothing and
// returns the entries it would post.
func (s *Service) RecognizeRevenue(ctx context.Context, legalEntityID, period string, dryRun bool) (run revenue.Run, entries []ledger.Entry, err error) {
	if err := auth.CheckLegalEntity(ctx, legalEntityID); err != nil {
		return run, nil, err
	}
	start, err := civil.Parse(period + "-01")
	if err != nil {
		return run, nil, fault.Invalidf(contract.ReasonInvalidPeriod, "period", "%q is not a period (YYYY-MM)", period)
	}
	end := civil.Of(start.Time().AddDate(0, 1, -1))
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		run, entries = revenue.Run{}, nil
		le, err := s.store.LegalEntity(ctx, legalEntityID)
		if err != nil {
			return err
		}
		if err := s.store.LockRevenuePeriod(ctx, legalEntityID, period); err != nil {
			return err
		}
		periods, err := s.store.ListPeriods(ctx, legalEntityID)
		if err != nil {
			return err
		}
		for _, p := range periods {
			if p.Period == period && p.Status == ledger.PeriodClosed {
				return periodclose.ErrPeriodClosed.With("period "+period+" of the legal entity is closed; reopen it to recognize revenue", "period", period)
			}
		}
		cur := le.FunctionalCurrency
		run = revenue.Run{ID: uuid.Must(uuid.NewV7()).String(), LegalEntityID: legalEntityID, Period: period, DryRun: dryRun,
			RunAt: s.now(), RunBy: auth.Actor(ctx), Currency: cur}
		ids, err := s.store.ContractIDs(ctx, legalEntityID)
		if err != nil {
			return err
		}
		var results []ledger.Result
		var events []outbox.Event
		for _, id := range ids {
			c, err := s.store.Contract(ctx, id, 0)
			if err != nil {
				return err
			}
			if c.Start.After(end) {
				continue
			}
			res, evs, err := s.recognizeContract(ctx, &run, c, period, end)
			if err != nil {
				return err
			}
			results, events = append(results, res...), append(events, evs...)
		}
		for _, r := range results {
			entries = append(entries, *r.Entry)
		}
		if dryRun {
			return nil // nothing written (a dry run may run inside the caller's transaction)
		}
		if err := s.store.WriteResults(ctx, results, correlation.ID(ctx)); err != nil {
			return err
		}
		if err := s.store.SaveRun(ctx, run); err != nil {
			return err
		}
		if err := s.store.Publish(ctx, events...); err != nil {
			return err
		}
		for _, cid := range run.LossContracts {
			if _, err := s.store.RecordException(ctx, exceptions.New{Kind: KindLossContract, Reason: ReasonLossContract,
				Message:    fmt.Sprintf("contract %s is a loss contract: its estimate at completion exceeds its price (period %s)", cid, period),
				EntityType: "contract", EntityID: cid, LegalEntityID: legalEntityID, DedupeKey: KindLossContract + "/" + cid}); err != nil {
				return err
			}
		}
		return s.store.Audit(ctx, audit.Record{Action: "revenue.recognized", EntityType: "period", EntityID: legalEntityID + "/" + period,
			Details: map[string]any{"run_id": run.ID, "lines": len(run.Lines), "recognized": run.Recognized.String(), "loss": run.Loss.String(),
				"reclassified": run.Reclassified.String()}})
	})
	return run, entries, err
}

// recognizeContract recognizes the lines of contract c not yet done for period and then the
// contract's reclassification, adds what it did to run and returns the entries to write (it
// writes nothing itself: a dry run writes nothing at all).
func (s *Service) recognizeContract(ctx context.Context, run *revenue.Run, c contract.Contract, period string, end civil.Date) ([]ledger.Result, []outbox.Event, error) {
	id, cur := c.ID, c.Currency
	// A foreign-currency contract recognizes in its currency; what reaches the books is converted
	// at the period end's rate (conv), and costs (posted in the functional currency) come back
	// into the contract currency at that rate for percent complete and the loss rule.
	fx, err := s.periodEndRate(ctx, cur, run.Currency, end)
	if err != nil {
		return nil, nil, err
	}
	conv := func(v decimal.Decimal) decimal.Decimal {
		if cur == run.Currency {
			return v
		}
		return money.Amount{Value: v.Mul(fx), Currency: run.Currency}.Round().Value
	}
	prior, done, err := s.store.RecognitionState(ctx, id, period)
	if err != nil {
		return nil, nil, err
	}
	delivered, expenses, err := s.store.DeliveredToDate(ctx, id, end)
	if err != nil {
		return nil, nil, err
	}
	costs, err := s.store.LineCostsToDate(ctx, id, end)
	if err != nil {
		return nil, nil, err
	}
	estimates, err := s.store.EstimatesAt(ctx, id, period)
	if err != nil {
		return nil, nil, err
	}
	completed, err := s.store.CompletedMilestones(ctx, id, end)
	if err != nil {
		return nil, nil, err
	}
	projects, err := s.store.ContractProjects(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if cur != run.Currency {
		for k, v := range costs {
			costs[k] = money.Amount{Value: v.Div(fx), Currency: cur}.Round().Value
		}
	}
	tags := revenue.Tags{LegalEntityID: run.LegalEntityID, Currency: run.Currency, Date: end, ContractID: id, TxnCurrency: cur, FX: fx}
	if len(projects) > 0 {
		tags.ProjectID = projects[0]
	}
	amt := func(v decimal.Decimal) money.Amount { return money.Amount{Value: v, Currency: cur} }
	var results []ledger.Result
	var events []outbox.Event
	lineToDate := map[string]decimal.Decimal{}
	deferredMoved := decimal.Zero // what this run's revenue entries debit to deferred revenue
	loss := false
	for _, l := range c.Lines {
		if done[l.Key] {
			continue
		}
		in := revenue.LineInput{Line: l, Period: period, PeriodEnd: end, Delivered: amt(delivered[l.Key]), CostToDate: amt(costs[l.Key]),
			Completed: completed[l.Key], RecognizedBefore: amt(prior[l.Key].ToDate), ProvisionBefore: amt(prior[l.Key].Provision)}
		if e, ok := estimates[l.Key]; ok {
			etc := amt(e)
			in.EstimateToComplete = &etc
		}
		r, err := revenue.Recognize(in)
		if err != nil {
			return nil, nil, fmt.Errorf("contract %s line %s: %w", id, l.Key, err)
		}
		rec := revenue.Recorded{ContractID: id, LineKey: l.Key, Period: period, LegalEntityID: run.LegalEntityID, RunID: run.ID, Method: l.Revenue,
			Currency: cur, ToDate: r.Recognition.ToDate.Value, Amount: r.Recognition.Period.Value, CostToDate: in.CostToDate.Value,
			LossContract: r.Loss.LossContract, LossProvision: r.Loss.Provision.Value, LossAmount: r.Loss.Period.Value, Skipped: r.Skipped}
		if r.EstimateTotal != nil {
			eac, p := r.EstimateTotal.Value, r.Progress
			rec.EstimateTotal = &eac
			if l.Revenue == contract.PercentComplete {
				rec.Progress = &p
			}
		}
		if r.Skipped == "" {
			tags.EntryID = uuid.Must(uuid.NewV7()).String()
			if e := revenue.RecognitionEntry(tags, l.Key, period, r); e != nil {
				if !e.Balanced() {
					return nil, nil, fmt.Errorf("revenue entry of %s does not balance", e.SourceID)
				}
				rec.JournalEntryID = e.ID
				results = append(results, entryResult(e, tags.ProjectID))
				if l.Revenue != contract.AsDelivered {
					deferredMoved = deferredMoved.Add(conv(rec.Amount))
				}
			}
			run.Recognized = run.Recognized.Add(conv(rec.Amount))
			run.Loss = run.Loss.Add(conv(rec.LossAmount))
			lineToDate[l.Key] = rec.ToDate
			loss = loss || rec.LossContract
			events = append(events, outbox.Event{Stream: billingv1.EventStream, Type: billingv1.EventTypeRevenueRecognized, Subject: id,
				Payload: &billingv1.RevenueRecognized{Recognition: wire.LineRecognition(rec), LegalEntityId: run.LegalEntityID,
					ProjectIds: projects, RunId: run.ID}})
		}
		run.Lines = append(run.Lines, rec)
	}
	if loss {
		run.LossContracts = append(run.LossContracts, id)
	}
	if ok, err := s.store.PositionDone(ctx, id, period); err != nil || ok {
		return results, events, err
	}
	recognized, err := s.store.RecognizedToDate(ctx, id, period)
	if err != nil {
		return nil, nil, err
	}
	// Lines recognized by this run are not saved yet: theirs replace what the store has.
	for _, l := range c.Lines {
		if v, ok := lineToDate[l.Key]; ok {
			recognized = recognized.Sub(prior[l.Key].ToDate).Add(v)
		}
	}
	recognized = recognized.Add(expenses)
	billed, err := s.store.BilledToDate(ctx, id, end)
	if err != nil {
		return nil, nil, err
	}
	pos, err := revenue.PositionOf(amt(recognized), amt(billed))
	if err != nil {
		return nil, nil, err
	}
	// The ledger as of the period end, this run's revenue entries not written yet (they move
	// deferred revenue only).
	unbilled, deferred, err := s.store.ContractBalances(ctx, id, end)
	if err != nil {
		return nil, nil, err
	}
	deferred = deferred.Add(deferredMoved)
	asset, liability := conv(pos.Asset.Value), conv(pos.Liability.Value)
	x := unbilled.Sub(asset)
	cp := revenue.ContractPosition{ContractID: id, LegalEntityID: run.LegalEntityID, Period: period, AsOf: end, Currency: run.Currency,
		Recognized: conv(recognized), Billed: conv(billed), Asset: asset, Liability: liability, Reclassified: x,
		LedgerUnbilled: unbilled.Sub(x), LedgerDeferred: deferred.Add(x)}
	tags.EntryID = uuid.Must(uuid.NewV7()).String()
	if e := revenue.PositionEntry(tags, period, x); e != nil {
		cp.JournalEntryID = e.ID
		results = append(results, entryResult(e, tags.ProjectID))
	}
	run.Reclassified = run.Reclassified.Add(x)
	run.Positions = append(run.Positions, cp)
	return results, events, nil
}

// periodEndRate is the rate converting a contract's currency to the functional one on d (the
// period end): 1 in the same currency; revenue.ErrFXMissing without one.
func (s *Service) periodEndRate(ctx context.Context, currency, functional string, d civil.Date) (decimal.Decimal, error) {
	if currency == functional {
		return decimal.NewFromInt(1), nil
	}
	r, ok, err := s.store.ExchangeRate(ctx, currency, functional, d)
	if err != nil {
		return r, err
	}
	if !ok {
		return r, revenue.ErrFXMissing.With(fmt.Sprintf("no %s/%s rate on %s", currency, functional, d), "currency_code", currency)
	}
	return r, nil
}

// entryResult is the posting result that writes a run's entry (posted once per source key).
func entryResult(e *ledger.Entry, projectID string) ledger.Result {
	return ledger.Result{Source: ledger.Source{Type: e.SourceType, ID: e.SourceID, Version: 1, Date: e.SourceDate, ProjectID: projectID},
		Outcome: ledger.Posted, Entry: e, PostingDate: e.PostingDate}
}
