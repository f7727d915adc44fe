package grpcapi_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/servicetest"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/internal/platform/streamtest"
	"github.com/accrue/accrue/services/timeexpense/internal/app"
	"github.com/accrue/accrue/services/timeexpense/internal/events"
	"github.com/accrue/accrue/services/timeexpense/internal/grpcapi"
	"github.com/accrue/accrue/services/timeexpense/internal/store"
)

var (
	writer   = []string{"time:read", "time:write"}
	approver = []string{"time:read", "time:write", "time:approve"}
)

// The replica every test starts with: an active project on a legal entity that rejects entries
// in closed periods, one on hold, and an active one on an entity that rolls them forward. May
// 2026 is closed for both entities.
const (
	alice      = "01a2210c-0000-7000-8000-00000000000a"
	bob        = "01a2210c-0000-7000-8000-00000000000b"
	project    = "01a2210c-0000-7000-8000-0000000000b1"
	heldProj   = "01a2210c-0000-7000-8000-0000000000b2"
	rollProj   = "01a2210c-0000-7000-8000-0000000000b3"
	unknownPrj = "01a2210c-0000-7000-8000-0000000000bf"
	billTask   = "01a2210c-0000-7000-8000-0000000000c1"
	freeTask   = "01a2210c-0000-7000-8000-0000000000c2"
	rollTask   = "01a2210c-0000-7000-8000-0000000000c3"
	heldTask   = "01a2210c-0000-7000-8000-0000000000c4"
	leReject   = "01a2210c-0000-7000-8000-0000000000d1"
	leRoll     = "01a2210c-0000-7000-8000-0000000000d2"
)

type fixture struct {
	*servicetest.Env
	c  timeexpensev1.TimeExpenseServiceClient
	uc *app.Service
}

// serve starts the service in-process over a fresh database, with an empty replica.
func serve(tb testing.TB) fixture {
	var uc *app.Service
	env := servicetest.New(tb, "timeexpense", store.Migrations(), func(e *servicetest.Env) {
		uc = app.New(store.New(e.DB.Pool, e.Outbox, e.Queue))
		timeexpensev1.RegisterTimeExpenseServiceServer(e.Server, grpcapi.New(uc))
	})
	return fixture{Env: env, c: timeexpensev1.NewTimeExpenseServiceClient(env.Conn), uc: uc}
}

func start(t *testing.T) fixture {
	t.Parallel()
	f := serve(t)
	f.seed(t)
	return f
}

func (f fixture) seed(t *testing.T) {
	t.Helper()
	proj := func(id, le string, st projectv1.ProjectStatus, tasks ...*projectv1.Task) *projectv1.Project {
		return &projectv1.Project{ProjectId: id, LegalEntityId: le, CurrencyCode: "USD", Status: st, Version: 3, Tasks: tasks,
			StartDate: day(2026, 1, 1), EndDate: day(2027, 12, 31)}
	}
	f.apply(t, events.Projects(f.uc),
		envelope(t, projectv1.EventTypeProjectActivated, &projectv1.ProjectActivated{Project: proj(project, leReject, projectv1.ProjectStatus_PROJECT_STATUS_ACTIVE,
			&projectv1.Task{TaskId: billTask, Billable: true}, &projectv1.Task{TaskId: freeTask, Billable: false})}),
		envelope(t, projectv1.EventTypeProjectStatusChanged, &projectv1.ProjectStatusChanged{Project: proj(heldProj, leReject, projectv1.ProjectStatus_PROJECT_STATUS_ON_HOLD,
			&projectv1.Task{TaskId: heldTask, Billable: true})}),
		envelope(t, projectv1.EventTypeProjectActivated, &projectv1.ProjectActivated{Project: proj(rollProj, leRoll, projectv1.ProjectStatus_PROJECT_STATUS_ACTIVE,
			&projectv1.Task{TaskId: rollTask, Billable: true})}),
	)
	f.apply(t, events.Resources(f.uc),
		envelope(t, resourcev1.EventTypeResourceUpserted, &resourcev1.ResourceUpserted{Resource: &resourcev1.Resource{ResourceId: alice, Version: 1}}),
		envelope(t, resourcev1.EventTypeResourceUpserted, &resourcev1.ResourceUpserted{Resource: &resourcev1.Resource{ResourceId: bob, Version: 2}}),
	)
	// The resources of the bulk tests: 01a2210c-0000-7000-8000-000000001000 and the 1,999 after it.
	bulk := map[string]int64{}
	for r := range 2000 {
		bulk[fmt.Sprintf("01a2210c-0000-7000-8000-%012d", 1000+r)] = 1
	}
	if err := f.uc.ApplyResources(context.Background(), bulk); err != nil {
		t.Fatal(err)
	}
	f.apply(t, events.Billing(f.uc),
		envelope(t, billingv1.EventTypeLegalEntityUpserted, &billingv1.LegalEntityUpserted{LegalEntity: &billingv1.LegalEntity{LegalEntityId: leReject, Version: 1,
			ClosedPeriodPolicy: billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT}}),
		envelope(t, billingv1.EventTypeLegalEntityUpserted, &billingv1.LegalEntityUpserted{LegalEntity: &billingv1.LegalEntity{LegalEntityId: leRoll, Version: 1,
			ClosedPeriodPolicy: billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_ROLL_FORWARD}}),
		periodEvent(t, leReject, "2026-05", billingv1.PeriodStatus_PERIOD_STATUS_CLOSED, time.Date(2026, 6, 3, 0, 0, 0, 0, time.UTC)),
		periodEvent(t, leRoll, "2026-05", billingv1.PeriodStatus_PERIOD_STATUS_CLOSED, time.Date(2026, 6, 3, 0, 0, 0, 0, time.UTC)),
	)
}

