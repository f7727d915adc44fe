package app_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pgstore"
	"github.com/accrue/accrue/internal/platform/pgtest"
	"github.com/accrue/accrue/services/resource/internal/app"
	"github.com/accrue/accrue/services/resource/internal/resource"
	"github.com/accrue/accrue/services/resource/internal/store"
)

const (
	projectID = "01a2210c-0000-7000-8000-00000000000a"
	taskID    = "01a2210c-0000-7000-8000-00000000000b" // billable
	otherTask = "01a2210c-0000-7000-8000-00000000000c" // not billable
)

// env is the use cases over a fresh database whose project replica holds one active project
// running through 2026.
type env struct {
	t  *testing.T
	uc *app.Service
	db *pgtest.DB
}

func setup(t *testing.T, overbooking string) *env {
	t.Parallel()
	db := pgtest.New(t, store.Migrations())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st := store.New(pgstore.New(db.Pool, outbox.Writer{Producer: "resource"}, exceptions.NewQueue(db.Pool, log)))
	e := &env{t: t, uc: app.New(app.Deps{Store: st, Log: log, Overbooking: overbooking}), db: db}
	e.project(resource.ProjectView{ID: projectID, Status: "ACTIVE", Start: day(1, 1), End: day(12, 31), Version: 1,
		Tasks: map[string]bool{taskID: true, otherTask: false}})
	return e
}

func day(month time.Month, d int) civil.Date { return civil.Date{Year: 2026, Month: month, Day: d} }

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func usd(s string) money.Amount { return money.Amount{Value: dec(s), Currency: "USD"} }

func (e *env) project(v resource.ProjectView) {
	e.t.Helper()
	if err := e.uc.ReplicateProject(context.Background(), v); err != nil {
		e.t.Fatal(err)
	}
}

func person(name, workerID string) resource.Input {
	return resource.Input{Details: resource.Details{Kind: resource.Employee, Name: name, Email: name + "@example.com",
		HomeLegalEntity: "US01", Role: "Engineer", Active: true},
		Refs: []resource.ExternalRef{{System: "workday", ObjectType: resource.WorkerObjectType, ExternalID: workerID}}}
}

// resource creates a resource of 40 hours a week.
func (e *env) resource(name string) resource.Resource {
	e.t.Helper()
	r, _, err := e.uc.UpsertResource(context.Background(), person(name, "W-"+name))
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) rate(resourceID, amount string, from, to civil.Date) resource.Timeline {
	e.t.Helper()
	t, _, err := e.uc.SetCostRate(context.Background(), resourceID, resource.Rate{Rate: usd(amount), From: from, To: to, Reason: "test"})
	if err != nil {
		e.t.Fatal(err)
	}
	return t
}

// weekly is an assignment of hours a week on the billable task over [from, to].
func weekly(resourceID string, from, to civil.Date, hours string) resource.Assignment {
	h := dec(hours)
	return resource.Assignment{ResourceID: resourceID, ProjectID: projectID, TaskID: taskID, Start: from, End: to,
		HoursPerWeek: &h, Status: resource.Confirmed}
}

func (e *env) assign(a resource.Assignment) (resource.Assignment, []string) {
	e.t.Helper()
	out, warnings, err := e.uc.SaveAssignment(context.Background(), "", 0, a)
	if err != nil {
		e.t.Fatal(err)
	}
	return out, warnings
}

func (e *env) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) events(typ string) int {
	e.t.Helper()
	return e.count(`SELECT count(*) FROM outbox WHERE event_type = $1`, typ)
}

func wantReason(t *testing.T, err error, reason string) {
	t.Helper()
	if fault.ReasonOf(err) != reason {
		t.Fatalf("got %v, want reason %s", err, reason)
	}
}

func wantAmount(t *testing.T, what string, got *money.Amount, want string) {
	t.Helper()
	if got == nil || !got.Equal(usd(want)) {
		t.Fatalf("%s = %v, want %s USD", what, got, want)
	}
}
