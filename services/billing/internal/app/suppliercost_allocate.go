package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/shopspring/decimal"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
	"github.com/accrue/accrue/services/billing/internal/suppliercost"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// KindSupplierParked is the exception kind of a supplier bill line parked by allocation (a
// missing exchange rate, a closed period, an empty basis); retrying it asks for the allocation
// again.
const KindSupplierParked = "supplier_cost.parked"

// RetrySupplierParked re-drives a parked line: a new allocation request for its current version.
func (s *Service) RetrySupplierParked(ctx context.Context, e exceptions.Exception) error {
	return s.store.InTx(ctx, func(ctx context.Context) error {
		l, a, err := s.store.LockSupplierLine(ctx, e.EntityID)
		if err != nil || a.Status != suppliercost.Parked {
			return err
		}
		return s.requestAllocation(ctx, l.ID, l.Version, l.LegalEntityID, false)
	})
}

var allocationsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "accrue_supplier_cost_allocations_total", Help: "Supplier bill line allocations by outcome.",
}, []string{"outcome"})

// SupplierCostCollectors returns the allocation workers' Prometheus collectors.
func SupplierCostCollectors() []prometheus.Collector { return []prometheus.Collector{allocationsTotal} }

// AllocationRequest asks to post version Version of a supplier bill line.
type AllocationRequest struct {
	LineID  string
	Version int64
	// Reallocate re-splits the allocated version (its basis changed).
	Reallocate bool
}

// AllocateSupplierLines posts the requested line versions in one transaction (the ambient one of
// ctx, e.g. the allocation consumer's batch). A request for a version already allocated or no
// longer current does nothing, so a redelivery posts once. Allocating a corrected line reverses
// the entry of the version allocated before and posts the new one: Dr subcontractor cost per
// project, Cr accounts payable, in the functional currency at the bill date's rate. A line
// missing a rate (or whose period is closed under the reject policy, or whose basis is empty)
// is parked; SetExchangeRate re-drives the ones waiting for its rate.
func (s *Service) AllocateSupplierLines(ctx context.Context, reqs []AllocationRequest) error {
	return s.store.InTx(ctx, func(ctx context.Context) error {
		var results []ledger.Result
		for _, rq := range reqs {
			rs, err := s.allocate(ctx, rq)
			if err != nil {
				return err
			}
			results = append(results, rs...)
		}
		if len(results) == 0 {
			return nil
		}
		if err := s.store.WriteResults(ctx, results, correlation.ID(ctx)); err != nil {
			return err
		}
		// The parts' cost and revenue per project, for project financials.
		var parts []ledger.Result
		for _, r := range results {
			if r.Source.Type == suppliercost.SourceCost || r.Source.Type == suppliercost.SourceCostReversal {
				parts = append(parts, r)
			}
		}
		if len(parts) == 0 {
			return nil
		}
		return s.store.Publish(ctx, outbox.Event{Stream: billingv1.EventStream, Type: billingv1.EventTypePostingsRecorded,
			Subject: parts[0].Source.ID, Payload: wire.PostingsRecorded(parts)})
	})
}

