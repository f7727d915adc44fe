package subscription

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// DefaultSchedule is the wait before each retry: about 16 hours in all, then dead-lettered.
var DefaultSchedule = Schedule{30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour,
	2 * time.Hour, 4 * time.Hour, 8 * time.Hour}

// Schedule lists the waits before each retry of a delivery: attempt n+1 follows a failed
// attempt n after Schedule[n-1], jittered; after len(Schedule)+1 failed attempts the delivery is
// dead.
type Schedule []time.Duration

// ParseSchedule reads a comma-separated list of Go durations ("30s,2m,10m").
func ParseSchedule(s string) (Schedule, error) {
	var out Schedule
	for _, p := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(p))
		if err != nil || d < 0 {
			return nil, fmt.Errorf("retry schedule %q: %q is not a duration", s, p)
		}
		out = append(out, d)
	}
	return out, nil
}

// Next returns the wait after failed attempt n (1-based), jittered to between 80% and 120%,
// and false when n was the last attempt.
func (s Schedule) Next(n int) (time.Duration, bool) {
	if n < 1 || n > len(s) {
		return 0, false
	}
	d := s[n-1]
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64())), true //nolint:gosec // jitter, not a secret
}
