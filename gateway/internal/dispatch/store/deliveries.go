package store

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/gateway/internal/dispatch/subscription"
)

// RecordEvent stores ev (once: a redelivered event keeps its first row) and a pending delivery
// of it for each subscription in subs (once per subscription and event).
func (s *Store) RecordEvent(ctx context.Context, ev subscription.Event, subs []string) error {
	q := s.Q(ctx)
	var seq int64
	err := q.QueryRow(ctx, `INSERT INTO webhook_events (event_id, type, subject, producer, occurred_at, correlation_id, data)
		VALUES ($1,$2,$3,$4,$5,$6,$7)
		ON CONFLICT (event_id) DO UPDATE SET event_id = EXCLUDED.event_id RETURNING seq`,
		ev.ID, ev.Type, ev.Subject, ev.Producer, ev.OccurredAt, ev.CorrelationID, string(ev.Data)).Scan(&seq)
	if err != nil {
		return err
	}
	if len(subs) == 0 {
		return nil
	}
	_, err = q.Exec(ctx, `INSERT INTO webhook_deliveries (subscription_id, event_id, seq, subject, status)
		SELECT unnest($1::uuid[]), $2, $3, $4, 'PENDING' ON CONFLICT DO NOTHING`, subs, ev.ID, seq, ev.Subject)
	return err
}

// ClaimDue leases up to limit due deliveries (at most perEndpoint per subscription) for lease: pending, due, of an active subscription
// whose circuit is closed and not in busy, and the earliest pending one of their subject for
// their subscription (a later event of a subject waits for the earlier). Rows other
// dispatchers hold are skipped (FOR UPDATE SKIP LOCKED); the lease keeps them off other
// dispatchers' claims while the request runs, and a dispatcher that dies leaves its lease to
// expire, after which the delivery is claimed again (with the same webhook-id).
func (s *Store) ClaimDue(ctx context.Context, limit, perEndpoint int, lease time.Duration, busy []string) ([]subscription.Claim, error) {
	if busy == nil {
		busy = []string{}
	}
	rows, err := s.Q(ctx).Query(ctx, `WITH cand AS (
		SELECT d.subscription_id, d.event_id,
		       row_number() OVER (PARTITION BY d.subscription_id ORDER BY d.next_attempt_at, d.seq) AS rn
		FROM webhook_deliveries d
		JOIN webhook_subscriptions s ON s.id = d.subscription_id
		WHERE d.status = 'PENDING' AND d.next_attempt_at <= now() AND (d.lease_until IS NULL OR d.lease_until < now())
		  AND s.status = 'ACTIVE' AND (s.circuit_open_until IS NULL OR s.circuit_open_until <= now())
		  AND NOT (d.subscription_id::text = ANY($3::text[]))
		  AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.subscription_id = d.subscription_id
		      AND e.subject = d.subject AND e.status = 'PENDING' AND e.seq < d.seq)),
	due AS (
		SELECT d.subscription_id, d.event_id FROM webhook_deliveries d JOIN cand c USING (subscription_id, event_id)
		WHERE c.rn <= $4 AND d.status = 'PENDING' AND (d.lease_until IS NULL OR d.lease_until < now())
		ORDER BY d.next_attempt_at, d.seq LIMIT $1
		FOR UPDATE OF d SKIP LOCKED)
	UPDATE webhook_deliveries d SET lease_until = now() + $2::interval, attempts = d.attempts + 1
	FROM due, webhook_events ev, webhook_subscriptions s
	WHERE d.subscription_id = due.subscription_id AND d.event_id = due.event_id AND ev.event_id = d.event_id AND s.id = d.subscription_id
	RETURNING d.subscription_id::text, d.event_id, d.attempts, ev.type, ev.subject, ev.producer, ev.occurred_at, ev.correlation_id, ev.data,
		s.url, s.shape, s.secret, s.previous_secret, s.previous_secret_expires_at`, limit, lease.String(), busy, perEndpoint)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (subscription.Claim, error) {
		var c subscription.Claim
		var data string
		var prevExp *time.Time
		err := r.Scan(&c.Delivery.SubscriptionID, &c.Delivery.EventID, &c.Delivery.Attempts, &c.Event.Type, &c.Event.Subject,
			&c.Event.Producer, &c.Event.OccurredAt, &c.Event.CorrelationID, &data, &c.Subscription.URL, &c.Subscription.Shape,
			&c.Subscription.Secret, &c.Subscription.PreviousSecret, &prevExp)
		c.Event.ID, c.Event.Data = c.Delivery.EventID, []byte(data)
		c.Delivery.EventType, c.Delivery.Subject, c.Delivery.Status = c.Event.Type, c.Event.Subject, subscription.Pending
		c.Subscription.ID = c.Delivery.SubscriptionID
		if prevExp != nil {
			c.Subscription.PreviousExpiresAt = *prevExp
		}
		return c, err
	})
}

