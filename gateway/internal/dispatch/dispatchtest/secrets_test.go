package dispatchtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/accrue/accrue/gateway/internal/dispatch/app"
	"github.com/accrue/accrue/gateway/internal/dispatch/secretbox"
	"github.com/accrue/accrue/gateway/internal/dispatch/store"
	"github.com/accrue/accrue/internal/platform/catalogue"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pgstore"
)

// With ACCRUE_WEBHOOK_SECRET_KEY_FILE's keys the subscription row holds the signing secrets
// sealed (key id beside the ciphertext), never in the clear; deliveries still verify with the
// secret the partner was shown; after a key rotation (a new first key) old rows still open.
func TestSigningSecretsAreSealedAtRest(t *testing.T) {
	r := newRig(t, "127.0.0.1")
	k1 := secretbox.NewKeyLine("k1")
	keys, err := secretbox.Parse(k1)
	if err != nil {
		t.Fatal(err)
	}
	r.st = store.New(pgstore.New(r.db.Pool, outbox.Writer{Producer: "dispatcher"}, r.queue), keys)
	r.svc = app.New(r.st, r.guard, catalogue.Known)
	rc := newReceiver(t)
	sub := r.subscribe(rc.url())
	rc.secret = func() string { return sub.Secret }
	if !strings.HasPrefix(sub.Secret, "whsec_") {
		t.Fatalf("Create returned secret %q, want the whsec_ secret in the clear (shown once)", sub.Secret)
	}
	row := func() (cur, prev string) {
		t.Helper()
		if err := r.db.Pool.QueryRow(context.Background(), `SELECT secret, previous_secret FROM webhook_subscriptions WHERE id::text = $1`,
			sub.ID).Scan(&cur, &prev); err != nil {
			t.Fatal(err)
		}
		return cur, prev
	}
	cur, _ := row()
	if !strings.HasPrefix(cur, "enc:v1:k1:") || strings.Contains(cur, strings.TrimPrefix(sub.Secret, "whsec_")) {
		t.Fatalf("stored secret %q: want sealed with key k1, not containing the secret", cur)
	}

	// Rotation: the new secret and the previous one (still signing in the overlap) are sealed.
	old := sub.Secret
	rotated, err := r.svc.Rotate(context.Background(), sub.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	sub = rotated
	cur, prev := row()
	for _, s := range []string{strings.TrimPrefix(old, "whsec_"), strings.TrimPrefix(sub.Secret, "whsec_")} {
		if strings.Contains(cur+prev, s) {
			t.Fatalf("a secret is stored in the clear after rotation: %q %q", cur, prev)
		}
	}
	if !strings.HasPrefix(prev, "enc:v1:k1:") {
		t.Fatalf("previous secret stored as %q, want sealed", prev)
	}

	// A new current key k2; k1 still opens the rows it sealed. Deliveries verify.
	keys, err = secretbox.Parse(secretbox.NewKeyLine("k2") + "\n" + k1)
	if err != nil {
		t.Fatal(err)
	}
	r.st = store.New(pgstore.New(r.db.Pool, outbox.Writer{Producer: "dispatcher"}, r.queue), keys)
	r.svc = app.New(r.st, r.guard, catalogue.Known)
	r.consume()
	r.deliver(fastConfig(), 2*time.Second)
	r.publish(newID(), 2)
	got := rc.waitUnique(2, 20*time.Second)
	for _, g := range got {
		if !g.verified {
			t.Fatalf("delivery %s does not verify with the partner's secret", g.id)
		}
	}

	// Without the key the sealed secret cannot be read: the store says so rather than sign with garbage.
	bare := store.New(pgstore.New(r.db.Pool, outbox.Writer{Producer: "dispatcher"}, r.queue))
	if _, err := bare.GetSubscription(context.Background(), sub.ID, false); err == nil || !strings.Contains(err.Error(), "k1") {
		t.Fatalf("GetSubscription without keys: err %v, want one naming key k1", err)
	}
}
