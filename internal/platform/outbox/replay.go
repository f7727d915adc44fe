package outbox

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/pg"
)

// ReplayFilter selects published outbox events to re-drive. Zero fields do not filter.
type ReplayFilter struct {
	Since, Until  time.Time
	Type, Subject string
	// CorrelationID is read from the stored envelope (the outbox has no column for it), so a
	// search by correlation id alone examines at most ScanLimit rows per call.
	CorrelationID string
	EventIDs      []string
	// AfterID continues after the row with this outbox id (paging).
	AfterID int64
	// Limit is how many events to return; 100 when 0.
	Limit int
}

// ScanLimit bounds how many outbox rows one Find examines (matters only for filters applied to
// the envelope: the correlation id).
const ScanLimit = 20000

// Replayable is one published outbox event that a replay selected.
type Replayable struct {
	ID                                            int64
	EventID, Stream, Type, Subject, CorrelationID string
	CreatedAt                                     time.Time
	PublishedAt                                   time.Time
}

// Find returns up to f.Limit published events matching f, oldest first, and the outbox id to
// continue after (0 when nothing more matches). It writes nothing.
func Find(ctx context.Context, q pg.Querier, f ReplayFilter) ([]Replayable, int64, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	const chunk = 1000
	var out []Replayable
	after, scanned := f.AfterID, 0
	for {
		rows, err := q.Query(ctx, `SELECT id, event_id::text, stream, event_type, subject, created_at, published_at, envelope
			FROM outbox WHERE published_at IS NOT NULL AND id > $1
			  AND ($2::timestamptz IS NULL OR created_at >= $2) AND ($3::timestamptz IS NULL OR created_at < $3)
			  AND ($4 = '' OR event_type = $4) AND ($5 = '' OR subject = $5)
			  AND (cardinality($6::uuid[]) = 0 OR event_id = ANY($6))
			ORDER BY id LIMIT $7`, after, optTime(f.Since), optTime(f.Until), f.Type, f.Subject, uuidsOrEmpty(f.EventIDs), chunk)
		if err != nil {
			return nil, 0, fmt.Errorf("outbox: find: %w", err)
		}
		var n int
		var env []byte
		var r Replayable
		_, err = pgx.ForEachRow(rows, []any{&r.ID, &r.EventID, &r.Stream, &r.Type, &r.Subject, &r.CreatedAt, &r.PublishedAt, &env}, func() error {
			n++
			if len(out) > f.Limit {
				return nil // one beyond the page is known to exist; the rest is not needed
			}
			after = r.ID
			var e commonv1.EventEnvelope
			if err := proto.Unmarshal(env, &e); err != nil {
				return fmt.Errorf("outbox: event %s: envelope: %w", r.EventID, err)
			}
			if f.CorrelationID != "" && e.GetCorrelationId() != f.CorrelationID {
				return nil
			}
			r.CorrelationID = e.GetCorrelationId()
			out = append(out, r)
			return nil
		})
		if err != nil {
			return nil, 0, err
		}
		scanned += n
		switch {
		case len(out) > f.Limit:
			out = out[:f.Limit]
			return out, out[len(out)-1].ID, nil
		case n < chunk:
			return out, 0, nil
		case scanned >= ScanLimit:
			return out, after, nil // more rows to examine: the caller continues after them
		}
	}
}

// Redrive puts the published events with the given outbox ids back to publish: the relay XADDs
// their stored (signed) envelopes again, exactly as it published them the first time, and keeps
// its record of each stream's highest entry id exact. It wakes the relays and returns how many
// events it put back. Consumers skip the ones they already applied (inbox).
func Redrive(ctx context.Context, q pg.Querier, ids []int64) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	tag, err := q.Exec(ctx, `UPDATE outbox SET published_at = NULL, stream_ms = NULL, stream_seq = NULL
		WHERE id = ANY($1) AND published_at IS NOT NULL`, ids)
	if err != nil {
		return 0, fmt.Errorf("outbox: redrive: %w", err)
	}
	if _, err := q.Exec(ctx, `SELECT pg_notify('accrue_outbox', '')`); err != nil {
		return 0, fmt.Errorf("outbox: redrive: notify: %w", err)
	}
	return tag.RowsAffected(), nil
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func uuidsOrEmpty(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}
