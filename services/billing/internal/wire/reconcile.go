package wire

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/types/known/timestamppb"

	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/services/billing/internal/reconcile"
)

// ApprovedEntries converts time & expense's approved entries for reconciliation.
func ApprovedEntries(list []*timeexpensev1.ApprovedEntry) ([]reconcile.Approved, error) {
	out := make([]reconcile.Approved, 0, len(list))
	for _, e := range list {
		a := reconcile.Approved{ID: e.GetEntryId(), Expense: e.GetKind() == timeexpensev1.EntryKind_ENTRY_KIND_EXPENSE,
			Billable: e.GetBillable(), Reversed: e.GetReversed(),
			PostingStatus: trimPrefix(e.GetPostingStatus().String(), "POSTING_STATUS_")}
		if e.GetApproveTime() != nil {
			a.ApprovedAt = e.GetApproveTime().AsTime()
		}
		var err error
		if a.Expense {
			a.Currency = e.GetAmount().GetCurrencyCode()
			a.Amount, err = decimal.NewFromString(e.GetAmount().GetAmount())
		} else {
			a.Hours, err = decimal.NewFromString(e.GetHours())
		}
		if err != nil {
			return nil, fmt.Errorf("approved entry %s: %w", e.GetEntryId(), err)
		}
		out = append(out, a)
	}
	return out, nil
}

func trimPrefix(s, p string) string {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

// PublishedEventsRequest asks a service for a page of the events it published between since and
// until (a dry-run replay: it lists, publishes nothing).
func PublishedEventsRequest(service string, since, until time.Time, token string) *opsv1.ReplayEventsRequest {
	return &opsv1.ReplayEventsRequest{Service: service, Since: timestamppb.New(since), Until: timestamppb.New(until),
		DryRun: true, PageSize: 500, PageToken: token}
}

// PublishedEvents converts a page of published events, each with the services that subscribe to
// it (consumers: the catalogue).
func PublishedEvents(producer string, list []*opsv1.ReplayedEvent, consumers func(stream, typ string) []string) []reconcile.Event {
	out := make([]reconcile.Event, 0, len(list))
	for _, e := range list {
		if e.GetPublishTime() == nil || e.GetPublishTime().AsTime().IsZero() || e.GetPublishTime().AsTime().Unix() <= 0 {
			continue // not published yet: nothing can have consumed it
		}
		out = append(out, reconcile.Event{ID: e.GetEventId(), Producer: producer, Stream: e.GetStream(), Type: e.GetEventType(),
			Consumers: consumers(e.GetStream(), e.GetEventType())})
	}
	return out
}

var runStatuses = map[reconcile.Status]opsv1.ReconciliationStatus{
	reconcile.Clean:      opsv1.ReconciliationStatus_RECONCILIATION_STATUS_CLEAN,
	reconcile.Drift:      opsv1.ReconciliationStatus_RECONCILIATION_STATUS_DRIFT,
	reconcile.Incomplete: opsv1.ReconciliationStatus_RECONCILIATION_STATUS_INCOMPLETE,
}

// ReconciliationRun converts a run (its findings when loaded).
func ReconciliationRun(r reconcile.Run) *opsv1.ReconciliationRun {
	out := &opsv1.ReconciliationRun{RunId: r.ID, LegalEntityId: r.LegalEntityID, Period: r.Period, Status: runStatuses[r.Status],
		TriggeredBy: r.TriggeredBy, StartTime: timestamppb.New(r.StartedAt), EndTime: timestamppb.New(r.FinishedAt),
		FindingCount: int32(r.FindingCount)}
	for _, t := range r.Totals {
		out.Totals = append(out.Totals, &opsv1.ReconciliationTotal{Name: t.Name, Value: t.Value.String(), CurrencyCode: t.Currency})
	}
	for _, f := range r.Findings {
		out.Findings = append(out.Findings, &opsv1.ReconciliationFinding{Check: f.Check, Code: f.Code, EntityType: f.EntityType,
			EntityIds: f.EntityIDs, Detail: f.Detail, ExceptionId: f.ExceptionID, Producer: f.Producer, Consumer: f.Consumer})
	}
	return out
}

// ReconciliationRuns converts runs.
func ReconciliationRuns(list []reconcile.Run) []*opsv1.ReconciliationRun {
	out := make([]*opsv1.ReconciliationRun, len(list))
	for i, r := range list {
		out[i] = ReconciliationRun(r)
	}
	return out
}
