package events_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/internal/platform/streamtest"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
)

// The fixture's project and resources (see billingtest).
const (
	projectID = billingtest.Project
	taskBill  = billingtest.TaskBill
	taskPM    = billingtest.TaskPM
	consult   = billingtest.Consult   // cost 20.00/h, bill 50.00
	architect = billingtest.Architect // cost 70.00/h, bill 90.00
	newcomer  = billingtest.Newcomer  // no cost rate yet
)

// setup makes a billing database with a USD legal entity (policy given), a contract with a T&M
// line (rates 50.00 consultant, 90.00 architect, expense markup 10 %), a project on it with a
// billable and a non-billable task, and cost rates for the resources.
func setup(t *testing.T, policy legalentity.ClosedPeriodPolicy) *billingtest.Env {
	t.Helper()
	f := billingtest.New(t, policy)
	f.WithProject(f.Terms(billingtest.StandardCard()...))
	return f
}

func entry(id, resource, task, date, hours string, billable bool) *timeexpensev1.TimeEntry {
	return &timeexpensev1.TimeEntry{EntryId: id, Kind: timeexpensev1.EntryKind_ENTRY_KIND_TIME, ResourceId: resource, ProjectId: projectID,
		TaskId: task, WorkDate: civilpb.To(billingtest.Day(date)), Hours: hours, Billable: billable, Version: 1}
}

func envelope(t testing.TB, evType string, payload proto.Message) *commonv1.EventEnvelope {
	a, err := anypb.New(payload)
	if err != nil {
		t.Fatal(err)
	}
	return &commonv1.EventEnvelope{EventId: uuid.Must(uuid.NewV7()).String(), Type: evType, Payload: a}
}

// approved is the envelope of a time_entries.approved event of entries.
func approved(t testing.TB, entries ...*timeexpensev1.TimeEntry) *commonv1.EventEnvelope {
	return envelope(t, timeexpensev1.EventTypeTimeEntriesApproved, &timeexpensev1.EntriesApproved{Entries: entries})
}

// apply runs a handler on envelopes in one transaction, the way the consumer does.
func apply(t *testing.T, f *billingtest.Env, h stream.Handler, envs ...*commonv1.EventEnvelope) {
	t.Helper()
	if err := streamtest.Apply(context.Background(), f.DB.Pool, h, envs...); err != nil {
		t.Fatal(err)
	}
}

// account returns debits − credits of an account over every journal line, as text.
func account(f *billingtest.Env, code string) string {
	return billingtest.Scalar[string](f, `SELECT COALESCE(sum(debit) - sum(credit), 0)::numeric(18,2)::text FROM journal_lines WHERE account_code = $1`, code)
}
