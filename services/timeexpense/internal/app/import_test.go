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

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pg"
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

// setup returns the use cases over a fresh database whose replica holds active projects of a
// legal entity that rejects entries in closed periods (none closed).
func setup(tb testing.TB) (*app.Service, *pgtest.DB) {
	db := pgtest.New(tb, store.Migrations())
	ctx := context.Background()
	err := pg.InTx(ctx, db.Pool, func(ctx context.Context, tx pgx.Tx) error {
		if err := store.UpsertLegalEntity(ctx, tx, legalEntity, te.PolicyReject, 1); err != nil {
			return err
		}
		for p := range projects {
			pr := te.Project{ID: projectID(p), Status: te.ProjectActive, LegalEntityID: legalEntity, Currency: "USD", Tasks: map[string]bool{}}
			for k := range tasks {
				pr.Tasks[taskID(p, k)] = k != 0
			}
			if err := store.UpsertProject(ctx, tx, pr, 1); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	uc := app.New(app.Deps{Pool: db.Pool, Outbox: outbox.Writer{Producer: "timeexpense"}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return uc, db
}

// month returns n approved items of a month-end file: resource i%resources works 1.5 billable
// hours on day base+i/resources.
func month(prefix string, n, base int) []app.ImportItem {
	items := make([]app.ImportItem, n)
	for i := range items {
		p := i % projects
		items[i].Input = te.Input{Kind: te.Time, ResourceID: resourceID(i % resources), ProjectID: projectID(p), TaskID: taskID(p, 1+i%(tasks-1)),
			Date: workDay(base + i/resources), Hours: decimal.RequireFromString("1.5"), Billable: true, Description: "month-end",
			Ref: &te.ExternalRef{System: "harvest", ObjectType: "TimeEntry", ExternalID: fmt.Sprintf("%s-%d", prefix, i)}}
	}
	return items
}

func count(tb testing.TB, db *pgtest.DB, sql string) int {
	var n int
	if err := db.Pool.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// TestImportRetriesWhenAConcurrentWriterTookAReference holds a transaction that inserted one of
// the file's references (uncommitted) while the import runs: the import's COPY waits for it, fails
// on the unique index once it commits, and the second pass reports the item DUPLICATE.
func TestImportRetriesWhenAConcurrentWriterTookAReference(t *testing.T) {
	t.Parallel()
	uc, db := setup(t)
	ctx := context.Background()
	items := month("RACE", 50, 0)
	winner := te.NewApproved("01a2210c-0000-7000-8004-000000000001", items[7].Input, "", time.Now().UTC())
	other := items[9].Input
	other.ResourceID = resourceID(999) // same reference, other content
	loser := te.NewApproved("01a2210c-0000-7000-8004-000000000002", other, "", time.Now().UTC())

	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	for _, e := range []te.Entry{winner, loser} {
		if ok, err := store.InsertEntry(ctx, tx, e); err != nil || !ok {
			t.Fatalf("insert: %v %v", ok, err)
		}
	}
	done := make(chan app.ImportSummary, 1)
	errc := make(chan error, 1)
	go func() {
		sum, err := uc.Import(ctx, items)
		errc <- err
		done <- sum
	}()
	// Wait until the import is blocked on the uncommitted references, then commit them.
	deadline := time.Now().Add(10 * time.Second)
	for count(t, db, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the import never waited on the concurrent insert")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("import: %v", err)
	}
	sum := <-done
	if sum.Accepted != 48 || sum.Duplicates != 1 || sum.Rejected != 1 {
		t.Fatalf("accepted/duplicates/rejected = %d/%d/%d, want 48/1/1", sum.Accepted, sum.Duplicates, sum.Rejected)
	}
	if r := sum.Results[7]; r.Outcome != app.ImportDuplicate || r.EntryID != winner.ID {
		t.Fatalf("item 7: %+v", r)
	}
	if r := sum.Results[9]; r.Outcome != app.ImportRejected || r.Reason != "DUPLICATE_EXTERNAL_ID" {
		t.Fatalf("item 9: %+v", r)
	}
	if n := count(t, db, `SELECT count(*) FROM time_entries`); n != 50 {
		t.Fatalf("entries = %d, want 50", n)
	}
	if n := count(t, db, `SELECT count(*) FROM outbox`); n != 1 {
		t.Fatalf("events = %d, want 1", n)
	}
}

// BenchmarkImport imports month-end files of 5,000 approved entries (200 resources, 10 projects)
// into a real database and reports items per second.
func BenchmarkImport(b *testing.B) {
	uc, db := setup(b)
	const size = app.MaxImportItems
	ctx := context.Background()
	files := make([][]app.ImportItem, b.N)
	for n := range files {
		files[n] = month(fmt.Sprintf("B%d", n), size, n*(size/resources))
	}
	b.ResetTimer()
	start := time.Now()
	for n := 0; n < b.N; n++ {
		sum, err := uc.Import(ctx, files[n])
		if err != nil {
			b.Fatal(err)
		}
		if sum.Accepted != size {
			b.Fatalf("accepted %d of %d (first rejection: %+v)", sum.Accepted, size, firstRejected(sum))
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(size*b.N)/elapsed.Seconds(), "items/s")
	if n := count(b, db, `SELECT count(*) FROM outbox`); n != b.N*5 {
		b.Fatalf("events = %d, want %d", n, b.N*5)
	}
}

func firstRejected(s app.ImportSummary) app.ImportResult {
	for _, r := range s.Results {
		if r.Outcome == app.ImportRejected {
			return r
		}
	}
	return app.ImportResult{}
}
