package early

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/accrue/accrue/internal/platform/fault"
)

func v7At(t *testing.T, at time.Time) string {
	t.Helper()
	u := uuid.Must(uuid.NewV7())
	ms := uint64(at.UnixMilli())
	for i := 0; i < 6; i++ {
		u[i] = byte(ms >> (40 - 8*i))
	}
	return u.String()
}

func TestUnknownIsEarlyWithinTheWindowThenWrong(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	notFound := fault.New(fault.FailedPrecondition, "PROJECT_NOT_FOUND", "project x is unknown").At("entry.project_id")
	cases := []struct {
		name, id string
		early    bool
	}{
		{"minted a moment ago", v7At(t, now.Add(-500*time.Millisecond)), true},
		{"minted at the window's edge", v7At(t, now.Add(-30*time.Second)), true},
		{"owner's clock ahead", v7At(t, now.Add(2*time.Second)), true},
		{"minted before the window", v7At(t, now.Add(-31*time.Second)), false},
		{"minted far in the future", v7At(t, now.Add(time.Hour)), false},
		{"a UUIDv4", uuid.NewString(), false},
		{"not a UUID", "abc", false},
	}
	for _, c := range cases {
		got := unknown(c.id, now, 30*time.Second, notFound)
		if !c.early {
			if got != notFound {
				t.Errorf("%s: %v, want the not-found error", c.name, got)
			}
			continue
		}
		if got.Kind != fault.Conflict || got.Reason != ReasonReferenceNotYetKnown || got.Metadata[RetryAfterKey] != "1" ||
			got.Metadata["not_found_reason"] != "PROJECT_NOT_FOUND" || len(got.Violations) != 1 || got.Violations[0].Field != "entry.project_id" {
			t.Errorf("%s: %+v, want Conflict / REFERENCE_NOT_YET_KNOWN naming entry.project_id", c.name, got)
		}
	}
	if got := unknown(v7At(t, now), now, 0, notFound); got != notFound {
		t.Errorf("window 0: %v, want the not-found error at once", got)
	}
}
