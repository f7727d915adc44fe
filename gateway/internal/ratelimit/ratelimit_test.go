package ratelimit_test

import (
	"testing"
	"time"

	"github.com/accrue/accrue/gateway/internal/ratelimit"
)

func TestBucketPerKey(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	l := ratelimit.New(2, 3).WithClock(func() time.Time { return now })

	for i := range 3 {
		if ok, _ := l.Allow("crm"); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.Allow("crm")
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("4th request at once: allowed %v, wait %s; want refused, 500ms (2 per second)", ok, wait)
	}
	if got := ratelimit.RetryAfterSeconds(wait); got != 1 {
		t.Errorf("Retry-After of %s = %d, want 1", wait, got)
	}
	// A refusal takes no token: after the wait exactly one more request goes through.
	if ok, _ := l.Allow("tne"); !ok {
		t.Fatal("another key shares the first key's bucket")
	}
	now = now.Add(500 * time.Millisecond)
	if ok, _ := l.Allow("crm"); !ok {
		t.Fatal("refused after waiting the announced time")
	}
	if ok, _ := l.Allow("crm"); ok {
		t.Fatal("two requests admitted after half a second at 2 per second")
	}
}

func TestZeroRateAdmitsEverything(t *testing.T) {
	t.Parallel()
	l := ratelimit.New(0, 0)
	if l.Enabled() {
		t.Fatal("a zero rate is enabled")
	}
	for range 1000 {
		if ok, _ := l.Allow("x"); !ok {
			t.Fatal("a zero rate refused a request")
		}
	}
}
