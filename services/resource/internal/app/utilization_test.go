package app_test

import (
	"context"
	"testing"

	"github.com/accrue/accrue/services/resource/internal/resource"
)

func TestUtilizationPerMonth(t *testing.T) {
	e := setup(t, "")
	ctx := context.Background()
	r := e.resource("ada")
	e.assign(weekly(r.ID, day(6, 8), day(6, 19), "40")) // 80h, billable
	other := weekly(r.ID, day(6, 22), day(7, 3), "10")  // 20h: 14h in June, 6h in July, not billable
	other.TaskID = otherTask
	e.assign(other)
	err := e.uc.RecordPostedTime(ctx, []resource.PostedTime{
		{ResourceID: r.ID, Date: day(6, 10), Hours: dec("8"), Billable: dec("8")},
		{ResourceID: r.ID, Date: day(6, 10), Hours: dec("4"), Billable: dec("3")},
		{ResourceID: r.ID, Date: day(7, 1), Hours: dec("2"), Billable: dec("0")},
	})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := e.uc.Utilization(ctx, r.ID, day(6, 1), day(7, 15))
	if err != nil || len(ps) != 2 {
		t.Fatalf("periods %+v %v", ps, err)
	}
	june, july := ps[0], ps[1]
	if june.End != day(6, 30) || !june.Capacity.Equal(dec("176")) || !june.Planned.Equal(dec("94")) || !june.PlannedBill.Equal(dec("80")) ||
		!june.PlannedPercent.Equal(dec("45.45")) || !june.ActualBill.Equal(dec("11")) || !june.ActualPercent.Equal(dec("6.25")) {
		t.Fatalf("june: %+v", june)
	}
	// July 1..15: 11 working days.
	if july.Start != day(7, 1) || july.End != day(7, 15) || !july.Capacity.Equal(dec("88")) || !july.Planned.Equal(dec("6")) ||
		!july.PlannedBill.IsZero() || !july.ActualBill.IsZero() {
		t.Fatalf("july: %+v", july)
	}
}

func TestUtilizationPeriodIsAtMost800Days(t *testing.T) {
	e := setup(t, "")
	r := e.resource("ada")
	_, err := e.uc.Utilization(context.Background(), r.ID, day(1, 1), day(1, 1).AddDays(801))
	wantReason(t, err, "INVALID_PERIOD")
	_, err = e.uc.Utilization(context.Background(), r.ID, day(2, 1), day(1, 1))
	wantReason(t, err, "INVALID_PERIOD")
	if _, err := e.uc.Utilization(context.Background(), r.ID, day(1, 1), day(1, 1).AddDays(800)); err != nil {
		t.Fatalf("800 days: %v", err)
	}
}
