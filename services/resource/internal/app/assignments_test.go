package app_test

import (
	"context"
	"testing"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/services/resource/internal/app"
	"github.com/accrue/accrue/services/resource/internal/resource"
)

// Two weeks at 40 hours (8 a day) across a rate change: six days at 60, four at 66.
func TestAssignmentCostSplitsAcrossRatePeriods(t *testing.T) {
	e := setup(t, "")
	r := e.resource("ada")
	e.rate(r.ID, "60.00", day(1, 1), day(6, 15))
	e.rate(r.ID, "66.00", day(6, 16), civil.Date{})
	a, warnings := e.assign(weekly(r.ID, day(6, 8), day(6, 19), "40"))
	if !a.Plan.Hours.Equal(dec("80")) || len(a.Plan.Missing) != 0 || len(warnings) != 0 || a.Role != "Engineer" {
		t.Fatalf("plan: %+v %v", a.Plan, warnings)
	}
	wantAmount(t, "planned cost", a.Plan.Cost, "4992.00") // 48h × 60 + 32h × 66
	if len(a.Plan.Periods) != 1 || !a.Plan.Periods[0].Hours.Equal(dec("80")) {
		t.Fatalf("periods: %+v", a.Plan.Periods)
	}
	wantAmount(t, "June", a.Plan.Periods[0].Cost, "4992.00")
	got, err := e.uc.GetAssignment(context.Background(), a.ID)
	if err != nil || got.Version != 1 || !got.Plan.Equal(a.Plan) {
		t.Fatalf("stored plan: %+v %v", got.Plan, err)
	}
}

// Days without a rate leave the plan uncosted and open an exception; the rate arriving re-costs
// the assignment and resolves it.
func TestMissingRateIsFlaggedUntilARateArrives(t *testing.T) {
	e := setup(t, "")
	ctx := context.Background()
	r := e.resource("grace")
	e.rate(r.ID, "66.00", day(6, 16), civil.Date{})
	a, _ := e.assign(weekly(r.ID, day(6, 8), day(6, 19), "40"))
	if a.Plan.Cost != nil || len(a.Plan.Missing) != 6 || a.Plan.Missing[0] != day(6, 8) || a.Plan.Missing[5] != day(6, 15) {
		t.Fatalf("plan: %+v, want six days without a rate and no cost", a.Plan)
	}
	openExceptions := `SELECT count(*) FROM exceptions WHERE entity_id = $1 AND reason = 'RATE_MISSING_FOR_DATE' AND status = 'OPEN'`
	if n := e.count(openExceptions, a.ID); n != 1 {
		t.Fatalf("open exceptions = %d, want 1", n)
	}
	if n, err := e.uc.RateMissingCount(ctx); err != nil || n != 1 {
		t.Fatalf("KPI = %d (%v), want 1", n, err)
	}
	list, total, err := e.uc.ListAssignments(ctx, resource.AssignmentFilter{RateMissingOnly: true})
	if err != nil || total != 1 || len(list) != 1 || list[0].ID != a.ID {
		t.Fatalf("rate-missing list: %d %d %v", len(list), total, err)
	}
	wantReason(t, e.uc.RetryCosting(ctx, a.ID), resource.ReasonRateMissing)

	_, recosted, err := e.uc.SetCostRate(ctx, r.ID, resource.Rate{Rate: usd("60.00"), From: day(6, 1), To: day(6, 15)})
	if err != nil || recosted != 1 {
		t.Fatalf("set rate: recosted %d, %v", recosted, err)
	}
	got, err := e.uc.GetAssignment(ctx, a.ID)
	if err != nil || got.Version != 2 || len(got.Plan.Missing) != 0 {
		t.Fatalf("re-costed: %+v %v", got, err)
	}
	wantAmount(t, "re-costed plan", got.Plan.Cost, "4992.00")
	if n := e.count(openExceptions, a.ID); n != 0 {
		t.Fatalf("open exceptions = %d, want 0 (resolved)", n)
	}
	if n, err := e.uc.RateMissingCount(ctx); err != nil || n != 0 {
		t.Fatalf("KPI = %d (%v), want 0", n, err)
	}
	if err := e.uc.RetryCosting(ctx, a.ID); err != nil {
		t.Fatalf("retry once every day has a rate: %v", err)
	}
}

