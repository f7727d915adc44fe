package app

import (
	"context"

	"github.com/google/uuid"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
	"github.com/accrue/accrue/services/billing/internal/suppliercost"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// projectClosed is the replica status of a closed project.
const projectClosed = "PROJECT_STATUS_CLOSED"

// RecordSupplierBillLine takes in a supplier bill line of legal entity leID: a new key is
// created, the same content again changes nothing, new content for the key is a correction
// (a new version). A created or corrected line and its allocation request are written to the
// outbox in one transaction; the allocation workers post it.
func (s *Service) RecordSupplierBillLine(ctx context.Context, leID string, in suppliercost.Line) (suppliercost.Line, suppliercost.Outcome, error) {
	if err := auth.CheckLegalEntity(ctx, leID); err != nil {
		return suppliercost.Line{}, "", err
	}
	in.LegalEntityID = leID
	if err := in.Validate(); err != nil {
		return suppliercost.Line{}, "", err
	}
	le, err := s.store.LegalEntity(ctx, leID)
	if err != nil {
		return suppliercost.Line{}, "", err
	}
	if err := s.checkLineRefs(ctx, le, &in); err != nil {
		return suppliercost.Line{}, "", err
	}
	var out suppliercost.Line
	var outcome suppliercost.Outcome
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		prev, err := s.store.LockSupplierLineByKey(ctx, leID, in.VendorID, in.BillNumber, in.LineNo)
		if err != nil {
			return err
		}
		l := in
		switch {
		case prev != nil && prev.SameContent(in):
			out, outcome = *prev, suppliercost.Unchanged
			return nil
		case prev != nil:
			l.ID, l.Version, outcome = prev.ID, prev.Version+1, suppliercost.Corrected
		default:
			l.ID, l.Version, outcome = uuid.Must(uuid.NewV7()).String(), 1, suppliercost.Created
		}
		if err := s.store.SaveSupplierLine(ctx, l); err != nil {
			return err
		}
		if err := s.requestAllocation(ctx, l.ID, l.Version, leID, false); err != nil {
			return err
		}
		out = l
		return s.store.Audit(ctx, audit.Record{Action: "supplier_bill_line." + string(outcome), EntityType: "supplier_bill_line", EntityID: l.ID,
			Details: map[string]any{"vendor_id": l.VendorID, "bill_number": l.BillNumber, "line": l.LineNo, "version": l.Version}})
	})
	return out, outcome, err
}

// requestAllocation writes the allocation request of a line version to the outbox.
func (s *Service) requestAllocation(ctx context.Context, lineID string, version int64, leID string, reallocate bool) error {
	return s.store.Publish(ctx, outbox.Event{Stream: billingv1.EventStream, Type: billingv1.EventTypeSupplierCostAllocationRequested,
		Subject: lineID, Payload: wire.AllocationRequested(lineID, version, leID, reallocate)})
}

// checkLineRefs checks the line's project, rule and period, and pins the rule's version.
func (s *Service) checkLineRefs(ctx context.Context, le legalentity.LegalEntity, l *suppliercost.Line) error {
	if l.ProjectID != "" {
		if err := s.checkProject(ctx, le.ID, l.ProjectID); err != nil {
			return err
		}
	}
	if l.RuleName != "" {
		r, err := s.store.CurrentRule(ctx, le.ID, l.RuleName)
		if err != nil {
			return err
		}
		if r == nil {
			return suppliercost.ErrRuleMissing.With("no allocation rule named "+l.RuleName, "allocation_rule", l.RuleName)
		}
		l.RuleVersion = r.Version
	}
	closed, err := s.store.PeriodClosed(ctx, le.ID, ledger.PeriodOf(l.BillDate))
	if err != nil {
		return err
	}
	if closed && le.Policy == legalentity.Reject {
		return suppliercost.ErrPeriodClosed.With("period "+ledger.PeriodOf(l.BillDate)+" is closed", "period", ledger.PeriodOf(l.BillDate))
	}
	return nil
}

// checkProject fails unless the project is an open project of legal entity leID.
func (s *Service) checkProject(ctx context.Context, leID, projectID string) error {
	projLE, status, found, err := s.store.ProjectState(ctx, projectID)
	if err != nil {
		return err
	}
	if !found || projLE != leID {
		return suppliercost.ErrUnknownProject.With("unknown project "+projectID, "project_id", projectID)
	}
	if status == projectClosed {
		return suppliercost.ErrProjectClosed.With("project "+projectID+" is closed", "project_id", projectID)
	}
	return nil
}

// UpsertAllocationRule stores r as the next version of the rule of its name.
func (s *Service) UpsertAllocationRule(ctx context.Context, leID string, r suppliercost.Rule) (suppliercost.Rule, error) {
	if err := auth.CheckLegalEntity(ctx, leID); err != nil {
		return suppliercost.Rule{}, err
	}
	r.LegalEntityID = leID
	if err := r.Validate(); err != nil {
		return suppliercost.Rule{}, err
	}
	if _, err := s.store.LegalEntity(ctx, leID); err != nil {
		return suppliercost.Rule{}, err
	}
	for _, t := range r.Targets {
		if err := s.checkProject(ctx, leID, t.ProjectID); err != nil {
			return suppliercost.Rule{}, err
		}
	}
	if r.OfCustomer() {
		ok, err := s.store.CustomerHasContract(ctx, leID, r.CustomerID)
		if err != nil {
			return suppliercost.Rule{}, err
		}
		if !ok {
			return suppliercost.Rule{}, fault.Invalidf(suppliercost.ErrRuleInvalid.Reason, "rule.customer_id",
				"customer %s has no contract in this legal entity", r.CustomerID)
		}
	}
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		cur, err := s.store.CurrentRule(ctx, leID, r.Name)
		if err != nil {
			return err
		}
		r.Version = 1
		if cur != nil {
			if sameRule(*cur, r) {
				r = *cur
				return nil
			}
			r.Version = cur.Version + 1
		}
		if err := s.store.SaveRule(ctx, r, auth.Actor(ctx)); err != nil {
			return err
		}
		return s.store.Audit(ctx, audit.Record{Action: "allocation_rule.saved", EntityType: "allocation_rule", EntityID: leID + "/" + r.Name,
			Details: map[string]any{"version": r.Version, "kind": string(r.Kind)}})
	})
	return r, err
}

func sameRule(a, b suppliercost.Rule) bool {
	if a.Kind != b.Kind || a.CustomerID != b.CustomerID || len(a.Targets) != len(b.Targets) {
		return false
	}
	for i := range a.Targets {
		x, y := a.Targets[i], b.Targets[i]
		if x.ProjectID != y.ProjectID || x.TaskID != y.TaskID || !x.Percent.Equal(y.Percent) {
			return false
		}
	}
	return true
}

// SupplierCostKPIs returns the supplier cost of a legal entity awaiting allocation.
func (s *Service) SupplierCostKPIs(ctx context.Context, leID string) (suppliercost.KPIs, error) {
	if err := auth.CheckLegalEntity(ctx, leID); err != nil {
		return suppliercost.KPIs{}, err
	}
	if _, err := s.store.LegalEntity(ctx, leID); err != nil {
		return suppliercost.KPIs{}, err
	}
	return s.store.SupplierCostKPIs(ctx, leID)
}

// SupplierCostAwaiting counts the lines of every legal entity awaiting allocation (the metric).
func (s *Service) SupplierCostAwaiting(ctx context.Context) (int64, error) {
	return s.store.CountSupplierAwaiting(ctx)
}
