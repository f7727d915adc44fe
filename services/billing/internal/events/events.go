// Package events holds the billing service's event consumers: approved time and expenses to post,
// and the replicas posting reads (projects and tasks, cost rates and roles). Each handler routes
// by payload type, translates with wire and calls use cases; an event it cannot route is
// dead-lettered (stream.Unroutable). Each exports the Types it applies, for its stream.Config.
package events

import (
	"context"
	"fmt"

	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// PostingTypes are the timeexpense events Postings applies.
var PostingTypes = []string{timeexpensev1.EventTypeTimeEntriesApproved, timeexpensev1.EventTypeTimeEntriesReversed}

// Postings posts the approved and reversed entries of a whole batch of events in one go (the
// batch's transaction).
func Postings(uc *app.Service) stream.Handler {
	return func(ctx context.Context, msgs []stream.Message) error {
		var sources []ledger.Source
		for _, m := range msgs {
			var entries []*timeexpensev1.TimeEntry
			switch p := m.Payload.(type) {
			case *timeexpensev1.EntriesApproved:
				entries = p.GetEntries()
			case *timeexpensev1.EntriesReversed:
				entries = p.GetEntries()
			default:
				return stream.Unroutable(m)
			}
			s, err := wire.Sources(entries)
			if err != nil {
				return fmt.Errorf("%s: %w", m.Envelope.GetEventId(), err)
			}
			sources = append(sources, s...)
		}
		_, err := uc.PostBatch(ctx, sources)
		return err
	}
}

// ProjectTypes are the project events Projects applies: every one carries the project as it is
// after the change (projectEvent).
var ProjectTypes = projectv1.EventTypes

// projectEvent is the family of project events (ProjectCreated, ProjectActivated,
// ProjectStatusChanged).
type projectEvent interface{ GetProject() *projectv1.Project }

// Projects keeps the project replica posting reads, and posts what waited for a project's
// contract once the project has one.
func Projects(uc *app.Service) stream.Handler {
	return func(ctx context.Context, msgs []stream.Message) error {
		for _, m := range msgs {
			switch ev := m.Payload.(type) {
			case projectEvent:
				proj, status, version := wire.Project(ev.GetProject())
				if err := uc.ApplyProject(ctx, proj, status, version); err != nil {
					return err
				}
			default:
				return stream.Unroutable(m)
			}
		}
		return nil
	}
}

// ResourceTypes are the resource events Resources applies.
var ResourceTypes = []string{resourcev1.EventTypeCostRateChanged, resourcev1.EventTypeResourceUpserted}

// Resources keeps the cost-rate and role replica and posts what waited for a resource's rate.
func Resources(uc *app.Service) stream.Handler {
	return func(ctx context.Context, msgs []stream.Message) error {
		for _, m := range msgs {
			switch ev := m.Payload.(type) {
			case *resourcev1.CostRateChanged:
				rates, err := wire.CostRates(ev)
				if err != nil {
					return err
				}
				if err := uc.ApplyCostRates(ctx, ev.GetResourceId(), ev.GetRole(), ev.GetRatesVersion(), rates); err != nil {
					return err
				}
			case *resourcev1.ResourceUpserted:
				if err := uc.SetRole(ctx, ev.GetResource().GetResourceId(), ev.GetResource().GetRole()); err != nil {
					return err
				}
			default:
				return stream.Unroutable(m)
			}
		}
		return nil
	}
}
