// Package webhook receives signed webhooks from SaaS systems: it checks the HMAC signature on the
// raw body before decoding anything, refuses stale timestamps and replayed event ids, keeps every
// rejected delivery in a quarantine list with its reason, and hands accepted deliveries to a
// translator that turns the vendor payload into a canonical command (a gRPC call).
//
// Signature header (all sources): X-Accrue-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
// "<t>.<raw body>" keyed with the secret of the route and source>. Several v1 values may be sent
// (secret rotation); one must match. A secret is valid for one route and source only (see
// Binding).
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/accrue/accrue/internal/platform/fault"
)

// SignatureHeader is the header carrying the signature.
const SignatureHeader = "X-Accrue-Signature"

// Reasons of rejected deliveries.
const (
	ReasonSignatureMissing = "SIGNATURE_MISSING"
	ReasonSignatureInvalid = "SIGNATURE_INVALID"
	ReasonStaleTimestamp   = "TIMESTAMP_OUT_OF_TOLERANCE"
	ReasonReplayedEvent    = "REPLAYED_EVENT"
	ReasonUnknownSource    = "UNKNOWN_SOURCE"
	ReasonMalformed        = "MALFORMED_PAYLOAD"
	ReasonTooLarge         = "PAYLOAD_TOO_LARGE"
	// ReasonSecretNotForRoute: the delivery is signed with a configured secret, but one issued
	// for another route or source (401).
	ReasonSecretNotForRoute = "SECRET_NOT_FOR_ROUTE"
	// ReasonRateLimited: the source is over its delivery rate (429 with Retry-After).
	ReasonRateLimited = "RATE_LIMITED"
)

// Sign returns the header value for body signed with secret at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks header against body with any of secrets, and that its timestamp is within
// tolerance of now. The comparison is constant-time.
func Verify(header string, secrets [][]byte, body []byte, now time.Time, tolerance time.Duration) error {
	if header == "" {
		return fault.New(fault.Unauthenticated, ReasonSignatureMissing, "the %s header is required", SignatureHeader)
	}
	sig, ok := parseSignature(header)
	if !ok {
		return fault.New(fault.Unauthenticated, ReasonSignatureInvalid, "the signature header must be t=<unix>,v1=<hex>")
	}
	if !sig.matches(secrets, body) {
		return fault.New(fault.Unauthenticated, ReasonSignatureInvalid, "the signature does not match the body")
	}
	if d := sig.age(now); d > tolerance || d < -tolerance {
		return fault.New(fault.Unauthenticated, ReasonStaleTimestamp, "the signature timestamp is %s away from now; the tolerance is %s", d.Round(time.Second), tolerance)
	}
	return nil
}

// signature is a parsed signature header.
type signature struct {
	ts   string
	sec  int64
	sigs []string
}

func parseSignature(header string) (signature, bool) {
	var s signature
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			s.ts = v
		case "v1":
			s.sigs = append(s.sigs, v)
		}
	}
	sec, err := strconv.ParseInt(s.ts, 10, 64)
	s.sec = sec
	return s, err == nil && len(s.sigs) > 0
}

func (s signature) age(now time.Time) time.Duration { return now.Sub(time.Unix(s.sec, 0)) }

// matches reports whether one of the signatures is the MAC of body with one of secrets.
func (s signature) matches(secrets [][]byte, body []byte) bool {
	matched := false
	for _, secret := range secrets {
		want := []byte(mac(secret, s.ts, body))
		for _, got := range s.sigs {
			if hmac.Equal(want, []byte(got)) {
				matched = true
			}
		}
	}
	return matched
}