func periodEvent(t *testing.T, le, period string, st billingv1.PeriodStatus, at time.Time) *commonv1.EventEnvelope {
	typ := billingv1.EventTypePeriodOpened
	if st == billingv1.PeriodStatus_PERIOD_STATUS_CLOSED {
		typ = billingv1.EventTypePeriodClosed
	}
	return envelope(t, typ, &billingv1.PeriodChanged{Period: &billingv1.Period{LegalEntityId: le, Period: period, Status: st,
		ChangeTime: timestamppb.New(at)}})
}

func envelope(t testing.TB, typ string, payload proto.Message) *commonv1.EventEnvelope {
	a, err := anypb.New(payload)
	if err != nil {
		t.Fatal(err)
	}
	return &commonv1.EventEnvelope{EventId: uuid.Must(uuid.NewV7()).String(), Type: typ, Payload: a, OccurredAt: timestamppb.Now()}
}

// apply runs a consumer handler on envelopes in one transaction, as the consumer does.
func (f fixture) apply(t testing.TB, h stream.Handler, envs ...*commonv1.EventEnvelope) {
	t.Helper()
	if err := streamtest.Apply(context.Background(), f.DB.Pool, h, envs...); err != nil {
		t.Fatalf("apply: %v", err)
	}
}

func day(y, m, d int32) *commonv1.Date { return &commonv1.Date{Year: y, Month: m, Day: d} }

func wantErr(t *testing.T, err error, code codes.Code, reason string) {
	t.Helper()
	if status.Code(err) != code || grpcx.ReasonOf(err) != reason {
		t.Fatalf("got %v (reason %q), want %s / %s", err, grpcx.ReasonOf(err), code, reason)
	}
}

func timeIn(resource string, d *commonv1.Date, hours string) *timeexpensev1.TimeEntryInput {
	return &timeexpensev1.TimeEntryInput{ResourceId: resource, ProjectId: project, TaskId: billTask, WorkDate: d, Hours: hours,
		Billable: true, Description: "build"}
}

func expenseIn(resource string, d *commonv1.Date, amount, currency string) *timeexpensev1.ExpenseInput {
	return &timeexpensev1.ExpenseInput{ResourceId: resource, ProjectId: project, TaskId: billTask, ExpenseDate: d, Category: "TRAVEL",
		Amount: &commonv1.Money{Amount: amount, CurrencyCode: currency}, Billable: true, ReceiptReference: "R-1"}
}

func ref(id string) *commonv1.ExternalReference {
	return &commonv1.ExternalReference{System: "harvest", ObjectType: "TimeEntry", ExternalId: id}
}

func (f fixture) record(t *testing.T, in *timeexpensev1.TimeEntryInput) *timeexpensev1.TimeEntry {
	t.Helper()
	resp, err := f.c.RecordTimeEntry(f.Ctx(writer), &timeexpensev1.RecordTimeEntryRequest{Entry: in})
	if err != nil {
		t.Fatalf("record: %v", err)
	}
	return resp.GetEntry()
}

// outboxEvents decodes the payloads of the outbox events of type typ, in insertion order.
func outboxEvents[M proto.Message](t *testing.T, f fixture, typ string, newM func() M) []M {
	t.Helper()
	rows, err := f.DB.Pool.Query(context.Background(), `SELECT envelope FROM outbox WHERE event_type = $1 ORDER BY id`, typ)
	if err != nil {
		t.Fatal(err)
	}
	raws, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		t.Fatal(err)
	}
	var out []M
	for _, raw := range raws {
		var env commonv1.EventEnvelope
		if err := proto.Unmarshal(raw, &env); err != nil {
			t.Fatal(err)
		}
		m := newM()
		if err := env.GetPayload().UnmarshalTo(m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func approvedEvents(t *testing.T, f fixture) []*timeexpensev1.EntriesApproved {
	return outboxEvents(t, f, timeexpensev1.EventTypeTimeEntriesApproved, func() *timeexpensev1.EntriesApproved { return &timeexpensev1.EntriesApproved{} })
}
