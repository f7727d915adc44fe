// Package events holds the time & expense service's event consumers: the project replica (status,
// legal entity, tasks) fed by project events, and the ledger replica (closed-period policies,
// period statuses) and posting answers fed by billing events. Each handler translates a batch
// (wire) and hands it to one use case, inside the consumer's batch transaction; handlers are safe
// for concurrent use.
package events

import (
	"context"
	"fmt"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/services/timeexpense/internal/app"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
	"github.com/accrue/accrue/services/timeexpense/internal/wire"
)

// ProjectTypes are the event types Projects applies (its consumer's stream.Config.Types).
var ProjectTypes = projectv1.EventTypes

// Projects keeps the project replica that entries are checked against. A project event older than
// the stored version changes nothing.
func Projects(uc *app.Service) stream.Handler {
	if uc == nil {
		panic("events: Projects needs the use cases")
	}
	return func(ctx context.Context, msgs []stream.Message) error {
		projects := make([]te.Project, 0, len(msgs))
		for _, m := range msgs {
			// Every project event carries the project as it is after the change.
			ev, ok := stream.PayloadAs[interface{ GetProject() *projectv1.Project }](m)
			if !ok {
				return stream.Unroutable(m)
			}
			p, err := wire.Project(ev.GetProject())
			if err != nil {
				return fmt.Errorf("%s: %w", m.Envelope.GetEventId(), err)
			}
			projects = append(projects, p)
		}
		return uc.ApplyProjects(ctx, projects)
	}
}

// BillingTypes are the event types Billing applies (its consumer's stream.Config.Types).
var BillingTypes = []string{billingv1.EventTypeLegalEntityUpserted, billingv1.EventTypePeriodOpened,
	billingv1.EventTypePeriodClosed, billingv1.EventTypePostingsRecorded}

// Billing keeps the ledger replica (legal entities' closed-period policies, period statuses, the
// latest change winning) and applies the ledger's posting answers to entries, all the answers of
// a batch in one statement.
func Billing(uc *app.Service) stream.Handler {
	if uc == nil {
		panic("events: Billing needs the use cases")
	}
	return func(ctx context.Context, msgs []stream.Message) error {
		var c app.LedgerChanges
		for _, m := range msgs {
			switch p := m.Payload.(type) {
			case *billingv1.LegalEntityUpserted:
				c.LegalEntities = append(c.LegalEntities, wire.LegalEntity(p.GetLegalEntity()))
			case *billingv1.PeriodChanged:
				if period, ok := wire.Period(p.GetPeriod(), m.Envelope.GetOccurredAt()); ok {
					c.Periods = append(c.Periods, period)
				}
			case *billingv1.PostingsRecorded:
				c.Postings = append(c.Postings, wire.PostingAnswers(p)...)
			default:
				return stream.Unroutable(m)
			}
		}
		_, err := uc.ApplyLedger(ctx, c)
		return err
	}
}

// ResourceTypes are the event types Resources applies (its consumer's stream.Config.Types).
var ResourceTypes = []string{resourcev1.EventTypeResourceUpserted}

// Resources keeps the resource replica entries are checked against (only existence matters: an
// entry of a resource no one has is refused at once instead of waiting for a cost rate forever).
func Resources(uc *app.Service) stream.Handler {
	if uc == nil {
		panic("events: Resources needs the use cases")
	}
	return func(ctx context.Context, msgs []stream.Message) error {
		resources := make(map[string]int64, len(msgs))
		for _, m := range msgs {
			ev, ok := m.Payload.(*resourcev1.ResourceUpserted)
			if !ok {
				return stream.Unroutable(m)
			}
			id, v := wire.ID(ev.GetResource().GetResourceId()), ev.GetResource().GetVersion()
			if v > resources[id] {
				resources[id] = v
			}
		}
		return uc.ApplyResources(ctx, resources)
	}
}
