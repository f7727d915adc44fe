// Package app holds the billing service's use cases, one per file. Each runs in one transaction
// that writes the change, its event (outbox) and its audit record together.
package app

import (
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/outbox"
)

// Service runs the billing use cases.
type Service struct {
	pool   *pgxpool.Pool
	outbox outbox.Writer
	queue  *exceptions.Queue
	log    *slog.Logger
	now    func() time.Time
}

// New returns the use cases over pool, publishing through ob, and registers the retry of parked
// postings with queue.
func New(pool *pgxpool.Pool, ob outbox.Writer, queue *exceptions.Queue, log *slog.Logger) *Service {
	if pool == nil || ob.Producer == "" || queue == nil || log == nil {
		panic("app: New needs a pool, an outbox writer, an exception queue and a logger")
	}
	s := &Service{pool: pool, outbox: ob, queue: queue, log: log,
		now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
	queue.Handle(KindParked, s.retryParked)
	return s
}
