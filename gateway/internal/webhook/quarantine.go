package webhook

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/accrue/accrue/internal/platform/correlation"
)

// The quarantine keeps refused deliveries for inspection, in capped Redis streams: one per
// source for deliveries whose signature was verified (a payload that does not translate, a
// replayed event), capped at QuarantineLen each, and one for the others (unknown source, bad,
// missing or stale signature, a secret of another route), capped at UnverifiedQuarantineLen. A
// source can only push out its own entries, and unsigned junk only other junk.

// QuarantineStream is the stream of a source's verified refusals.
func (rc *Receiver) QuarantineStream(source string) string {
	return rc.cfg.KeyPrefix + "webhook.quarantine:" + source
}

// UnverifiedQuarantineStream is the stream of refusals whose signature was not verified.
func (rc *Receiver) UnverifiedQuarantineStream() string {
	return rc.cfg.KeyPrefix + "webhook.quarantine.unverified"
}

// legacyQuarantineStream held every refusal before the quarantine was split; it is still read.
func (rc *Receiver) legacyQuarantineStream() string { return rc.cfg.KeyPrefix + "webhook.quarantine" }

// quarantine counts, logs and keeps a refused delivery. signed says whether its signature was
// verified (and so whether its source is authentic).
func (rc *Receiver) quarantine(r *http.Request, d delivery, eventID string, signed bool, reason, detail string) {
	deliveries.WithLabelValues(d.label, d.route, reason).Inc()
	stream, maxLen := rc.UnverifiedQuarantineStream(), rc.cfg.UnverifiedQuarantineLen
	if signed {
		stream, maxLen = rc.QuarantineStream(d.source), rc.cfg.QuarantineLen
	}
	sum := sha256.Sum256(d.body)
	err := rc.rdb.XAdd(context.WithoutCancel(r.Context()), &redis.XAddArgs{
		Stream: stream, MaxLen: maxLen, Approx: true,
		Values: []any{"received_at", rc.cfg.Now().UTC().Format(time.RFC3339Nano), "source", truncate(d.source, 64), "route", d.route,
			"reason", reason, "detail", detail, "event_id", eventID, "body_sha256", hex.EncodeToString(sum[:]),
			"body_bytes", strconv.Itoa(len(d.body)), "remote_addr", r.RemoteAddr, "correlation_id", correlation.ID(r.Context()),
			"signed", strconv.FormatBool(signed)},
	}).Err()
	if err != nil {
		rc.log.ErrorContext(r.Context(), "webhook: quarantine write failed", "err", err)
	}
	rc.log.WarnContext(r.Context(), "webhook rejected", "source", truncate(d.source, 64), "route", d.route, "reason", reason, "event_id", eventID, "signed", signed)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// QuarantineEntry is one refused delivery.
type QuarantineEntry struct {
	ID         string `json:"id"`
	ReceivedAt string `json:"received_at"`
	Source     string `json:"source"`
	Route      string `json:"route"`
	Reason     string `json:"reason"`
	Detail     string `json:"detail"`
	EventID    string `json:"event_id,omitempty"`
	BodySHA256 string `json:"body_sha256"`
	BodyBytes  string `json:"body_bytes"`
	RemoteAddr string `json:"remote_addr"`
	// Signed says whether the delivery's signature was verified: only then is Source authentic.
	Signed        bool   `json:"signed"`
	CorrelationID string `json:"correlation_id"`

	// Entity and RecordIDs name what an exception (e.g. CDC_GAP) asks to re-sync.
	Entity    string   `json:"entity,omitempty"`
	RecordIDs []string `json:"record_ids,omitempty"`
}

// Quarantine returns the newest refused deliveries of every stream, at most limit, newest first.
func (rc *Receiver) Quarantine(ctx context.Context, limit int64) ([]QuarantineEntry, error) {
	streams := []string{rc.UnverifiedQuarantineStream(), rc.legacyQuarantineStream()}
	for _, s := range rc.sources {
		streams = append(streams, rc.QuarantineStream(s))
	}
	pipe := rc.rdb.Pipeline()
	cmds := make([]*redis.XMessageSliceCmd, len(streams))
	for i, s := range streams {
		cmds[i] = pipe.XRevRangeN(ctx, s, "+", "-", limit)
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return nil, err
	}
	var out []QuarantineEntry
	for _, c := range cmds {
		for _, m := range c.Val() {
			s := func(k string) string { v, _ := m.Values[k].(string); return v }
			out = append(out, QuarantineEntry{ID: m.ID, ReceivedAt: s("received_at"), Source: s("source"), Route: s("route"),
				Reason: s("reason"), Detail: s("detail"), EventID: s("event_id"), BodySHA256: s("body_sha256"),
				BodyBytes: s("body_bytes"), RemoteAddr: s("remote_addr"), CorrelationID: s("correlation_id"),
				Signed: s("signed") == "true", Entity: s("entity"), RecordIDs: splitIDs(s("record_ids"))})
		}
	}
	slices.SortFunc(out, func(a, b QuarantineEntry) int { return compareIDs(b.ID, a.ID) })
	if int64(len(out)) > limit {
		out = out[:limit]
	}
	return out, nil
}

// compareIDs orders Redis stream ids ("<ms>-<seq>") of different streams by time.
func compareIDs(a, b string) int {
	am, as, _ := strings.Cut(a, "-")
	bm, bs, _ := strings.Cut(b, "-")
	an, _ := strconv.ParseUint(am, 10, 64)
	bn, _ := strconv.ParseUint(bm, 10, 64)
	if c := cmp.Compare(an, bn); c != 0 {
		return c
	}
	aseq, _ := strconv.ParseUint(as, 10, 64)
	bseq, _ := strconv.ParseUint(bs, 10, 64)
	return cmp.Compare(aseq, bseq)
}
