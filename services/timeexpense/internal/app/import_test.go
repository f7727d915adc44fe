package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/timeexpense/internal/app"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
)

// TestImportRetriesWhenAConcurrentWriterTookAReference holds a transaction that inserted one of
// the file's references (uncommitted) while the import runs: the import's COPY waits for it, fails
// on the unique index once it commits, and the second pass reports the item DUPLICATE.
func TestImportRetriesWhenAConcurrentWriterTookAReference(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	items := month("RACE", 50, 0)
	winner := te.NewApproved("01a2210c-0000-7000-8004-000000000001", items[7].Input, "", time.Now().UTC())
	other := items[9].Input
	other.ResourceID = resourceID(999) // same reference, other content
	loser := te.NewApproved("01a2210c-0000-7000-8004-000000000002", other, "", time.Now().UTC())

	tx, err := e.db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	for _, en := range []te.Entry{winner, loser} {
		if ok, err := e.st.InsertEntry(pg.WithTx(ctx, tx), en); err != nil || !ok {
			t.Fatalf("insert: %v %v", ok, err)
		}
	}
	done := make(chan te.ImportSummary, 1)
	errc := make(chan error, 1)
	go func() {
		sum, err := e.uc.Import(ctx, items)
		errc <- err
		done <- sum
	}()
	// Wait until the import is blocked on the uncommitted references, then commit them.
	deadline := time.Now().Add(10 * time.Second)
	for e.count(t, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`) == 0 {
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
	if r := sum.Results[7]; r.Outcome != te.ImportDuplicate || r.EntryID != winner.ID {
		t.Fatalf("item 7: %+v", r)
	}
	if r := sum.Results[9]; r.Outcome != te.ImportRejected || r.Reason != "DUPLICATE_EXTERNAL_ID" {
		t.Fatalf("item 9: %+v", r)
	}
	if n := e.count(t, `SELECT count(*) FROM time_entries`); n != 50 {
		t.Fatalf("entries = %d, want 50", n)
	}
	if n := e.count(t, `SELECT count(*) FROM outbox`); n != 1 {
		t.Fatalf("events = %d, want 1", n)
	}
}

// BenchmarkImport imports month-end files of 5,000 approved entries (200 resources, 10 projects)
// into a real database and reports items per second.
func BenchmarkImport(b *testing.B) {
	e := setup(b)
	const size = app.MaxImportItems
	ctx := context.Background()
	files := make([][]te.ImportItem, b.N)
	for n := range files {
		files[n] = month(fmt.Sprintf("B%d", n), size, n*(size/resources))
	}
	b.ResetTimer()
	start := time.Now()
	for n := 0; n < b.N; n++ {
		sum, err := e.uc.Import(ctx, files[n])
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
	if n := e.count(b, `SELECT count(*) FROM outbox`); n != b.N*5 {
		b.Fatalf("events = %d, want %d", n, b.N*5)
	}
}

func firstRejected(s te.ImportSummary) te.ImportResult {
	for _, r := range s.Results {
		if r.Outcome == te.ImportRejected {
			return r
		}
	}
	return te.ImportResult{}
}