func (s *Service) allocate(ctx context.Context, rq AllocationRequest) ([]ledger.Result, error) {
	l, a, err := s.store.LockSupplierLine(ctx, rq.LineID)
	if errors.Is(err, suppliercost.ErrLineNotFound) {
		allocationsTotal.WithLabelValues("unknown").Inc()
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	stale := l.Version != rq.Version || (a.Status == suppliercost.Allocated && a.Version >= rq.Version)
	if rq.Reallocate {
		// Only an allocated current version re-splits; a pending request posts the new basis anyway.
		stale = l.Version != rq.Version || a.Status != suppliercost.Allocated || a.Version != rq.Version
	}
	if stale {
		allocationsTotal.WithLabelValues("duplicate").Inc()
		return nil, nil
	}
	le, err := s.store.LegalEntity(ctx, l.LegalEntityID)
	if err != nil {
		return nil, err
	}
	park := func(reason string) ([]ledger.Result, error) {
		allocationsTotal.WithLabelValues("parked").Inc()
		if rq.Reallocate { // keep the allocation posted; the line is not waiting for anything new
			return nil, nil
		}
		if _, err := s.store.RecordException(ctx, exceptions.New{Kind: KindSupplierParked, Reason: reason,
			Message: fmt.Sprintf("supplier bill %s/%s line %d (%s) waits (%s); it is allocated automatically when that is fixed",
				l.VendorID, l.BillNumber, l.LineNo, l.Amount, reason),
			EntityType: "supplier_bill_line", EntityID: l.ID, LegalEntityID: l.LegalEntityID, DedupeKey: KindSupplierParked + "/" + l.ID}); err != nil {
			return nil, err
		}
		return nil, s.store.MarkSupplierLine(ctx, l.ID, suppliercost.Allocation{Status: suppliercost.Parked, Version: a.Version, EntryID: a.EntryID,
			Seq: a.Seq}, reason)
	}
	postDate, ok, err := s.postingDate(ctx, le, l.BillDate)
	if err != nil {
		return nil, err
	}
	if !ok {
		return park(suppliercost.ReasonPeriodClosed)
	}
	rate := decimal.NewFromInt(1)
	if l.Amount.Currency != le.FunctionalCurrency {
		r, found, err := s.store.ExchangeRate(ctx, l.Amount.Currency, le.FunctionalCurrency, l.BillDate)
		if err != nil {
			return nil, err
		}
		if !found {
			return park(suppliercost.ReasonFXRateMissing)
		}
		rate = r
	}
	txnParts, fnParts, err := s.split(ctx, l, rate, le.FunctionalCurrency)
	if errors.Is(err, suppliercost.ErrNoBasis) {
		return park(suppliercost.ReasonNoBasis)
	}
	if err != nil {
		return nil, err
	}
	e := ledger.Entry{ID: uuid.Must(uuid.NewV7()).String(), LegalEntityID: le.ID, Currency: le.FunctionalCurrency, PostingDate: postDate,
		SourceDate: l.BillDate, SourceType: suppliercost.SourceLine, SourceID: l.ID, SourceVersion: a.Seq + 1,
		Description: fmt.Sprintf("supplier bill %s/%s line %d %s", l.VendorID, l.BillNumber, l.LineNo, l.Amount)}
	total := decimal.Zero
	for i, p := range fnParts {
		e.Lines = append(e.Lines, ledger.Line{Account: ledger.SubcontractorCost, ProjectID: p.ProjectID, TaskID: p.TaskID, Debit: p.Amount.Value,
			Credit: decimal.Zero, TxnAmount: txnParts[i].Amount, FXRate: rate, RateDate: l.BillDate})
		total = total.Add(p.Amount.Value)
	}
	e.Lines = append(e.Lines, ledger.Line{Account: ledger.AccountsPayable, Debit: decimal.Zero, Credit: total,
		TxnAmount: money.Amount{Value: l.Amount.Value.Neg(), Currency: l.Amount.Currency}, FXRate: rate, RateDate: l.BillDate})
	parts, ok, err := s.passThrough(ctx, l, &e, txnParts, fnParts)
	if err != nil {
		return nil, err
	}
	if !ok {
		return park(suppliercost.ReasonFXRateMissing)
	}
	for i, ln := range e.Lines { // a credit note: keep both sides non-negative
		if ln.Debit.IsNegative() || ln.Credit.IsNegative() {
			e.Lines[i].Debit, e.Lines[i].Credit = ln.Credit.Neg(), ln.Debit.Neg()
		}
	}
	if !e.Balanced() {
		return nil, fmt.Errorf("suppliercost: entry of line %s does not balance", l.ID)
	}
	var results []ledger.Result
	if a.EntryID != "" {
		prior, err := s.store.JournalEntry(ctx, a.EntryID)
		if err != nil {
			return nil, err
		}
		if rq.Reallocate && sameLines(prior.Lines, e.Lines) { // a redelivery, or a change that moves nothing
			allocationsTotal.WithLabelValues("unchanged").Inc()
			return nil, nil
		}
		rev := reversal(prior, postDate)
		results = append(results, ledger.Result{Source: ledger.Source{Type: suppliercost.SourceReversal, ID: l.ID, Version: prior.SourceVersion,
			Date: l.BillDate}, Outcome: ledger.Reversed, Entry: &rev, PostingDate: postDate})
		results = append(results, reversedParts(l.ID, prior, a.Seq, l.BillDate, postDate)...)
		if err := s.store.CancelSupplierCandidates(ctx, l.ID, a.Seq); err != nil {
			return nil, err
		}
	}
	results = append(results, ledger.Result{Source: ledger.Source{Type: suppliercost.SourceLine, ID: l.ID, Version: e.SourceVersion, Date: l.BillDate},
		Outcome: ledger.Posted, Entry: &e, PostingDate: postDate})
	results = append(results, parts...)
	allocationsTotal.WithLabelValues("posted").Inc()
	if a.Status == suppliercost.Parked {
		if _, err := s.store.ResolveException(ctx, KindSupplierParked+"/"+l.ID, "billing", "allocated"); err != nil {
			return nil, err
		}
	}
	return results, s.store.MarkSupplierLine(ctx, l.ID, suppliercost.Allocation{Status: suppliercost.Allocated, Version: l.Version, EntryID: e.ID,
		Seq: e.SourceVersion}, "")
}

// split spreads the line over projects by its rule, in the transaction currency and (at rate) in
// the functional one, with the same weights: each side sums exactly to its total.
func (s *Service) split(ctx context.Context, l suppliercost.Line, rate decimal.Decimal, functional string) (txn, fn []suppliercost.Part, err error) {
	var rule *suppliercost.Rule
	if l.RuleName != "" {
		if rule, err = s.store.Rule(ctx, l.LegalEntityID, l.RuleName, l.RuleVersion); err != nil {
			return nil, nil, err
		}
		if rule == nil {
			return nil, nil, suppliercost.ErrRuleMissing
		}
		if rule.OfCustomer() {
			ids, err := s.store.CustomerProjects(ctx, l.LegalEntityID, rule.CustomerID)
			if err != nil {
				return nil, nil, err
			}
			r := rule.ResolveTargets(ids)
			rule = &r
		}
	}
	var basis map[string]decimal.Decimal
	if rule != nil && (rule.Kind == suppliercost.ByHours || rule.Kind == suppliercost.ByLaborCost) {
		ids := make([]string, len(rule.Targets))
		for i, t := range rule.Targets {
			ids[i] = t.ProjectID
		}
		if rule.Kind == suppliercost.ByHours {
			basis, err = s.store.ProjectHours(ctx, ids, l.PeriodStart, l.PeriodEnd)
		} else {
			basis, err = s.store.ProjectLaborCost(ctx, ids, l.PeriodStart, l.PeriodEnd)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	if txn, err = suppliercost.Allocate(l, rule, l.Amount, basis); err != nil {
		return nil, nil, err
	}
	converted := l.Amount.Mul(rate)
	converted.Currency = functional
	if fn, err = suppliercost.Allocate(l, rule, converted.Round(), basis); err != nil {
		return nil, nil, err
	}
	if len(txn) != len(fn) { // a part rounded to zero on one side only
		return nil, nil, fmt.Errorf("suppliercost: line %s splits into %d and %d parts", l.ID, len(txn), len(fn))
	}
	return txn, fn, nil
}

// postingDate is the bill date, or under the roll-forward policy the first day of the next open
// period when the bill's is closed; ok is false when the period is closed under the reject policy.
func (s *Service) postingDate(ctx context.Context, le legalentity.LegalEntity, d civil.Date) (civil.Date, bool, error) {
	for i := 0; i < 120; i++ {
		closed, err := s.store.PeriodClosed(ctx, le.ID, ledger.PeriodOf(d))
		if err != nil || !closed {
			return d, err == nil, err
		}
		if le.Policy != legalentity.RollForward {
			return d, false, nil
		}
		d = civil.Of(d.Time().AddDate(0, 1, 1-d.Time().Day()))
	}
	return d, false, nil
}

// reversal is the entry that cancels e on date: every line's sides swapped.
func reversal(e ledger.Entry, date civil.Date) ledger.Entry {
	r := ledger.Entry{ID: uuid.Must(uuid.NewV7()).String(), LegalEntityID: e.LegalEntityID, Currency: e.Currency, PostingDate: date,
		SourceDate: e.SourceDate, SourceType: suppliercost.SourceReversal, SourceID: e.SourceID, SourceVersion: e.SourceVersion,
		ReversesID: e.ID, Description: "reversal of " + e.Description}
	for _, l := range e.Lines {
		l.Debit, l.Credit = l.Credit, l.Debit
		l.TxnAmount = money.Amount{Value: l.TxnAmount.Value.Neg(), Currency: l.TxnAmount.Currency}
		r.Lines = append(r.Lines, l)
	}
	return r
}

// redriveParkedSupplierLines asks again to allocate the lines parked for a missing from→to rate.
func (s *Service) redriveParkedSupplierLines(ctx context.Context, from, to string) error {
	lines, err := s.store.ParkedSupplierLines(ctx, suppliercost.ReasonFXRateMissing, from, to)
	if err != nil {
		return err
	}
	for id, version := range lines {
		l, _, err := s.store.LockSupplierLine(ctx, id)
		if err != nil {
			return err
		}
		if err := s.requestAllocation(ctx, id, version, l.LegalEntityID, false); err != nil {
			return err
		}
	}
	return nil
}

// sameLines reports whether two entries book the same amounts on the same accounts and projects.
func sameLines(a, b []ledger.Line) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Account != y.Account || x.ProjectID != y.ProjectID || x.TaskID != y.TaskID || !x.Debit.Equal(y.Debit) || !x.Credit.Equal(y.Credit) ||
			!x.TxnAmount.Value.Equal(y.TxnAmount.Value) {
			return false
		}
	}
	return true
}

// reallocateForHours asks to re-split the allocated lines whose rule splits by the hours or labor
// cost of the projects of posted (or reversed) time: event driven, in the posting's transaction.
func (s *Service) reallocateForHours(ctx context.Context, results []ledger.Result) error {
	return s.reallocateFor(ctx, results, ledger.SourceTime, suppliercost.ByHours, suppliercost.ByLaborCost)
}

// reallocateForLaborCost asks to re-split the allocated lines whose rule splits by the labor cost
// of the projects a re-costing (a cost rate changed after posting) adjusted, in its transaction.
func (s *Service) reallocateForLaborCost(ctx context.Context, results []ledger.Result) error {
	return s.reallocateFor(ctx, results, ledger.SourceCostAdjustment, suppliercost.ByLaborCost)
}

// reallocateFor asks to re-split the allocated lines whose rule splits by one of kinds over the
// projects and work dates of the results of sourceType.
func (s *Service) reallocateFor(ctx context.Context, results []ledger.Result, sourceType string, kinds ...suppliercost.RuleKind) error {
	projects := idSet{}
	var from, to civil.Date
	for _, r := range results {
		src := r.Source
		if src.Type != sourceType || (r.Outcome != ledger.Posted && r.Outcome != ledger.Reversed) || src.ProjectID == "" {
			continue
		}
		projects[src.ProjectID] = true
		if from.IsZero() || src.Date.Before(from) {
			from = src.Date
		}
		if to.IsZero() || src.Date.After(to) {
			to = src.Date
		}
	}
	if len(projects) == 0 {
		return nil
	}
	lines, err := s.store.LinesSplitBy(ctx, kinds, projects.list(), from, to)
	if err != nil {
		return err
	}
	for _, l := range lines {
		if err := s.requestAllocation(ctx, l.ID, l.Version, l.LegalEntityID, true); err != nil {
			return err
		}
	}
	return nil
}

// idSet is a set of ids.
type idSet map[string]bool

func (s idSet) list() []string {
	out := make([]string, 0, len(s))
	for id := range s {
		out = append(out, id)
	}
	return out
}
