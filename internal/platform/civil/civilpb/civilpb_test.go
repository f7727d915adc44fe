package civilpb_test

import (
	"testing"
	"time"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"github.com/accrue/accrue/internal/platform/fault"
)

func TestDatesRoundTrip(t *testing.T) {
	t.Parallel()
	for _, d := range []civil.Date{{Year: 2026, Month: time.February, Day: 28}, {Year: 2024, Month: time.February, Day: 29}, {Year: 1999, Month: time.December, Day: 31}} {
		p := civilpb.To(d)
		if p.GetYear() != int32(d.Year) || p.GetMonth() != int32(d.Month) || p.GetDay() != int32(d.Day) {
			t.Errorf("To(%v) = %v", d, p)
		}
		back, err := civilpb.From(p, "work_date")
		if err != nil || back != d {
			t.Errorf("From(To(%v)) = %v, %v", d, back, err)
		}
	}
}

// The zero Date is "no date" both ways: an unset field reads as zero and zero is sent unset.
func TestNoDateIsNil(t *testing.T) {
	t.Parallel()
	if p := civilpb.To(civil.Date{}); p != nil {
		t.Fatalf("To(zero) = %v, want nil", p)
	}
	if d, err := civilpb.From(nil, "due_date"); err != nil || !d.IsZero() {
		t.Fatalf("From(nil) = %v, %v; want the zero date", d, err)
	}
}

func TestFromRefusesDatesNotOnTheCalendar(t *testing.T) {
	t.Parallel()
	for _, p := range []*commonv1.Date{
		{Year: 2026, Month: 2, Day: 29},
		{Year: 2026, Month: 13, Day: 1},
		{Year: 2026, Month: 4, Day: 31},
		{Year: 2026, Month: 1, Day: 0},
	} {
		_, err := civilpb.From(p, "period.start")
		f, ok := fault.As(err)
		if !ok || f.Reason != civil.ReasonInvalidDate || f.Kind != fault.Invalid || len(f.Violations) != 1 || f.Violations[0].Field != "period.start" {
			t.Errorf("From(%v) = %v; want an Invalid %s on period.start", p, err, civil.ReasonInvalidDate)
		}
	}
}
