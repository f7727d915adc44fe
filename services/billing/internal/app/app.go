package app

import (
	"log/slog"
	"time"

	"github.com/accrue/accrue/internal/platform/exceptions"
)

// Service runs the billing use cases.
type Service struct {
	store Store
	log   *slog.Logger
	now   func() time.Time
}

// Retries is where a use case registers the retry of the exceptions it records (an
// *exceptions.Queue).
type Retries interface {
	Handle(kind string, fn exceptions.RetryFunc)
}

// New returns the use cases over st and registers the retry of parked postings with retries.
func New(st Store, retries Retries, log *slog.Logger) *Service {
	if st == nil || retries == nil || log == nil {
		panic("app: New needs a store, an exception queue and a logger")
	}
	s := &Service{store: st, log: log, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
	retries.Handle(KindParked, s.RetryParked)
	retries.Handle(KindSupplierParked, s.RetrySupplierParked)
	return s
}
