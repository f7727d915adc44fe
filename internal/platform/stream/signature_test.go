package stream_test

import (
	"bytes"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/accrue/accrue/internal/platform/eventsig"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/stream"
)

// TestConsumerRejectsForgedEvents: a consumer that verifies signatures applies the producer's
// signed events and dead-letters, without applying, every event XADDed by someone without the
// producer's key: unsigned, signed with another producer's key, with an unknown key id, or
// signed and then altered. Each becomes an exception with reason EVENT_SIGNATURE_INVALID.
func TestConsumerRejectsForgedEvents(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := newEnv(t)
	secret := func(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }
	keys, err := eventsig.NewKeyring(
		eventsig.Key{Producer: "timeexpense", ID: "k1", Secret: secret('a')},
		eventsig.Key{Producer: "customer", ID: "k1", Secret: secret('b')})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := keys.Signer("timeexpense", "")
	if err != nil {
		t.Fatal(err)
	}
	attacker, _ := eventsig.NewKeyring(eventsig.Key{Producer: "timeexpense", ID: "k9", Secret: secret('z')})
	attackerSigner, _ := attacker.Signer("timeexpense", "k9")
	otherProducer, _ := keys.Signer("customer", "k1")

	good := newEnvelope(t, "entry-good", "8h", "corr-good")
	if err := signer.Sign(testStream, good); err != nil {
		t.Fatal(err)
	}
	unsigned := newEnvelope(t, "entry-unsigned", "8h", "corr-forged")
	unknownKey := newEnvelope(t, "entry-unknown-key", "8h", "corr-forged")
	if err := attackerSigner.Sign(testStream, unknownKey); err != nil {
		t.Fatal(err)
	}
	wrongProducer := newEnvelope(t, "entry-wrong-producer", "8h", "corr-forged")
	wrongProducer.Producer = "customer" // signed with customer's real key, claims to be customer...
	if err := otherProducer.Sign(testStream, wrongProducer); err != nil {
		t.Fatal(err)
	}
	wrongProducer.Producer = "timeexpense" // ...then relabelled as a time & expense event
	tampered := newEnvelope(t, "entry-tampered", "8h", "corr-forged")
	if err := signer.Sign(testStream, tampered); err != nil {
		t.Fatal(err)
	}
	if tampered.Payload.Value, err = proto.Marshal(wrapperspb.String("800h")); err != nil {
		t.Fatal(err)
	}

	e.createGroup(t, testGroup)
	xadd(t, e.rdb, e.stream(), unsigned)
	xadd(t, e.rdb, e.stream(), unknownKey)
	xadd(t, e.rdb, e.stream(), wrongProducer)
	xadd(t, e.rdb, e.stream(), tampered)
	xadd(t, e.rdb, e.stream(), good)

	rec := newRecorder()
	c := e.consumer(t, stream.Config{Signatures: keys}, rec.handle)
	run(t, c)

	waitFor(t, 10*time.Second, "the signed event", func() bool { return effects(t, e.db, good.GetEventId()) == 1 })
	kind := stream.DeadLetterKind(testGroup, testStream)
	waitFor(t, 10*time.Second, "four dead letters", func() bool {
		n, err := e.queue.CountOpen(ctx, kind, "")
		return err == nil && n == 4
	})
	if n := effects(t, e.db, ""); n != 1 {
		t.Fatalf("%d effects, want only the signed event's", n)
	}
	list, err := e.queue.List(ctx, exceptions.Filter{Kind: kind})
	if err != nil {
		t.Fatal(err)
	}
	forged := map[string]bool{}
	for _, ex := range list {
		if ex.Reason != eventsig.ReasonInvalid {
			t.Errorf("exception %s: reason %q, want %s", ex.EntityID, ex.Reason, eventsig.ReasonInvalid)
		}
		forged[ex.EntityID] = true
	}
	for _, s := range []string{"entry-unsigned", "entry-unknown-key", "entry-wrong-producer", "entry-tampered"} {
		if !forged[s] {
			t.Errorf("no exception for %s (got %v)", s, forged)
		}
	}
	for _, dl := range e.deadLetters(t, testStream) {
		if dl.Values["reason"] != eventsig.ReasonInvalid {
			t.Errorf("dead letter reason = %v", dl.Values["reason"])
		}
	}
	waitFor(t, 5*time.Second, "every entry acknowledged", func() bool { return pending(t, e.rdb, e.stream(), testGroup) == 0 })

	// Retrying a forged dead letter does not apply it either: it stays open, for a human.
	for _, ex := range list {
		got, err := e.queue.Retry(ctx, ex.ID, "ops")
		if err != nil || got.Status != exceptions.StatusOpen || got.Reason != eventsig.ReasonInvalid {
			t.Errorf("retry of forged %s: %+v, %v; want it open with %s", ex.EntityID, got, err, eventsig.ReasonInvalid)
		}
	}
	if n := effects(t, e.db, ""); n != 1 {
		t.Fatalf("%d effects after retries, want 1", n)
	}
}
