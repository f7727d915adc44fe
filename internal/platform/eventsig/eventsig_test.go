package eventsig_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/eventsig"
	"github.com/accrue/accrue/internal/platform/fault"
)

func envelope(t testing.TB) *commonv1.EventEnvelope {
	t.Helper()
	p, err := anypb.New(wrapperspb.String("8h"))
	if err != nil {
		t.Fatal(err)
	}
	return &commonv1.EventEnvelope{EventId: "0192a0c4-0000-7000-8000-000000000001", Type: "time.approved", Subject: "e1",
		OccurredAt: timestamppb.Now(), CorrelationId: "c1", Producer: "timeexpense", Payload: p}
}

func writeKey(t *testing.T, dir, name, secret string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRotation: a key directory with an old and a new key of a producer signs with the newest
// key id and verifies events signed with either; once the old key is removed, its events fail.
func TestRotation(t *testing.T) {
	dir := t.TempDir()
	writeKey(t, dir, "timeexpense.2026-11-01.key", strings.Repeat("o", 40))
	writeKey(t, dir, "timeexpense.2026-12-01.key", strings.Repeat("n", 40))
	writeKey(t, dir, "README", "not a key")
	keys, err := eventsig.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := keys.Signer("timeexpense", "")
	if err != nil || signer.KeyID() != "2026-12-01" {
		t.Fatalf("default signer = %v, %v; want the newest key 2026-12-01", signer, err)
	}
	old, _ := keys.Signer("timeexpense", "2026-11-01")
	oldEnv, newEnv := envelope(t), envelope(t)
	if err := old.Sign("timeexpense.events", oldEnv); err != nil {
		t.Fatal(err)
	}
	if err := signer.Sign("timeexpense.events", newEnv); err != nil {
		t.Fatal(err)
	}
	for _, env := range []*commonv1.EventEnvelope{oldEnv, newEnv} {
		if err := keys.Verify("timeexpense.events", env); err != nil {
			t.Errorf("verify %s: %v", env.GetSigningKeyId(), err)
		}
	}
	// The same event read from another stream does not verify.
	if err := keys.Verify("billing.events", newEnv); fault.ReasonOf(err) != eventsig.ReasonInvalid {
		t.Errorf("verify on another stream = %v", err)
	}
	if err := os.Remove(filepath.Join(dir, "timeexpense.2026-11-01.key")); err != nil {
		t.Fatal(err)
	}
	keys, err = eventsig.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Verify("timeexpense.events", oldEnv); fault.ReasonOf(err) != eventsig.ReasonInvalid {
		t.Errorf("verify with a retired key = %v, want %s", err, eventsig.ReasonInvalid)
	}
}

// TestSignerRefusesOtherProducers: a service's key signs only its own events.
func TestSignerRefusesOtherProducers(t *testing.T) {
	keys, err := eventsig.NewKeyring(eventsig.Key{Producer: "customer", ID: "k1", Secret: []byte(strings.Repeat("c", 32))})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := keys.Signer("customer", "k1")
	if err := s.Sign("timeexpense.events", envelope(t)); err == nil {
		t.Fatal("customer's key signed a timeexpense event")
	}
	if _, err := eventsig.NewKeyring(eventsig.Key{Producer: "customer", ID: "k1", Secret: []byte("short")}); err == nil {
		t.Fatal("a 5-byte key was accepted")
	}
}

// BenchmarkVerify measures one event's verification (the cost added to every consumed event).
func BenchmarkVerify(b *testing.B) {
	keys, err := eventsig.NewKeyring(eventsig.Key{Producer: "timeexpense", ID: "k1", Secret: []byte(strings.Repeat("k", 32))})
	if err != nil {
		b.Fatal(err)
	}
	s, _ := keys.Signer("timeexpense", "k1")
	env := envelope(b)
	if err := s.Sign("timeexpense.events", env); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := keys.Verify("timeexpense.events", env); err != nil {
			b.Fatal(err)
		}
	}
}
