package app_test

import (
	"context"
	"testing"

	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/streamtest"
	"github.com/accrue/accrue/services/resource/internal/resource"
)

// assignment.costed follows the planned cost: once when an assignment is first costed, again
// when a new cost rate re-costs it (with the cost it had before), each about the assignment and
// carrying its project and legal entity; a change that moves neither hours nor cost is silent.
func TestAssignmentCostedFollowsThePlannedCost(t *testing.T) {
	e := setup(t, "")
	ctx := context.Background()
	const le = "01a2210c-0000-7000-8000-0000000000e1"
	e.project(resource.ProjectView{ID: projectID, Status: "ACTIVE", Start: day(1, 1), End: day(12, 31), Version: 2, LegalEntityID: le,
		Tasks: map[string]bool{taskID: true, otherTask: false}})
	r := e.resource("edsger")
	e.rate(r.ID, "60.00", day(1, 1), civil.Date{})
	a, _ := e.assign(weekly(r.ID, day(6, 8), day(6, 19), "40")) // 80h × 60 = 4,800.00
	if _, _, err := e.uc.SetCostRate(ctx, r.ID, resource.Rate{Rate: usd("66.00"), From: day(6, 16), Reason: "raise"}); err != nil {
		t.Fatal(err) // 48h × 60 + 32h × 66 = 4,992.00
	}
	// Same hours and cost, another status: assignment.changed only.
	same := a
	same.Status = resource.Tentative
	if _, _, err := e.uc.SaveAssignment(ctx, a.ID, 2, same); err != nil {
		t.Fatal(err)
	}
	msgs, err := streamtest.Published(ctx, e.db.Pool, resourcev1.EventTypeAssignmentCosted)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 {
		t.Fatalf("%d assignment.costed events, want 2 (costed, re-costed)", len(msgs))
	}
	want := []struct{ cost, previous string }{{"4800.00", ""}, {"4992.00", "4800.00"}}
	for i, m := range msgs {
		ev := m.Payload.(*resourcev1.AssignmentCosted)
		ids := ev.GetCrossIds()
		if m.Envelope.GetSubject() != a.ID || ev.GetAssignment().GetPlannedCost().GetAmount() != want[i].cost ||
			ev.GetPreviousPlannedCost().GetAmount() != want[i].previous || ids.GetProjectId() != projectID || ids.GetLegalEntityId() != le {
			t.Errorf("event %d: subject %s, cost %s (before %q), cross ids %v; want %s, %s (before %q), project %s, legal entity %s",
				i, m.Envelope.GetSubject(), ev.GetAssignment().GetPlannedCost().GetAmount(), ev.GetPreviousPlannedCost().GetAmount(), ids,
				a.ID, want[i].cost, want[i].previous, projectID, le)
		}
	}
	if n := e.events(resourcev1.EventTypeAssignmentChanged); n != 3 {
		t.Fatalf("%d assignment.changed events, want 3", n)
	}
}
