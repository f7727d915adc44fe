package civil_test

import (
	"testing"
	"time"

	"github.com/accrue/accrue/internal/platform/civil"
)

// FuzzParse: whatever the text, Parse does not panic; an accepted date is a real calendar date
// that prints back as the same text (YYYY-MM-DD, nothing else accepted), and a day later and
// back is the same date.
//
//	go test -run='^$' -fuzz='^FuzzParse$' -fuzztime=15s ./internal/platform/civil/
func FuzzParse(f *testing.F) {
	for _, s := range []string{"2026-03-31", "2024-02-29", "2026-02-29", "2026-02-30", "0000-01-01", "9999-12-31",
		"2026-3-1", "2026-03-01T00:00:00Z", "20260301", "", "2026-13-01", "2026-00-10", "+2026-01-01", " 2026-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := civil.Parse(s)
		if err != nil {
			return
		}
		if !d.Valid() || d.String() != s {
			t.Fatalf("Parse(%q) = %v (valid %v), prints as %q", s, d, d.Valid(), d.String())
		}
		if back := d.AddDays(1).AddDays(-1); back != d || !d.Before(d.AddDays(1)) {
			t.Fatalf("%v + 1 day - 1 day = %v", d, back)
		}
		if d.Weekday() != d.Time().Weekday() || d.Time().Location() != time.UTC {
			t.Fatalf("%v: weekday or location wrong", d)
		}
	})
}
