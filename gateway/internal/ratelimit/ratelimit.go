// Package ratelimit keeps one token bucket per key (a client id, a webhook source): a key may
// make Rate requests per second on average and Burst at once. Buckets live in the process, so N
// gateway instances admit up to N times the rate. A Limiter is safe for concurrent use.
package ratelimit

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxIdleKeys is how many keys a Limiter holds before it forgets the ones whose bucket is full
// again (a full bucket behaves exactly like a new one, so forgetting it changes nothing).
const maxIdleKeys = 10000

// Limiter is a set of token buckets, one per key. The zero rate turns it off.
type Limiter struct {
	rate  rate.Limit
	burst int
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// New returns a limiter admitting perSecond requests per second with bursts of burst per key;
// perSecond <= 0 admits everything. A burst below 1 is 1.
func New(perSecond float64, burst int) *Limiter {
	if burst < 1 {
		burst = 1
	}
	l := &Limiter{rate: rate.Limit(perSecond), burst: burst, now: time.Now, buckets: map[string]*rate.Limiter{}}
	if perSecond <= 0 {
		l.rate = rate.Inf
	}
	return l
}

// WithClock sets the clock (tests).
func (l *Limiter) WithClock(now func() time.Time) *Limiter { l.now = now; return l }

// Enabled reports whether the limiter refuses anything at all.
func (l *Limiter) Enabled() bool { return l != nil && l.rate != rate.Inf }

// Allow takes one token from key's bucket. When the bucket is empty it takes nothing and
// returns false with how long until a token is available.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	if !l.Enabled() {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	b, found := l.buckets[key]
	if !found {
		if len(l.buckets) >= maxIdleKeys {
			l.forgetFull(now)
		}
		b = rate.NewLimiter(l.rate, l.burst)
		l.buckets[key] = b
	}
	l.mu.Unlock()
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// forgetFull drops the buckets that are full at now. Called with mu held.
func (l *Limiter) forgetFull(now time.Time) {
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, k)
		}
	}
}

// RetryAfterSeconds is the Retry-After value for a wait of d: whole seconds, at least 1.
func RetryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
