package civil_test

import (
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"testing"
	"time"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
)

func TestParse(t *testing.T) {
	t.Parallel()
	d, err := civil.Parse("2024-02-29")
	if err != nil || d != (civil.Date{Year: 2024, Month: time.February, Day: 29}) || d.String() != "2024-02-29" {
		t.Fatalf("Parse(2024-02-29) = %v, %v", d, err)
	}
	for _, bad := range []string{"2023-02-29", "2026-02-30", "2026-13-01", "2026-04-31", "26-01-01", "2026/01/01", "2026-1-1", "", "2026-01-01T00:00:00Z"} {
		if d, err := civil.Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", bad, d)
		}
	}
}

func TestValid(t *testing.T) {
	t.Parallel()
	cases := []struct {
		d    civil.Date
		want bool
	}{
		{civil.Date{Year: 2024, Month: 2, Day: 29}, true},  // leap year
		{civil.Date{Year: 2023, Month: 2, Day: 29}, false}, // not a leap year
		{civil.Date{Year: 1900, Month: 2, Day: 29}, false}, // century, not leap
		{civil.Date{Year: 2000, Month: 2, Day: 29}, true},  // 400-year leap
		{civil.Date{Year: 2026, Month: 4, Day: 31}, false},
		{civil.Date{Year: 2026, Month: 12, Day: 31}, true},
		{civil.Date{Year: 2026, Month: 0, Day: 1}, false},
		{civil.Date{Year: 2026, Month: 13, Day: 1}, false},
		{civil.Date{Year: 2026, Month: 1, Day: 0}, false},
		{civil.Date{}, false},
	}
	for _, tc := range cases {
		if got := tc.d.Valid(); got != tc.want {
			t.Errorf("%v.Valid() = %v, want %v", tc.d, got, tc.want)
		}
	}
}

func TestFromProto(t *testing.T) {
	t.Parallel()
	d, err := civilpb.From(&commonv1.Date{Year: 2026, Month: 3, Day: 31}, "work_date")
	if err != nil || d.String() != "2026-03-31" {
		t.Fatalf("FromProto = %v, %v", d, err)
	}
	if p := civilpb.To(d); p.GetYear() != 2026 || p.GetMonth() != 3 || p.GetDay() != 31 {
		t.Errorf("Proto = %v", p)
	}
	if d, err := civilpb.From(nil, "work_date"); err != nil || !d.IsZero() || civilpb.To(d) != nil {
		t.Errorf("FromProto(nil) = %v, %v", d, err)
	}
	for _, p := range []*commonv1.Date{{Year: 2026, Month: 2, Day: 30}, {Year: 2026, Month: 13, Day: 1}, {Year: 2026, Month: 1, Day: 0}} {
		_, err := civilpb.From(p, "entries[3].work_date")
		fe, ok := fault.As(err)
		if !ok || fe.Kind != fault.Invalid || fe.Reason != civil.ReasonInvalidDate || len(fe.Violations) != 1 || fe.Violations[0].Field != "entries[3].work_date" {
			t.Errorf("FromProto(%v) error = %#v, want INVALID_DATE on entries[3].work_date", p, err)
		}
	}
}

func TestArithmetic(t *testing.T) {
	t.Parallel()
	d := civil.Date{Year: 2024, Month: 2, Day: 28}
	if got := d.AddDays(1).String(); got != "2024-02-29" {
		t.Errorf("AddDays(1) = %s", got)
	}
	if got := d.AddDays(2).String(); got != "2024-03-01" {
		t.Errorf("AddDays(2) = %s", got)
	}
	if got := (civil.Date{Year: 2026, Month: 12, Day: 31}).AddDays(1).String(); got != "2027-01-01" {
		t.Errorf("year end + 1 = %s", got)
	}
	a, b := civil.Date{Year: 2026, Month: 3, Day: 1}, civil.Date{Year: 2026, Month: 3, Day: 31}
	if !a.Before(b) || a.After(b) || a.Compare(b) != -1 || b.Compare(a) != 1 || a.Compare(a) != 0 {
		t.Error("ordering is wrong")
	}
	if n := a.DaysUntil(b); n != 30 {
		t.Errorf("DaysUntil = %d, want 30", n)
	}
	if n := b.DaysUntil(a); n != -30 {
		t.Errorf("DaysUntil backwards = %d, want -30", n)
	}
	// Across the EU DST change (2026-03-29): civil days are not 23-hour days.
	if n := (civil.Date{Year: 2026, Month: 3, Day: 28}).DaysUntil(civil.Date{Year: 2026, Month: 3, Day: 30}); n != 2 {
		t.Errorf("DaysUntil across DST = %d, want 2", n)
	}
	// ISO weeks start on Monday; Sunday belongs to the week before.
	for in, want := range map[string]string{"2026-03-29": "2026-03-23", "2026-03-23": "2026-03-23", "2026-03-25": "2026-03-23", "2026-01-01": "2025-12-29"} {
		d, _ := civil.Parse(in)
		if got := d.StartOfISOWeek().String(); got != want {
			t.Errorf("StartOfISOWeek(%s) = %s, want %s", in, got, want)
		}
	}
	// Of takes the date in the instant's own location.
	tokyo := time.FixedZone("JST", 9*3600)
	if got := civil.Of(time.Date(2026, 3, 31, 23, 30, 0, 0, time.UTC).In(tokyo)).String(); got != "2026-04-01" {
		t.Errorf("Of(Tokyo) = %s, want 2026-04-01", got)
	}
}
