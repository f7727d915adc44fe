// Package events holds the billing service's event consumers: approved time and expenses to post,
// and the replicas posting reads (projects and tasks, cost rates and roles).
package events

import (
	"context"
	"fmt"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"

	"github.com/shopspring/decimal"

	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/store"
)

// Streams billing consumes.
const (
	TimeExpenseStream = "timeexpense.events"
	ProjectStream     = "project.events"
	ResourceStream    = "resource.events"
)

// Postings posts the approved and reversed entries of a whole batch of events in one go.
func Postings(uc *app.Service) stream.Handler {
	return func(ctx context.Context, msgs []stream.Message) error {
		tx, _ := pg.TxFrom(ctx) // TODO(house): store behind an interface
		var sources []ledger.Source
		for _, m := range msgs {
			var entries []*timeexpensev1.TimeEntry
			switch m.Envelope.GetType() {
			case "time_entries.approved":
				var ev timeexpensev1.EntriesApproved
				if err := m.Envelope.GetPayload().UnmarshalTo(&ev); err != nil {
					return fmt.Errorf("%s: %w", m.Envelope.GetEventId(), err)
				}
				entries = ev.GetEntries()
			case "time_entries.reversed":
				var ev timeexpensev1.EntriesReversed
				if err := m.Envelope.GetPayload().UnmarshalTo(&ev); err != nil {
					return fmt.Errorf("%s: %w", m.Envelope.GetEventId(), err)
				}
				entries = ev.GetEntries()
			default:
				continue
			}
			for _, e := range entries {
				s, err := source(e)
				if err != nil {
					return fmt.Errorf("%s: entry %s: %w", m.Envelope.GetEventId(), e.GetEntryId(), err)
				}
				sources = append(sources, s)
			}
		}
		_, err := uc.PostBatch(ctx, tx, sources)
		return err
	}
}

func source(e *timeexpensev1.TimeEntry) (ledger.Source, error) {
	d, err := civilpb.From(e.GetWorkDate(), "work_date")
	if err != nil {
		return ledger.Source{}, err
	}
	s := ledger.Source{ID: e.GetEntryId(), Version: e.GetVersion(), ResourceID: e.GetResourceId(), ProjectID: e.GetProjectId(),
		TaskID: e.GetTaskId(), Date: d, Billable: e.GetBillable(), ReversesID: e.GetReversesEntryId(), Timesheet: e.GetTimesheetId(),
		Desc: e.GetDescription()}
	if s.Version == 0 {
		s.Version = 1
	}
	switch e.GetKind() {
	case timeexpensev1.EntryKind_ENTRY_KIND_EXPENSE:
		s.Type = ledger.SourceExpense
		a, err := money.Parse(e.GetAmount().GetAmount(), e.GetAmount().GetCurrencyCode(), "amount")
		if err != nil {
			return s, err
		}
		s.Amount = a
	default:
		s.Type = ledger.SourceTime
		h, err := decimal.NewFromString(e.GetHours())
		if err != nil {
			return s, err
		}
		s.Hours = h
	}
	return s, nil
}

// Projects keeps the project replica posting reads, and posts what waited for a project's
// contract once the project has one.
func Projects(uc *app.Service) stream.Handler {
	return func(ctx context.Context, msgs []stream.Message) error {
		tx, _ := pg.TxFrom(ctx) // TODO(house): store behind an interface
		for _, m := range msgs {
			// Every project event carries the project as it is after the change.
			ev, ok := stream.PayloadAs[interface{ GetProject() *projectv1.Project }](m)
			if !ok {
				continue
			}
			p := ev.GetProject()
			var ids, keys []string
			var billable []bool
			for _, t := range p.GetTasks() {
				ids, keys, billable = append(ids, t.GetTaskId()), append(keys, t.GetContractLineKey()), append(billable, t.GetBillable())
			}
			changed, err := store.ApplyProjectReplica(ctx, tx, p.GetProjectId(), p.GetLegalEntityId(), p.GetContractId(),
				p.GetStatus().String(), p.GetVersion(), ids, billable, keys)
			if err != nil {
				return err
			}
			if changed && p.GetContractId() != "" {
				if _, err := uc.Repost(ctx, tx, "project", p.GetProjectId()); err != nil {
					return err
				}
			}
		}
		return nil
	}
}

// Resources keeps the cost-rate and role replica and posts what waited for a resource's rate.
func Resources(uc *app.Service) stream.Handler {
	return func(ctx context.Context, msgs []stream.Message) error {
		tx, _ := pg.TxFrom(ctx) // TODO(house): store behind an interface
		for _, m := range msgs {
			switch m.Envelope.GetType() {
			case "cost_rate.changed":
				var ev resourcev1.CostRateChanged
				if err := m.Envelope.GetPayload().UnmarshalTo(&ev); err != nil {
					return err
				}
				var rates []store.ReplicaRate
				for _, r := range ev.GetCurrent() {
					v, err := decimal.NewFromString(r.GetRate().GetAmount())
					if err != nil {
						return err
					}
					from, err := civilpb.From(r.GetEffectiveFrom(), "effective_from")
					if err != nil {
						return err
					}
					to, err := civilpb.From(r.GetEffectiveTo(), "effective_to")
					if err != nil {
						return err
					}
					rates = append(rates, store.ReplicaRate{Rate: v, Currency: r.GetRate().GetCurrencyCode(), From: from, To: to})
				}
				changed, err := store.ApplyCostRates(ctx, tx, ev.GetResourceId(), ev.GetRole(), ev.GetRatesVersion(), rates)
				if err != nil {
					return err
				}
				if changed {
					if _, err := uc.Repost(ctx, tx, "cost_rate", ev.GetResourceId()); err != nil {
						return err
					}
				}
			case "resource.upserted":
				var ev resourcev1.ResourceUpserted
				if err := m.Envelope.GetPayload().UnmarshalTo(&ev); err != nil {
					return err
				}
				if err := store.SetRole(ctx, tx, ev.GetResource().GetResourceId(), ev.GetResource().GetRole()); err != nil {
					return err
				}
			}
		}
		return nil
	}
}
