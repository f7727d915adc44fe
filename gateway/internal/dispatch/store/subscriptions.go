package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/gateway/internal/dispatch/subscription"
)

const subColumns = `id::text, url, event_types, legal_entity_id, customer_id, project_id, description, shape, status,
	secret, previous_secret, previous_secret_expires_at, created_at`

func scanSub(row pgx.Row) (subscription.Subscription, error) {
	var s subscription.Subscription
	var prevExp *time.Time
	err := row.Scan(&s.ID, &s.URL, &s.EventTypes, &s.Filter.LegalEntityID, &s.Filter.CustomerID, &s.Filter.ProjectID,
		&s.Description, &s.Shape, &s.Status, &s.Secret, &s.PreviousSecret, &prevExp, &s.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, subscription.ErrNotFound
	}
	if prevExp != nil {
		s.PreviousExpiresAt = *prevExp
	}
	return s, err
}

// InsertSubscription stores a new subscription.
func (s *Store) InsertSubscription(ctx context.Context, sub subscription.Subscription) error {
	_, err := s.Q(ctx).Exec(ctx, `INSERT INTO webhook_subscriptions (id, url, event_types, legal_entity_id, customer_id,
		project_id, description, shape, status, secret, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
		sub.ID, sub.URL, sub.EventTypes, sub.Filter.LegalEntityID, sub.Filter.CustomerID, sub.Filter.ProjectID,
		sub.Description, sub.Shape, string(sub.Status), sub.Secret, sub.CreatedAt)
	return err
}

// GetSubscription returns a subscription (subscription.ErrNotFound when there is none); lock
// takes its row lock for the transaction.
func (s *Store) GetSubscription(ctx context.Context, id string, lock bool) (subscription.Subscription, error) {
	q := `SELECT ` + subColumns + ` FROM webhook_subscriptions WHERE id::text = $1`
	if lock {
		q += ` FOR UPDATE`
	}
	return scanSub(s.Q(ctx).QueryRow(ctx, q, id))
}

// UpdateSubscription writes a subscription's status and secrets.
func (s *Store) UpdateSubscription(ctx context.Context, sub subscription.Subscription) error {
	var prevExp *time.Time
	if !sub.PreviousExpiresAt.IsZero() {
		prevExp = &sub.PreviousExpiresAt
	}
	_, err := s.Q(ctx).Exec(ctx, `UPDATE webhook_subscriptions SET status = $2, secret = $3, previous_secret = $4,
		previous_secret_expires_at = $5 WHERE id = $1`, sub.ID, string(sub.Status), sub.Secret, sub.PreviousSecret, prevExp)
	return err
}

// ListSubscriptions returns at most limit subscriptions, newest first, after the id afterID
// (empty: from the newest).
func (s *Store) ListSubscriptions(ctx context.Context, afterID string, limit int) ([]subscription.Subscription, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT `+subColumns+` FROM webhook_subscriptions
		WHERE ($1 = '' OR id < $1::uuid) ORDER BY id DESC LIMIT $2`, afterID, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (subscription.Subscription, error) { return scanSub(r) })
}

// AllSubscriptions returns every subscription (the fan-out's working set).
func (s *Store) AllSubscriptions(ctx context.Context) ([]subscription.Subscription, error) {
	return s.ListSubscriptions(ctx, "", 1<<30)
}
