// Package events holds the time & expense service's event consumers: the project replica (status,
// legal entity, tasks) fed by project events, and the ledger replica (closed-period policies,
// period statuses) and posting answers fed by billing events. Handlers run inside the consumer's
// batch transaction and are safe for concurrent use.
package events

import (
	"context"
	"fmt"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"strings"

	"github.com/google/uuid"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/services/timeexpense/internal/store"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
)

// Streams the service consumes.
const (
	ProjectStream = "project.events"
	BillingStream = "billing.events"
)

// Source types of the ledger's answers that are ours.
const (
	SourceTimeEntry = "time_entry"
	SourceExpense   = "expense"
)

// Projects keeps the project replica that entries are checked against. A project event older than
// the stored version changes nothing.
func Projects() stream.Handler {
	return func(ctx context.Context, msgs []stream.Message) error {
		tx, _ := pg.TxFrom(ctx) // TODO(house): store behind an interface
		for _, m := range msgs {
			// Every project event carries the project as it is after the change.
			ev, ok := stream.PayloadAs[interface{ GetProject() *projectv1.Project }](m)
			if !ok {
				continue
			}
			p := ev.GetProject()
			view, err := projectView(p)
			if err != nil {
				return fmt.Errorf("%s: %w", m.Envelope.GetEventId(), err)
			}
			if err := store.UpsertProject(ctx, tx, view, p.GetVersion()); err != nil {
				return err
			}
		}
		return nil
	}
}

func projectView(p *projectv1.Project) (te.Project, error) {
	v := te.Project{ID: strings.ToLower(p.GetProjectId()), Status: strings.TrimPrefix(p.GetStatus().String(), "PROJECT_STATUS_"),
		LegalEntityID: strings.ToLower(p.GetLegalEntityId()), Currency: p.GetCurrencyCode(), Tasks: map[string]bool{}}
	var err error
	if v.Start, err = civilpb.From(p.GetStartDate(), "start_date"); err != nil {
		return v, err
	}
	if v.End, err = civilpb.From(p.GetEndDate(), "end_date"); err != nil {
		return v, err
	}
	for _, t := range p.GetTasks() {
		v.Tasks[strings.ToLower(t.GetTaskId())] = t.GetBillable()
	}
	return v, nil
}

var policies = map[billingv1.ClosedPeriodPolicy]te.Policy{
	billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT:       te.PolicyReject,
	billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_ROLL_FORWARD: te.PolicyRollForward,
}

var outcomes = map[billingv1.PostingOutcome]te.PostingStatus{
	billingv1.PostingOutcome_POSTING_OUTCOME_POSTED:                 te.PostingPosted,
	billingv1.PostingOutcome_POSTING_OUTCOME_REJECTED_CLOSED_PERIOD: te.PostingRejectedClosedPeriod,
	billingv1.PostingOutcome_POSTING_OUTCOME_PARKED_RATE_MISSING:    te.PostingParkedRateMissing,
	billingv1.PostingOutcome_POSTING_OUTCOME_REVERSED:               te.PostingReversed,
}

// BillingTypes are the event types Billing applies (its consumer's stream.Config.Types).
var BillingTypes = []string{"legal_entity.upserted", "period.opened", "period.closed", "postings.recorded"}

// Billing keeps the ledger replica (legal entities' closed-period policies, period statuses, the
// latest change winning) and applies the ledger's posting answers to entries, all the answers of
// a batch in one statement.
func Billing() stream.Handler {
	return func(ctx context.Context, msgs []stream.Message) error {
		tx, _ := pg.TxFrom(ctx) // TODO(house): store behind an interface
		var answers []te.PostingAnswer
		for _, m := range msgs {
			env := m.Envelope
			switch env.GetType() {
			case "legal_entity.upserted":
				var ev billingv1.LegalEntityUpserted
				if err := env.GetPayload().UnmarshalTo(&ev); err != nil {
					return fmt.Errorf("%s: %w", env.GetEventId(), err)
				}
				le := ev.GetLegalEntity()
				if err := store.UpsertLegalEntity(ctx, tx, strings.ToLower(le.GetLegalEntityId()), policies[le.GetClosedPeriodPolicy()], le.GetVersion()); err != nil {
					return err
				}
			case "period.opened", "period.closed":
				var ev billingv1.PeriodChanged
				if err := env.GetPayload().UnmarshalTo(&ev); err != nil {
					return fmt.Errorf("%s: %w", env.GetEventId(), err)
				}
				p := ev.GetPeriod()
				status := strings.TrimPrefix(p.GetStatus().String(), "PERIOD_STATUS_")
				if status != "OPEN" && status != "CLOSED" {
					continue
				}
				// The period's change time orders the changes; the envelope's is the fallback.
				at := p.GetChangeTime()
				if at == nil {
					at = env.GetOccurredAt()
				}
				key := te.PeriodKey{LegalEntityID: strings.ToLower(p.GetLegalEntityId()), Period: p.GetPeriod()}
				if err := store.UpsertPeriod(ctx, tx, key, status, at.AsTime()); err != nil {
					return err
				}
			case "postings.recorded":
				var ev billingv1.PostingsRecorded
				if err := env.GetPayload().UnmarshalTo(&ev); err != nil {
					return fmt.Errorf("%s: %w", env.GetEventId(), err)
				}
				for _, r := range ev.GetResults() {
					status, ok := outcomes[r.GetOutcome()]
					if !ok || (r.GetSourceType() != SourceTimeEntry && r.GetSourceType() != SourceExpense) {
						continue
					}
					if _, err := uuid.Parse(r.GetSourceId()); err != nil {
						continue // not one of our ids
					}
					answers = append(answers, te.PostingAnswer{EntryID: strings.ToLower(r.GetSourceId()), Status: status, Reason: r.GetReason()})
				}
			}
		}
		_, err := store.ApplyPostings(ctx, tx, answers)
		return err
	}
}
