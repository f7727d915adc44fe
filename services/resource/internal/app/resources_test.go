package app_test

import (
	"context"
	"testing"

	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	"github.com/accrue/accrue/internal/platform/servicetest"
	"github.com/accrue/accrue/services/resource/internal/resource"
)

func TestUpsertResourceDefaultsTheCapacityAndVersionsChanges(t *testing.T) {
	e := setup(t, "")
	ctx := context.Background()
	in := person("ada", "W-1")
	r, out, err := e.uc.UpsertResource(ctx, in)
	if err != nil || out != resource.Created || r.Version != 1 || !r.WeeklyCapacity.Equal(dec("40")) {
		t.Fatalf("create: %+v %v %v (want 40 hours a week by default)", r, out, err)
	}
	if same, out, err := e.uc.UpsertResource(ctx, in); err != nil || out != resource.Unchanged || same.Version != 1 || same.ID != r.ID {
		t.Fatalf("the same input must change nothing: %+v %v %v", same, out, err)
	}
	in.WeeklyCapacity, in.CapacityGiven = dec("0"), true
	in.Refs = append(in.Refs, resource.ExternalRef{System: "jira", ObjectType: "User", ExternalID: "ada"})
	changed, out, err := e.uc.UpsertResource(ctx, in)
	if err != nil || out != resource.Updated || changed.Version != 2 || !changed.WeeklyCapacity.IsZero() || len(changed.Refs) != 2 {
		t.Fatalf("an explicit zero capacity and a new reference: %+v %v %v", changed, out, err)
	}
	got, err := e.uc.GetResource(ctx, r.ID)
	if err != nil || got.Version != 2 || len(got.Refs) != 2 {
		t.Fatalf("get: %+v %v", got, err)
	}
	if n := e.events(resourcev1.EventTypeResourceUpserted); n != 2 {
		t.Fatalf("resource.upserted events = %d, want 2", n)
	}
	_, err = e.uc.GetResource(ctx, "01a2210c-0000-7000-8000-000000000000")
	wantReason(t, err, "RESOURCE_NOT_FOUND")
}

func TestSyncWorkerAppliesNewerRecordsOnly(t *testing.T) {
	e := setup(t, "")
	ctx := context.Background()
	target := person("grace", "G-1")
	target.UtilizationTarget = dec("80")
	if _, _, err := e.uc.UpsertResource(ctx, target); err != nil {
		t.Fatal(err)
	}
	rate := usd("60.00")
	w := resource.Worker{System: "workday", WorkerID: "G-1", Version: 5, Input: person("grace", "G-1"),
		Rate: &resource.Rate{Rate: rate, From: day(1, 1)}}
	w.Input.Role = "Architect"
	r, out, changed, err := e.uc.SyncWorker(ctx, w)
	if err != nil || out != resource.Updated || !changed || r.Role != "Architect" || r.SourceVersion != 5 || !r.UtilizationTarget.Equal(dec("80")) {
		t.Fatalf("sync: %+v %v %v %v (the HCM does not own the utilization target)", r, out, changed, err)
	}
	rates, _, err := e.uc.CostRates(ctx, r.ID, false)
	if err != nil || len(rates) != 1 || rates[0].Reason != "workday record 5" || !rates[0].Rate.Equal(rate) {
		t.Fatalf("rates: %+v %v", rates, err)
	}
	// The same record again: nothing to change, the rate included.
	if _, out, changed, err := e.uc.SyncWorker(ctx, w); err != nil || out != resource.Unchanged || changed {
		t.Fatalf("same record: %v %v %v", out, changed, err)
	}
	stale := w
	stale.Version, stale.Input.Role = 4, "Intern"
	stale.Rate = &resource.Rate{Rate: usd("10.00"), From: day(1, 1)}
	r, out, changed, err = e.uc.SyncWorker(ctx, stale)
	if err != nil || out != resource.IgnoredStale || changed || r.Role != "Architect" {
		t.Fatalf("stale record: %+v %v %v %v", r, out, changed, err)
	}
	undated := w
	undated.Version, undated.Rate = 6, &resource.Rate{Rate: rate}
	_, _, _, err = e.uc.SyncWorker(ctx, undated)
	wantReason(t, err, "RATE_DATE_REQUIRED")
	if n := e.events(resourcev1.EventTypeCostRateChanged); n != 1 {
		t.Fatalf("cost_rate.changed events = %d, want 1", n)
	}
}

func TestSyncWorkerCreatesTheResourceOfANewWorker(t *testing.T) {
	e := setup(t, "")
	w := resource.Worker{System: "workday", WorkerID: "N-1", Version: 1, Input: person("new", "ignored")}
	r, out, changed, err := e.uc.SyncWorker(context.Background(), w)
	if err != nil || out != resource.Created || changed || len(r.Refs) != 1 || r.Refs[0] != w.Ref() || !r.WeeklyCapacity.Equal(dec("40")) {
		t.Fatalf("new worker: %+v %v %v %v", r, out, changed, err)
	}
}

func TestListResourcesPagesInIDOrder(t *testing.T) {
	e := setup(t, "")
	a, b, c := e.resource("a"), e.resource("b"), e.resource("c")
	page, err := e.uc.ListResources(context.Background(), a.ID, 10)
	if err != nil || len(page) != 2 || page[0].ID != b.ID || page[1].ID != c.ID {
		t.Fatalf("after the first: %+v %v", page, err)
	}
}

// Concurrent upserts of one new worker race on its reference; the losers read again and find
// the winner's resource.
func TestConcurrentUpsertsOfOneReferenceConverge(t *testing.T) {
	e := setup(t, "")
	outs := servicetest.Concurrently(t, 8, func(int) (resource.Outcome, error) {
		_, out, err := e.uc.UpsertResource(context.Background(), person("ada", "W-race"))
		return out, err
	})
	created := 0
	for _, o := range outs {
		if o == resource.Created {
			created++
		}
	}
	if created != 1 || e.count(`SELECT count(*) FROM resources`) != 1 {
		t.Fatalf("outcomes %v: want one created, one resource", outs)
	}
}
