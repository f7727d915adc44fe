// Package store keeps the dispatcher's subscriptions, events, deliveries and attempts in
// Postgres (database accrue_dispatcher). It is the only package of the dispatcher that knows SQL
// and pgx; it implements app.Store and turns pgx.ErrNoRows into the domain's not-found errors.
// Methods run in the transaction ctx carries, or on the pool. A Store is safe for concurrent use.
package store

import (
	"github.com/accrue/accrue/gateway/internal/dispatch/secretbox"
	"github.com/accrue/accrue/gateway/internal/dispatch/subscription"
	"github.com/accrue/accrue/internal/platform/pgstore"
)

// Store is the dispatcher's store.
type Store struct {
	pgstore.Base
	box *secretbox.Keys
}

// New returns the store over base. Signing secrets are sealed with keys (nil: stored as they
// are, for tests and local runs without ACCRUE_WEBHOOK_SECRET_KEY_FILE).
func New(base pgstore.Base, keys ...*secretbox.Keys) *Store {
	s := &Store{Base: base}
	if len(keys) > 0 {
		s.box = keys[0]
	}
	return s
}

// seal encrypts a subscription's secrets for its row (bound to its id).
func (s *Store) seal(sub subscription.Subscription) (cur, prev string, err error) {
	if cur, err = s.box.Seal(sub.Secret, sub.ID); err != nil {
		return "", "", err
	}
	prev, err = s.box.Seal(sub.PreviousSecret, sub.ID)
	return cur, prev, err
}

// open decrypts the secrets scanned from a subscription's row.
func (s *Store) open(sub *subscription.Subscription) error {
	var err error
	if sub.Secret, err = s.box.Open(sub.Secret, sub.ID); err != nil {
		return err
	}
	sub.PreviousSecret, err = s.box.Open(sub.PreviousSecret, sub.ID)
	return err
}
