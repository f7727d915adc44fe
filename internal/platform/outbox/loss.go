package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/exceptions"
)

// Redis is transport, and it can forget: restarted without persistence, failed over to a
// replica that lagged, flushed. The relay records the entry id XADD returned on every outbox row
// and, per stream, the highest one (outbox_streams). A stream whose last generated id in Redis is
// below that highest id lost every entry above its last id; the relay then marks the rows
// recorded above it unpublished, and publishes them again (consumers skip what they had applied).
// A broker that reloaded its data (AOF, RDB) keeps its last id and raises no alarm.
//
// The incident is an exception (kind outbox.broker_loss, reason BROKER_DATA_LOST) with its
// counts, the service reports itself degraded while the rows are re-published, and the relay
// resolves the exception when none of them is left.

// Broker loss exceptions.
const (
	BrokerLossKind   = "outbox.broker_loss"
	ReasonBrokerLoss = "BROKER_DATA_LOST"
)

// BrokerLossKey is the dedupe key of the open broker loss exception of stream (logical name).
func BrokerLossKey(stream string) string { return BrokerLossKind + ":" + stream }

// BrokerLoss is the payload of a broker loss exception.
type BrokerLoss struct {
	Stream string `json:"stream"`
	// Entries is how many published rows were put back to publish (all repairs of the incident).
	Entries int64 `json:"entries"`
	// LastID is the stream's last generated id Redis reported; RecordedID the highest id this
	// database had recorded for it.
	LastID     string `json:"last_id"`
	RecordedID string `json:"recorded_id"`
	// UpToOutboxID: the repair is complete when no row of the stream up to this outbox id is
	// unpublished.
	UpToOutboxID int64 `json:"up_to_outbox_id"`
}

