package grpcapi_test

import (
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/early"
	"github.com/accrue/accrue/internal/platform/grpcx"
)

// TestUnknownReferencesNameTheFieldAndWriteNothing: a resource or project the service does not
// know is refused with the field named: for good (RESOURCE_NOT_FOUND, PROJECT_NOT_FOUND) when its
// id was minted long ago, as REFERENCE_NOT_YET_KNOWN (ABORTED, retry after 1 s) when it was minted
// a moment ago and may still be on its way here. Nothing is written either way.
func TestUnknownReferencesNameTheFieldAndWriteNothing(t *testing.T) {
	f := start(t)
	ctx := f.Ctx(writer)
	jun := day(2026, 6, 10)
	const oldResource = "01a2210c-0000-7000-8000-0000000000ee" // minted 2026-11-28, never seen
	fresh := uuid.Must(uuid.NewV7()).String()
	with := func(resource, project string) *timeexpensev1.TimeEntryInput {
		in := timeIn(resource, jun, "8")
		in.ProjectId = project
		return in
	}
	for _, tc := range []struct {
		name, field string
		in          *timeexpensev1.TimeEntryInput
		code        codes.Code
		reason      string
	}{
		{"resource no one has", "entry.resource_id", with(oldResource, project), codes.FailedPrecondition, "RESOURCE_NOT_FOUND"},
		{"resource created a moment ago", "entry.resource_id", with(fresh, project), codes.Aborted, early.ReasonReferenceNotYetKnown},
		{"project no one has", "entry.project_id", with(alice, unknownPrj), codes.FailedPrecondition, "PROJECT_NOT_FOUND"},
		{"project created a moment ago", "entry.project_id", with(alice, fresh), codes.Aborted, early.ReasonReferenceNotYetKnown},
	} {
		_, err := f.c.RecordTimeEntry(ctx, &timeexpensev1.RecordTimeEntryRequest{Entry: tc.in})
		wantErr(t, err, tc.code, tc.reason)
		d := grpcx.DetailsOf(status.Convert(err))
		if len(d.Violations) == 0 || d.Violations[0].Field != tc.field {
			t.Errorf("%s: violations %+v, want %s named", tc.name, d.Violations, tc.field)
		}
		if tc.code == codes.Aborted && d.Metadata[early.RetryAfterKey] != "1" {
			t.Errorf("%s: metadata %v, want %s=1", tc.name, d.Metadata, early.RetryAfterKey)
		}
	}
	_, err := f.c.RecordExpense(ctx, &timeexpensev1.RecordExpenseRequest{Expense: expenseIn(oldResource, jun, "10.00", "USD")})
	wantErr(t, err, codes.FailedPrecondition, "RESOURCE_NOT_FOUND")
	if d := grpcx.DetailsOf(status.Convert(err)); len(d.Violations) == 0 || d.Violations[0].Field != "expense.resource_id" {
		t.Errorf("expense of an unknown resource: violations %+v, want expense.resource_id", d.Violations)
	}
	for _, table := range []string{"time_entries", "timesheets", "outbox", "audit_log"} {
		if n := f.Count(table); n != 0 {
			t.Fatalf("refused entries wrote %d rows into %s", n, table)
		}
	}
}
