// Package eventsig signs and verifies stream events: an HMAC-SHA256, with a key of the producing
// service, over the stream name and every field of the event's envelope. Producers sign in the
// outbox (the signature is stored with the envelope, so a replay or a loss repair publishes the
// same signed bytes); consumers verify before applying, and dead-letter an event that fails
// (ReasonInvalid). Keys are named by (producer, key id), so a consumer only accepts an event
// signed with a key of the producer the envelope names, and keys rotate by id.
//
// A Keyring and a Signer are immutable once loaded and safe for concurrent use.
package eventsig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/fault"
)

// ReasonInvalid is the stable reason of an event whose signature is missing, made with an unknown
// key or wrong.
const ReasonInvalid = "EVENT_SIGNATURE_INVALID"

// MinSecretLen is the shortest accepted key (32 bytes: the HMAC-SHA256 block's security level).
const MinSecretLen = 32

// Key is one producer's signing key.
type Key struct {
	Producer string
	ID       string
	Secret   []byte
}

// Keyring holds the keys events are verified with (and a producer signs with).
type Keyring struct {
	keys map[string]Key // producer + "/" + id
}

// FileSuffix ends the name of every key file: "<producer>.<key id>.key".
const FileSuffix = ".key"

var namePart = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// NewKeyring returns a keyring of keys (tests and LoadDir).
func NewKeyring(keys ...Key) (*Keyring, error) {
	k := &Keyring{keys: map[string]Key{}}
	for _, key := range keys {
		if !namePart.MatchString(key.Producer) || !namePart.MatchString(key.ID) {
			return nil, fmt.Errorf("eventsig: key %q of producer %q: names are lower-case letters, digits, - and _", key.ID, key.Producer)
		}
		if len(key.Secret) < MinSecretLen {
			return nil, fmt.Errorf("eventsig: key %s.%s is shorter than %d bytes", key.Producer, key.ID, MinSecretLen)
		}
		k.keys[key.Producer+"/"+key.ID] = key
	}
	return k, nil
}

// LoadDir reads every "<producer>.<key id>.key" file of dir (the file holds the secret; surrounding
// white space is ignored). Other files (Kubernetes' ..data links, a README) are skipped.
func LoadDir(dir string) (*Keyring, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("eventsig: %w", err)
	}
	var keys []Key
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, FileSuffix) {
			continue
		}
		producer, id, ok := strings.Cut(strings.TrimSuffix(name, FileSuffix), ".")
		if !ok {
			return nil, fmt.Errorf("eventsig: %s: key files are named <producer>.<key id>%s", name, FileSuffix)
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("eventsig: %w", err)
		}
		keys = append(keys, Key{Producer: producer, ID: id, Secret: []byte(strings.TrimSpace(string(b)))})
	}
	return NewKeyring(keys...)
}

// Producers returns the producers the keyring has keys of, sorted.
func (k *Keyring) Producers() []string {
	var out []string
	for _, key := range k.keys {
		if !slices.Contains(out, key.Producer) {
			out = append(out, key.Producer)
		}
	}
	slices.Sort(out)
	return out
}

// Signer returns the signer of producer with key id, or with the producer's greatest key id when
// id is empty (key ids that sort by age, such as dates, make the newest key the default).
func (k *Keyring) Signer(producer, id string) (*Signer, error) {
	if id == "" {
		for _, key := range k.keys {
			if key.Producer == producer && key.ID > id {
				id = key.ID
			}
		}
	}
	key, ok := k.keys[producer+"/"+id]
	if !ok {
		return nil, fmt.Errorf("eventsig: no key %q of producer %q to sign with", id, producer)
	}
	return &Signer{key: key}, nil
}

// Verify checks env, read from stream (the logical name, without a deployment prefix). A
// failure is a fault with ReasonInvalid.
func (k *Keyring) Verify(stream string, env *commonv1.EventEnvelope) error {
	if len(env.GetSignature()) == 0 {
		return fault.New(fault.Invalid, ReasonInvalid, "event %s is not signed", env.GetEventId())
	}
	key, ok := k.keys[env.GetProducer()+"/"+env.GetSigningKeyId()]
	if !ok {
		return fault.New(fault.Invalid, ReasonInvalid, "event %s: no key %q of producer %q", env.GetEventId(),
			env.GetSigningKeyId(), env.GetProducer())
	}
	if !hmac.Equal(env.GetSignature(), mac(key.Secret, stream, env)) {
		return fault.New(fault.Invalid, ReasonInvalid, "event %s: the signature does not match (key %q of %q)",
			env.GetEventId(), key.ID, key.Producer)
	}
	return nil
}

// Signer signs events with one key.
type Signer struct{ key Key }

// Producer is the producer whose key signs.
func (s *Signer) Producer() string { return s.key.Producer }

// KeyID is the id of the key that signs.
func (s *Signer) KeyID() string { return s.key.ID }

// Sign sets env's key id and signature for stream. env.Producer must be the signer's producer.
func (s *Signer) Sign(stream string, env *commonv1.EventEnvelope) error {
	if env.GetProducer() != s.key.Producer {
		return fmt.Errorf("eventsig: a key of %q cannot sign an event of producer %q", s.key.Producer, env.GetProducer())
	}
	env.SigningKeyId = s.key.ID
	env.Signature = mac(s.key.Secret, stream, env)
	return nil
}

// mac is the HMAC-SHA256 of the signed fields, each length-prefixed (so no field can bleed into the
// next), independent of the protobuf encoding: fields a newer producer adds to the envelope
// survive an older consumer's decoding without breaking the signature, but are not signed.
func mac(secret []byte, stream string, env *commonv1.EventEnvelope) []byte {
	h := hmac.New(sha256.New, secret)
	var n [8]byte
	put := func(b []byte) {
		binary.BigEndian.PutUint32(n[:4], uint32(len(b)))
		h.Write(n[:4])
		h.Write(b)
	}
	str := func(s string) { put([]byte(s)) }
	str("accrue-event-v1")
	str(stream)
	str(env.GetProducer())
	str(env.GetSigningKeyId())
	str(env.GetEventId())
	str(env.GetType())
	str(env.GetSubject())
	binary.BigEndian.PutUint64(n[:], uint64(env.GetOccurredAt().GetSeconds()))
	h.Write(n[:])
	binary.BigEndian.PutUint32(n[:4], uint32(env.GetOccurredAt().GetNanos()))
	h.Write(n[:4])
	str(env.GetCorrelationId())
	str(env.GetCausationId())
	str(env.GetPayload().GetTypeUrl())
	put(env.GetPayload().GetValue())
	return h.Sum(nil)
}
