package app

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// URLGuard checks a subscription's URL (egress.Guard).
type URLGuard interface {
	CheckURL(ctx context.Context, url string) error
}

// Service is the subscriptions' use cases.
type Service struct {
	st        Store
	guard     URLGuard
	knownType func(string) bool
	now       func() time.Time
	// DefaultOverlap is how long a rotated secret keeps signing when the request names no
	// overlap.
	DefaultOverlap time.Duration
}

// New returns the use cases over st; knownType says whether the event catalogue declares a type.
func New(st Store, guard URLGuard, knownType func(string) bool) *Service {
	if st == nil || guard == nil || knownType == nil {
		panic("app: New needs a store, a URL guard and the event catalogue")
	}
	return &Service{st: st, guard: guard, knownType: knownType, now: time.Now, DefaultOverlap: 24 * time.Hour}
}

func itoa(i int) string { return strconv.Itoa(i) }

func lower(s string) string { return strings.ToLower(s) }
