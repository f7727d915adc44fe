// Package app holds the billing service's use cases, one per file. Each runs in one transaction
// that writes the change, its event (outbox) and its audit record together.
package app

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/accrue/accrue/internal/platform/outbox"
)

// Service runs the billing use cases.
type Service struct {
	pool   *pgxpool.Pool
	outbox outbox.Writer
	now    func() time.Time
}

// New returns the use cases over pool, publishing through ob.
func New(pool *pgxpool.Pool, ob outbox.Writer) *Service {
	if pool == nil || ob.Producer == "" {
		panic("app: New needs a pool and an outbox writer")
	}
	return &Service{pool: pool, outbox: ob, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}