// RecordAttempt logs attempt a of a delivery and applies its outcome (delivery status, the
// endpoint's breaker). An attempt of a lease that was lost (another dispatcher re-claimed the
// delivery) is still logged.
func (s *Store) RecordAttempt(ctx context.Context, subID, eventID string, a subscription.Attempt, o subscription.Outcome) error {
	q := s.Q(ctx)
	if _, err := q.Exec(ctx, `INSERT INTO webhook_attempts (subscription_id, event_id, attempt, started_at, latency_ms, status_code,
		error, response_excerpt) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT DO NOTHING`,
		subID, eventID, a.Attempt, a.StartedAt, a.Latency.Milliseconds(), a.StatusCode, a.Error, a.ResponseExcerpt); err != nil {
		return err
	}
	var delivered *time.Time
	if o.Status == subscription.Delivered {
		now := time.Now()
		delivered = &now
	}
	if _, err := q.Exec(ctx, `UPDATE webhook_deliveries SET status = $3, next_attempt_at = $4, lease_until = NULL,
		delivered_at = COALESCE($5, delivered_at), last_status_code = $6, last_error = $7
		WHERE subscription_id = $1 AND event_id = $2 AND status = 'PENDING'`,
		subID, eventID, string(o.Status), o.Next, delivered, a.StatusCode, a.Error); err != nil {
		return err
	}
	if a.OK() {
		_, err := q.Exec(ctx, `UPDATE webhook_subscriptions SET consecutive_failures = 0, circuit_open_until = NULL
			WHERE id = $1 AND consecutive_failures <> 0`, subID)
		return err
	}
	_, err := q.Exec(ctx, `UPDATE webhook_subscriptions SET consecutive_failures = consecutive_failures + 1,
		circuit_open_until = CASE WHEN $2 > 0 AND consecutive_failures + 1 >= $2 THEN now() + $3::interval ELSE circuit_open_until END
		WHERE id = $1`, subID, o.BreakerFailures, o.BreakerCooldown.String())
	return err
}

// Requeue makes deliveries of a subscription pending again, due now, with a fresh attempt count:
// the one of eventID, or (eventID empty) those whose event occurred in [from, to). It returns how
// many.
func (s *Store) Requeue(ctx context.Context, subID, eventID string, from, to time.Time) (int64, error) {
	tag, err := s.Q(ctx).Exec(ctx, `UPDATE webhook_deliveries d SET status = 'PENDING', attempts = 0, next_attempt_at = now(),
		lease_until = NULL FROM webhook_events ev
		WHERE d.subscription_id = $1 AND ev.event_id = d.event_id
		  AND (($2 <> '' AND d.event_id = $2) OR ($2 = '' AND ev.occurred_at >= $3 AND ev.occurred_at < $4))`,
		subID, eventID, from, to)
	return tag.RowsAffected(), err
}

const deliveryColumns = `d.subscription_id::text, d.event_id, ev.type, d.subject, d.status, d.attempts, ev.occurred_at,
	d.next_attempt_at, d.delivered_at, d.last_status_code, d.last_error, d.seq`

func scanDelivery(r pgx.Row) (subscription.Delivery, int64, error) {
	var d subscription.Delivery
	var delivered *time.Time
	var seq int64
	err := r.Scan(&d.SubscriptionID, &d.EventID, &d.EventType, &d.Subject, &d.Status, &d.Attempts, &d.OccurredAt,
		&d.NextAttemptAt, &delivered, &d.LastStatusCode, &d.LastError, &seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, 0, subscription.ErrDeliveryNotFound
	}
	if delivered != nil {
		d.DeliveredAt = *delivered
	}
	return d, seq, err
}

