package wire

import (
	"strings"

	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"github.com/accrue/accrue/internal/platform/outbox"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
)

// MaxEntriesPerEvent bounds the entries one EntriesApproved carries.
const MaxEntriesPerEvent = 1000

// EntriesApproved is the event announcing approved entries: a timesheet's, a chunk of an import
// (at most MaxEntriesPerEvent), a replacement.
func EntriesApproved(subject string, entries []te.Entry) outbox.Event {
	return outbox.Event{Stream: timeexpensev1.EventStream, Type: timeexpensev1.EventTypeTimeEntriesApproved, Subject: subject,
		Payload: &timeexpensev1.EntriesApproved{Entries: Entries(entries)}}
}

// EntriesReversed is the event announcing the reversals of corrected entries.
func EntriesReversed(subject string, reversals []te.Entry) outbox.Event {
	return outbox.Event{Stream: timeexpensev1.EventStream, Type: timeexpensev1.EventTypeTimeEntriesReversed, Subject: subject,
		Payload: &timeexpensev1.EntriesReversed{Entries: Entries(reversals)}}
}

// Project converts the project a project event carries (as it is after the change).
func Project(p *projectv1.Project) (te.Project, error) {
	v := te.Project{ID: ID(p.GetProjectId()), Status: strings.TrimPrefix(p.GetStatus().String(), "PROJECT_STATUS_"),
		LegalEntityID: ID(p.GetLegalEntityId()), Currency: p.GetCurrencyCode(), Tasks: map[string]bool{}, Version: p.GetVersion()}
	var err error
	if v.Start, err = civilpb.From(p.GetStartDate(), "start_date"); err != nil {
		return v, err
	}
	if v.End, err = civilpb.From(p.GetEndDate(), "end_date"); err != nil {
		return v, err
	}
	for _, t := range p.GetTasks() {
		v.Tasks[ID(t.GetTaskId())] = t.GetBillable()
	}
	return v, nil
}

var policies = map[billingv1.ClosedPeriodPolicy]te.Policy{
	billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT:       te.PolicyReject,
	billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_ROLL_FORWARD: te.PolicyRollForward,
}

// LegalEntity converts a billing legal entity (its closed-period policy).
func LegalEntity(le *billingv1.LegalEntity) te.LegalEntity {
	return te.LegalEntity{ID: ID(le.GetLegalEntityId()), Policy: policies[le.GetClosedPeriodPolicy()], Version: le.GetVersion()}
}

// Period converts a billing period; false for a status other than open or closed. The period's
// change time orders the changes; occurred (the envelope's) is the fallback.
func Period(p *billingv1.Period, occurred *timestamppb.Timestamp) (te.Period, bool) {
	status := strings.TrimPrefix(p.GetStatus().String(), "PERIOD_STATUS_")
	if status != te.PeriodOpen && status != te.PeriodClosed {
		return te.Period{}, false
	}
	at := p.GetChangeTime()
	if at == nil {
		at = occurred
	}
	return te.Period{Key: te.PeriodKey{LegalEntityID: ID(p.GetLegalEntityId()), Period: p.GetPeriod()}, Status: status,
		ChangedAt: at.AsTime()}, true
}

// Source types of the ledger's answers that are ours.
const (
	SourceTimeEntry = "time_entry"
	SourceExpense   = "expense"
)

var outcomes = map[billingv1.PostingOutcome]te.PostingStatus{
	billingv1.PostingOutcome_POSTING_OUTCOME_POSTED:                 te.PostingPosted,
	billingv1.PostingOutcome_POSTING_OUTCOME_REJECTED_CLOSED_PERIOD: te.PostingRejectedClosedPeriod,
	billingv1.PostingOutcome_POSTING_OUTCOME_PARKED_RATE_MISSING:    te.PostingParkedRateMissing,
	billingv1.PostingOutcome_POSTING_OUTCOME_REVERSED:               te.PostingReversed,
}

// PostingAnswers returns the ledger's answers about our entries (time entries and expenses with
// an id of ours and an outcome we track), in order.
func PostingAnswers(ev *billingv1.PostingsRecorded) []te.PostingAnswer {
	var out []te.PostingAnswer
	for _, r := range ev.GetResults() {
		status, ok := outcomes[r.GetOutcome()]
		if !ok || (r.GetSourceType() != SourceTimeEntry && r.GetSourceType() != SourceExpense) {
			continue
		}
		if _, err := uuid.Parse(r.GetSourceId()); err != nil {
			continue // not one of our ids
		}
		out = append(out, te.PostingAnswer{EntryID: ID(r.GetSourceId()), Status: status, Reason: r.GetReason()})
	}
	return out
}