func TestOverbookingWarnsOrIsRefused(t *testing.T) {
	for _, policy := range []string{app.OverbookingWarn, app.OverbookingReject} {
		t.Run(policy, func(t *testing.T) {
			e := setup(t, policy)
			r := e.resource("alan")
			e.assign(weekly(r.ID, day(6, 8), day(6, 12), "40"))
			out, warnings, err := e.uc.SaveAssignment(context.Background(), "", 0, weekly(r.ID, day(6, 8), day(6, 19), "20"))
			if policy == app.OverbookingReject {
				wantReason(t, err, "RESOURCE_OVERBOOKED")
				if n := e.count(`SELECT count(*) FROM assignments`); n != 1 {
					t.Fatalf("assignments = %d, want 1 (the refused one is not stored)", n)
				}
				return
			}
			if err != nil || out.ID == "" || len(warnings) != 1 || warnings[0] != "OVERBOOKED: week of 2026-06-08 plans 60h for 40h capacity" {
				t.Fatalf("warn: %v %v", warnings, err)
			}
		})
	}
}

func TestAssignmentsAreCheckedAgainstTheProject(t *testing.T) {
	e := setup(t, "")
	ctx := context.Background()
	e.project(resource.ProjectView{ID: "01a2210c-0000-7000-8000-0000000000cd", Status: "CLOSED", Start: day(1, 1), End: day(12, 31), Version: 3})
	r := e.resource("edsger")
	cases := map[string]func(a *resource.Assignment){
		"PROJECT_NOT_FOUND":                func(a *resource.Assignment) { a.ProjectID = "01a2210c-0000-7000-8000-0000000000ee" },
		"PROJECT_CLOSED":                   func(a *resource.Assignment) { a.ProjectID = "01a2210c-0000-7000-8000-0000000000cd" },
		"TASK_NOT_IN_PROJECT":              func(a *resource.Assignment) { a.TaskID = "01a2210c-0000-7000-8000-0000000000ff" },
		"ASSIGNMENT_OUTSIDE_PROJECT_DATES": func(a *resource.Assignment) { a.End = civil.Date{Year: 2027, Month: 1, Day: 8} },
		"INVALID_PERIOD":                   func(a *resource.Assignment) { a.End = day(6, 1) },
	}
	for reason, change := range cases {
		a := weekly(r.ID, day(6, 8), day(6, 19), "40")
		change(&a)
		_, _, err := e.uc.SaveAssignment(ctx, "", 0, a)
		wantReason(t, err, reason)
	}
	if n := e.count(`SELECT count(*) FROM assignments`); n != 0 {
		t.Fatalf("refused assignments stored: %d", n)
	}
}

func TestUpdateAssignmentNeedsTheCurrentVersionAndTheSameResource(t *testing.T) {
	e := setup(t, "")
	ctx := context.Background()
	r, other := e.resource("ada"), e.resource("grace")
	a, _ := e.assign(weekly(r.ID, day(6, 8), day(6, 19), "40"))
	change := weekly(r.ID, day(6, 8), day(6, 12), "20")
	got, _, err := e.uc.SaveAssignment(ctx, a.ID, 1, change)
	if err != nil || got.Version != 2 || !got.Plan.Hours.Equal(dec("20")) {
		t.Fatalf("update: %+v %v", got, err)
	}
	_, _, err = e.uc.SaveAssignment(ctx, a.ID, 1, change)
	wantReason(t, err, "VERSION_CONFLICT")
	_, _, err = e.uc.SaveAssignment(ctx, a.ID, 2, weekly(other.ID, day(6, 8), day(6, 12), "20"))
	wantReason(t, err, "RESOURCE_CHANGE_NOT_ALLOWED")
	cancel := change
	cancel.Status = resource.Cancelled
	got, _, err = e.uc.SaveAssignment(ctx, a.ID, 2, cancel)
	if err != nil || got.Status != resource.Cancelled || !got.Plan.Hours.IsZero() || len(got.Segments) != 0 {
		t.Fatalf("cancel: %+v %v (a cancelled assignment plans nothing)", got, err)
	}

	inactive := person("gone", "W-gone")
	inactive.Active = false
	res, _, err := e.uc.UpsertResource(ctx, inactive)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = e.uc.SaveAssignment(ctx, "", 0, weekly(res.ID, day(6, 8), day(6, 12), "20"))
	wantReason(t, err, "RESOURCE_INACTIVE")
}
