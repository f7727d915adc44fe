// Package webhook receives signed webhooks from SaaS systems: it checks the HMAC signature on the
// raw body before decoding anything, refuses stale timestamps and replayed event ids, keeps every
// rejected delivery in a quarantine list with its reason, and hands accepted deliveries to a
// translator that turns the vendor payload into a canonical command (a gRPC call).
//
// Signature header (all sources): X-Accrue-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
// "<t>.<raw body>" keyed with the source's secret>. Several v1 values may be sent (secret
// rotation); one must match.
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
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return fault.New(fault.Unauthenticated, ReasonSignatureInvalid, "the signature header must be t=<unix>,v1=<hex>")
	}
	matched := false
	for _, secret := range secrets {
		want := []byte(mac(secret, ts, body))
		for _, s := range sigs {
			if hmac.Equal(want, []byte(s)) {
				matched = true
			}
		}
	}
	if !matched {
		return fault.New(fault.Unauthenticated, ReasonSignatureInvalid, "the signature does not match the body")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fault.New(fault.Unauthenticated, ReasonStaleTimestamp, "the signature timestamp is %s away from now; the tolerance is %s", d.Round(time.Second), tolerance)
	}
	return nil
}
