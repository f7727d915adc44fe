package app_test

import (
	"context"
	"testing"

	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/resource/internal/resource"
)

// period is the wanted shape of one rate period.
type period struct {
	rate     string
	from, to civil.Date
}

func wantTimeline(t *testing.T, got resource.Timeline, want ...period) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("timeline %+v, want %+v", got, want)
	}
	for i, w := range want {
		if !got[i].Rate.Equal(usd(w.rate)) || got[i].From != w.from || got[i].To != w.to {
			t.Fatalf("period %d: %s %s..%s, want %s %s..%s", i, got[i].Rate, got[i].From, got[i].To, w.rate, w.from, w.to)
		}
	}
}

// A rate set over part of a period never edits it: the period is superseded and the parts
// outside the new one keep their rate.
func TestOverlappingRateCutsThePeriodsItOverlaps(t *testing.T) {
	e := setup(t, "")
	ctx := context.Background()
	r := e.resource("ada")
	e.rate(r.ID, "60.00", day(1, 1), civil.Date{})
	got := e.rate(r.ID, "66.00", day(6, 16), day(6, 30))
	wantTimeline(t, got, period{"60.00", day(1, 1), day(6, 15)}, period{"66.00", day(6, 16), day(6, 30)}, period{"60.00", day(7, 1), civil.Date{}})
	cur, history, err := e.uc.CostRates(ctx, r.ID, true)
	if err != nil || len(cur) != 3 || len(history) != 1 || history[0].From != day(1, 1) || !history[0].To.IsZero() || history[0].SupersededAt.IsZero() {
		t.Fatalf("history: %+v %+v %v", cur, history, err)
	}
	// Setting what is in force already changes nothing.
	if _, n, err := e.uc.SetCostRate(ctx, r.ID, resource.Rate{Rate: usd("66.00"), From: day(6, 16), To: day(6, 30)}); err != nil || n != 0 {
		t.Fatalf("same rate: %v %v", n, err)
	}
	if n := e.events(resourcev1.EventTypeCostRateChanged); n != 2 {
		t.Fatalf("cost_rate.changed events = %d, want 2", n)
	}
}

func TestRefusedRatesChangeNothing(t *testing.T) {
	e := setup(t, "")
	ctx := context.Background()
	r := e.resource("ada")
	e.rate(r.ID, "60.00", day(1, 1), civil.Date{})
	_, _, err := e.uc.SetCostRate(ctx, r.ID, resource.Rate{Rate: money.Amount{Value: dec("55"), Currency: "EUR"}, From: day(3, 1)})
	wantReason(t, err, "CURRENCY_MISMATCH")
	_, _, err = e.uc.SetCostRate(ctx, r.ID, resource.Rate{Rate: usd("70.00"), From: day(3, 1), To: day(2, 1)})
	wantReason(t, err, "INVALID_PERIOD")
	_, _, err = e.uc.SetCostRate(ctx, "01a2210c-0000-7000-8000-000000000000", resource.Rate{Rate: usd("70.00"), From: day(3, 1)})
	wantReason(t, err, "RESOURCE_NOT_FOUND")
	cur, history, err := e.uc.CostRates(ctx, r.ID, true)
	if err != nil || len(history) != 0 {
		t.Fatalf("history %+v %v, want none", history, err)
	}
	wantTimeline(t, cur, period{"60.00", day(1, 1), civil.Date{}})
	if n := e.events(resourcev1.EventTypeCostRateChanged); n != 1 {
		t.Fatalf("cost_rate.changed events = %d, want 1", n)
	}
}
