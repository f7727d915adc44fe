package events_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pgstore"
	"github.com/accrue/accrue/internal/platform/pgtest"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/internal/platform/streamtest"
	"github.com/accrue/accrue/services/resource/internal/app"
	"github.com/accrue/accrue/services/resource/internal/events"
	"github.com/accrue/accrue/services/resource/internal/store"
)

const (
	projectID  = "01a2210c-0000-7000-8000-00000000000a"
	taskID     = "01a2210c-0000-7000-8000-00000000000b"
	resourceID = "01a2210c-0000-7000-8000-00000000000c"
)

func setup(t *testing.T) (*app.Service, *pgtest.DB) {
	t.Parallel()
	db := pgtest.New(t, store.Migrations())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st := store.New(pgstore.New(db.Pool, outbox.Writer{Producer: "resource"}, exceptions.NewQueue(db.Pool, log)))
	return app.New(app.Deps{Store: st, Log: log}), db
}

func envelope(t *testing.T, typ string, payload proto.Message) *commonv1.EventEnvelope {
	t.Helper()
	p, err := anypb.New(payload)
	if err != nil {
		t.Fatal(err)
	}
	return &commonv1.EventEnvelope{EventId: typ, Type: typ, Payload: p}
}

func date(m, d int32) *commonv1.Date { return &commonv1.Date{Year: 2026, Month: m, Day: d} }

func project(status projectv1.ProjectStatus, version int64) *projectv1.Project {
	return &projectv1.Project{ProjectId: projectID, Status: status, Version: version, StartDate: date(1, 1), EndDate: date(12, 31),
		Tasks: []*projectv1.Task{{TaskId: taskID, Billable: true}}}
}

// The replica follows the newest version of a project, whatever order its events arrive in.
func TestProjectEventsKeepTheReplica(t *testing.T) {
	uc, db := setup(t)
	ctx := context.Background()
	err := streamtest.Apply(ctx, db.Pool, events.Projects(uc),
		envelope(t, projectv1.EventTypeProjectCreated, &projectv1.ProjectCreated{Project: project(projectv1.ProjectStatus_PROJECT_STATUS_DRAFT, 1)}),
		envelope(t, projectv1.EventTypeProjectStatusChanged, &projectv1.ProjectStatusChanged{Project: project(projectv1.ProjectStatus_PROJECT_STATUS_CLOSED, 3)}),
		envelope(t, projectv1.EventTypeProjectActivated, &projectv1.ProjectActivated{Project: project(projectv1.ProjectStatus_PROJECT_STATUS_ACTIVE, 2)}))
	if err != nil {
		t.Fatal(err)
	}
	var status string
	var version, tasks int
	if err := db.Pool.QueryRow(ctx, `SELECT status, version, (SELECT count(*) FROM project_tasks) FROM projects WHERE id = $1`, projectID).
		Scan(&status, &version, &tasks); err != nil {
		t.Fatal(err)
	}
	if status != "CLOSED" || version != 3 || tasks != 1 {
		t.Fatalf("replica: %s v%d, %d tasks; want CLOSED v3, 1 task", status, version, tasks)
	}
}

func result(source string, outcome billingv1.PostingOutcome, day int32, hours, billable string) *billingv1.PostingResult {
	return &billingv1.PostingResult{SourceType: source, Outcome: outcome, ResourceId: resourceID, SourceDate: date(6, day),
		Hours: hours, BillableHours: billable}
}

// Posted and reversed time entries count, per day; expenses and entries not posted do not.
func TestPostingEventsAddPostedHours(t *testing.T) {
	uc, db := setup(t)
	ctx := context.Background()
	posted, reversed := billingv1.PostingOutcome_POSTING_OUTCOME_POSTED, billingv1.PostingOutcome_POSTING_OUTCOME_REVERSED
	first := &billingv1.PostingsRecorded{Results: []*billingv1.PostingResult{
		result("time_entry", posted, 10, "8", "6"),
		result("time_entry", posted, 10, "2", ""),
		result("expense", posted, 10, "5", "5"),
		result("time_entry", billingv1.PostingOutcome_POSTING_OUTCOME_PARKED_RATE_MISSING, 11, "8", "8"),
	}}
	second := &billingv1.PostingsRecorded{Results: []*billingv1.PostingResult{result("time_entry", reversed, 10, "-2", "-1")}}
	err := streamtest.Apply(ctx, db.Pool, events.Postings(uc),
		envelope(t, billingv1.EventTypePostingsRecorded, first), envelope(t, billingv1.EventTypePostingsRecorded, second))
	if err != nil {
		t.Fatal(err)
	}
	var days int
	var total, billable string
	if err := db.Pool.QueryRow(ctx, `SELECT count(*), sum(total_hours)::text, sum(billable_hours)::text FROM time_actuals`).
		Scan(&days, &total, &billable); err != nil {
		t.Fatal(err)
	}
	if days != 1 || total != "8" || billable != "5" {
		t.Fatalf("time actuals: %d days, %s hours, %s billable; want 1 day, 8 hours, 5 billable", days, total, billable)
	}
}

// A payload a handler has no route for dead-letters the event (never a silent skip).
func TestUnroutablePayloadsAreRefused(t *testing.T) {
	uc, _ := setup(t)
	cases := []struct {
		name    string
		h       stream.Handler
		payload proto.Message
	}{
		{"projects", events.Projects(uc), &billingv1.PostingsRecorded{}},
		{"postings", events.Postings(uc), &projectv1.ProjectCreated{}},
	}
	for _, c := range cases {
		m := stream.Message{Envelope: &commonv1.EventEnvelope{EventId: "e1"}, Payload: c.payload}
		if err := c.h(context.Background(), []stream.Message{m}); fault.ReasonOf(err) != "EVENT_UNROUTABLE" {
			t.Errorf("%s: %v, want EVENT_UNROUTABLE", c.name, err)
		}
	}
}