// ListDeliveries returns a subscription's deliveries, newest first, with status (empty: any),
// after the page token and at most limit; the next token is empty on the last page.
func (s *Store) ListDeliveries(ctx context.Context, subID string, status subscription.DeliveryStatus, token string, limit int) ([]subscription.Delivery, string, error) {
	after := int64(1<<63 - 1)
	if token != "" {
		v, err := strconv.ParseInt(token, 10, 64)
		if err != nil {
			return nil, "", subscription.ErrPageToken
		}
		after = v
	}
	rows, err := s.Q(ctx).Query(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries d JOIN webhook_events ev USING (event_id)
		WHERE d.subscription_id = $1 AND ($2 = '' OR d.status = $2) AND d.seq < $3 ORDER BY d.seq DESC LIMIT $4`,
		subID, string(status), after, limit+1)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []subscription.Delivery
	var last int64
	next := ""
	for rows.Next() {
		if len(out) == limit {
			next = strconv.FormatInt(last, 10)
			break
		}
		d, seq, err := scanDelivery(rows)
		if err != nil {
			return nil, "", err
		}
		out, last = append(out, d), seq
	}
	return out, next, rows.Err()
}

// GetDelivery returns one delivery and its attempts, oldest first.
func (s *Store) GetDelivery(ctx context.Context, subID, eventID string) (subscription.Delivery, []subscription.Attempt, error) {
	d, _, err := scanDelivery(s.Q(ctx).QueryRow(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries d
		JOIN webhook_events ev USING (event_id) WHERE d.subscription_id::text = $1 AND d.event_id = $2`, subID, eventID))
	if err != nil {
		return d, nil, err
	}
	rows, err := s.Q(ctx).Query(ctx, `SELECT attempt, started_at, latency_ms, status_code, error, response_excerpt
		FROM webhook_attempts WHERE subscription_id::text = $1 AND event_id = $2 ORDER BY attempt`, subID, eventID)
	if err != nil {
		return d, nil, err
	}
	as, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (subscription.Attempt, error) {
		var a subscription.Attempt
		var ms int64
		err := r.Scan(&a.Attempt, &a.StartedAt, &ms, &a.StatusCode, &a.Error, &a.ResponseExcerpt)
		a.Latency = time.Duration(ms) * time.Millisecond
		return a, err
	})
	return d, as, err
}

// Prune deletes, at most limit at a time, finished deliveries (delivered or dead) of events
// recorded before cutoff, with their attempts, then the events left without deliveries; it
// returns how many deliveries it deleted.
func (s *Store) Prune(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	var n int64
	err := s.InTx(ctx, func(ctx context.Context) error {
		q := s.Q(ctx)
		rows, err := q.Query(ctx, `SELECT d.subscription_id::text, d.event_id FROM webhook_deliveries d JOIN webhook_events ev USING (event_id)
			WHERE d.status <> 'PENDING' AND ev.recorded_at < $1 LIMIT $2 FOR UPDATE OF d SKIP LOCKED`, cutoff, limit)
		if err != nil {
			return err
		}
		type key struct{ sub, ev string }
		keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (key, error) {
			var k key
			err := r.Scan(&k.sub, &k.ev)
			return k, err
		})
		if err != nil || len(keys) == 0 {
			return err
		}
		subs, evs := make([]string, len(keys)), make([]string, len(keys))
		for i, k := range keys {
			subs[i], evs[i] = k.sub, k.ev
		}
		if _, err := q.Exec(ctx, `DELETE FROM webhook_attempts a USING unnest($1::uuid[], $2::text[]) AS k(sub, ev)
			WHERE a.subscription_id = k.sub AND a.event_id = k.ev`, subs, evs); err != nil {
			return err
		}
		tag, err := q.Exec(ctx, `DELETE FROM webhook_deliveries d USING unnest($1::uuid[], $2::text[]) AS k(sub, ev)
			WHERE d.subscription_id = k.sub AND d.event_id = k.ev`, subs, evs)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		_, err = q.Exec(ctx, `DELETE FROM webhook_events ev WHERE ev.event_id = ANY($1)
			AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = ev.event_id)`, evs)
		return err
	})
	return n, err
}