func (r *Relay) checkLoop(ctx context.Context) {
	t := time.NewTicker(r.cfg.CheckInterval)
	defer t.Stop()
	for {
		if err := r.CheckBroker(ctx); err != nil && ctx.Err() == nil {
			r.log.WarnContext(ctx, "outbox relay: broker check failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.check:
		}
	}
}

// CheckBroker compares, for every stream this database published to, the highest entry id it
// recorded with the stream's last generated id in Redis, repairs the streams that lost entries,
// and resolves the incidents whose rows are all published again. A Redis that cannot be asked is
// no evidence of a loss: such a stream is skipped.
func (r *Relay) CheckBroker(ctx context.Context) error {
	// The database first: a highest id committed before Redis is asked can never be above what
	// Redis holds, unless Redis lost it.
	rows, err := r.pool.Query(ctx, `SELECT stream, last_ms, last_seq FROM outbox_streams`)
	if err != nil {
		return err
	}
	var streams []string
	heads := map[string]entryID{}
	var s string
	var id entryID
	if _, err := pgx.ForEachRow(rows, []any{&s, &id.ms, &id.seq}, func() error {
		streams, heads[s] = append(streams, s), id
		return nil
	}); err != nil {
		return err
	}
	var errs []error
	for _, s := range streams {
		last, err := r.lastID(ctx, s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if last.less(heads[s]) {
			if err := r.repair(ctx, s); err != nil {
				errs = append(errs, fmt.Errorf("outbox: repair %s: %w", s, err))
			}
		}
	}
	if err := r.progress(ctx, streams); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// repair marks the rows of stream whose recorded entry ids Redis no longer has unpublished, under
// the stream's lock (no relay publishes to it meanwhile), and records the incident.
func (r *Relay) repair(ctx context.Context, stream string) error {
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	var head entryID
	if err := tx.QueryRow(ctx, `SELECT last_ms, last_seq FROM outbox_streams WHERE stream = $1 FOR UPDATE`, stream).
		Scan(&head.ms, &head.seq); err != nil {
		return err
	}
	last, err := r.lastID(ctx, stream)
	if err != nil || !last.less(head) {
		return err // another relay repaired it, or Redis cannot be asked
	}
	var n, upTo int64
	if err := tx.QueryRow(ctx, `WITH lost AS (
			UPDATE outbox SET published_at = NULL, stream_ms = NULL, stream_seq = NULL
			WHERE stream = $1 AND published_at IS NOT NULL AND stream_ms IS NOT NULL AND (stream_ms, stream_seq) > ($2, $3)
			RETURNING id)
		SELECT count(*), coalesce(max(id), 0) FROM lost`, stream, last.ms, last.seq).Scan(&n, &upTo); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE outbox_streams SET last_ms = $2, last_seq = $3, updated_at = now() WHERE stream = $1`,
		stream, last.ms, last.seq); err != nil {
		return err
	}
	loss := BrokerLoss{Stream: stream, Entries: n, LastID: last.String(), RecordedID: head.String(), UpToOutboxID: upTo}
	open, err := r.queue.OpenByKeys(ctx, tx, BrokerLossKey(stream))
	if err != nil {
		return err
	}
	if len(open) == 1 { // lost again while being repaired: one incident, the counts add up
		var prev BrokerLoss
		if json.Unmarshal(open[0].Payload, &prev) == nil {
			loss.Entries += prev.Entries
			loss.UpToOutboxID = max(loss.UpToOutboxID, prev.UpToOutboxID)
		}
	}
	payload, err := json.Marshal(loss)
	if err != nil {
		return err
	}
	if _, err := r.queue.Record(ctx, tx, exceptions.New{
		Kind: BrokerLossKind, Reason: ReasonBrokerLoss, EntityType: "stream", EntityID: stream,
		DedupeKey: BrokerLossKey(stream), Payload: payload,
		Message: fmt.Sprintf("Redis lost entries of stream %s: its last id is %s, this service had published up to %s; "+
			"re-publishing %d events from the outbox (consumers skip the ones they had applied)", stream, last, head, loss.Entries),
	}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	republishedTotal.WithLabelValues(stream).Add(float64(n))
	// Degraded from now on (progress refines the reason, and clears it once the rows are out).
	r.setDegraded(fmt.Sprintf("outbox: re-publishing %d events Redis lost on %s", loss.Entries, stream))
	select { // publish them now rather than at the next poll
	case r.wake <- struct{}{}:
	default:
	}
	r.log.ErrorContext(ctx, "outbox relay: Redis lost stream entries; re-publishing them from the outbox",
		"stream", stream, "last_id", last.String(), "recorded_id", head.String(), "republishing", n)
	return nil
}

// progress resolves the broker loss incidents whose rows are all published again, and reports the
// service degraded while any is still being repaired.
func (r *Relay) progress(ctx context.Context, streams []string) error {
	keys := make([]string, len(streams))
	for i, s := range streams {
		keys[i] = BrokerLossKey(s)
	}
	open, err := r.queue.OpenByKeys(ctx, nil, keys...)
	if err != nil {
		return err
	}
	var reasons []string
	for _, e := range open {
		var loss BrokerLoss
		if err := json.Unmarshal(e.Payload, &loss); err != nil {
			return fmt.Errorf("outbox: broker loss exception %s: %w", e.ID, err)
		}
		var left int64
		if err := r.pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE published_at IS NULL AND id <= $2 AND stream = $1`,
			loss.Stream, loss.UpToOutboxID).Scan(&left); err != nil {
			return err
		}
		if left > 0 {
			reasons = append(reasons, fmt.Sprintf("outbox: re-publishing events Redis lost on %s (%d of %d left)", loss.Stream, left, loss.Entries))
			continue
		}
		note := fmt.Sprintf("re-published %d events of %s from the outbox (Redis's last id was %s, this service had published up to %s)",
			loss.Entries, loss.Stream, loss.LastID, loss.RecordedID)
		if ok, err := r.queue.ResolveByKey(ctx, nil, e.DedupeKey, "outbox relay", note); err != nil {
			return err
		} else if ok {
			r.log.InfoContext(ctx, "outbox relay: broker loss repaired", "stream", loss.Stream, "republished", loss.Entries)
		}
	}
	r.setDegraded(strings.Join(reasons, "; "))
	return nil
}

// setDegraded tells the service why it is degraded ("" once it is not), when that changes.
func (r *Relay) setDegraded(reason string) {
	r.mu.Lock()
	changed := reason != r.degraded
	r.degraded = reason
	r.mu.Unlock()
	if changed && r.cfg.Degraded != nil {
		r.cfg.Degraded(reason)
	}
}
