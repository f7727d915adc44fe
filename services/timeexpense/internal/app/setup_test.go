package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pgtest"
	"github.com/accrue/accrue/services/timeexpense/internal/app"
	"github.com/accrue/accrue/services/timeexpense/internal/store"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
)

const (
	legalEntity = "01a2210c-0000-7000-8000-0000000000d1"
	projects    = 10
	tasks       = 5
	resources   = 200
)

func projectID(p int) string   { return fmt.Sprintf("01a2210c-0000-7000-8001-%012d", p) }
func taskID(p, k int) string   { return fmt.Sprintf("01a2210c-0000-7000-8002-%06d%06d", p, k) }
func resourceID(r int) string  { return fmt.Sprintf("01a2210c-0000-7000-8003-%012d", r) }
func workDay(n int) civil.Date { return civil.Date{Year: 2026, Month: time.January, Day: 1}.AddDays(n) }

// env is the use cases over a fresh database, and that database.
type env struct {
	uc *app.Service
	st *store.Store
	db *pgtest.DB
}

// setup returns the use cases over a fresh database whose replica holds active projects of a
// legal entity that rejects entries in closed periods (none closed). Task 0 of each project is
// not billable.
func setup(tb testing.TB) env {
	db := pgtest.New(tb, store.Migrations())
	st := store.New(db.Pool, outbox.Writer{Producer: "timeexpense"}, exceptions.NewQueue(db.Pool, slog.New(slog.NewTextHandler(io.Discard, nil))))
	e := env{uc: app.New(st), st: st, db: db}
	ctx := context.Background()
	if _, err := e.uc.ApplyLedger(ctx, app.LedgerChanges{LegalEntities: []te.LegalEntity{{ID: legalEntity, Policy: te.PolicyReject, Version: 1}}}); err != nil {
		tb.Fatal(err)
	}
	list := make([]te.Project, projects)
	for p := range list {
		list[p] = te.Project{ID: projectID(p), Status: te.ProjectActive, LegalEntityID: legalEntity, Currency: "USD", Tasks: map[string]bool{}, Version: 1}
		for k := range tasks {
			list[p].Tasks[taskID(p, k)] = k != 0
		}
	}
	if err := e.uc.ApplyProjects(ctx, list); err != nil {
		tb.Fatal(err)
	}
	known := map[string]int64{resourceID(999): 1}
	for r := range resources {
		known[resourceID(r)] = 1
	}
	if err := e.uc.ApplyResources(ctx, known); err != nil {
		tb.Fatal(err)
	}
	return e
}

// start is setup for a parallel test, with its context.
func start(t *testing.T) (env, context.Context) {
	t.Parallel()
	return setup(t), context.Background()
}

// wantEntries fails t unless n entries are stored.
func (e env) wantEntries(t *testing.T, n int) {
	t.Helper()
	if got := e.count(t, `SELECT count(*) FROM time_entries`); got != n {
		t.Fatalf("entries = %d, want %d", got, n)
	}
}

// spend is resource r's billable expense on project 0's task 1.
func spend(r int, d civil.Date, amount, currency string) te.Input {
	return te.Input{Kind: te.Expense, ResourceID: resourceID(r), ProjectID: projectID(0), TaskID: taskID(0, 1), Date: d,
		Amount: money.Amount{Value: decimal.RequireFromString(amount), Currency: currency}, Category: "TRAVEL", Billable: true,
		Description: "trip"}
}

// work is resource r's billable time on project p's task 1.
func work(r int, d civil.Date, hours string) te.Input {
	return te.Input{Kind: te.Time, ResourceID: resourceID(r), ProjectID: projectID(0), TaskID: taskID(0, 1), Date: d,
		Hours: decimal.RequireFromString(hours), Billable: true, Description: "build"}
}

// month returns n approved items of a month-end file: resource i%resources works 1.5 billable
// hours on day base+i/resources.
func month(prefix string, n, base int) []te.ImportItem {
	items := make([]te.ImportItem, n)
	for i := range items {
		p := i % projects
		items[i].Input = te.Input{Kind: te.Time, ResourceID: resourceID(i % resources), ProjectID: projectID(p), TaskID: taskID(p, 1+i%(tasks-1)),
			Date: workDay(base + i/resources), Hours: decimal.RequireFromString("1.5"), Billable: true, Description: "month-end",
			Ref: &te.ExternalRef{System: "harvest", ObjectType: "TimeEntry", ExternalID: fmt.Sprintf("%s-%d", prefix, i)}}
	}
	return items
}

func (e env) count(tb testing.TB, sql string, args ...any) int {
	tb.Helper()
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// published decodes the payloads of the outbox events of type typ, in insertion order.
func published[M proto.Message](tb testing.TB, e env, typ string, newM func() M) []M {
	tb.Helper()
	rows, err := e.db.Pool.Query(context.Background(), `SELECT envelope FROM outbox WHERE event_type = $1 ORDER BY id`, typ)
	if err != nil {
		tb.Fatal(err)
	}
	raws, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]M, 0, len(raws))
	for _, raw := range raws {
		var env commonv1.EventEnvelope
		if err := proto.Unmarshal(raw, &env); err != nil {
			tb.Fatal(err)
		}
		m := newM()
		if err := env.GetPayload().UnmarshalTo(m); err != nil {
			tb.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}
