package webhook

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/accrue/accrue/internal/platform/correlation"
)

// Exception is a delivery that asks for follow-up instead of a call: a vendor told us it could
// not send the change itself (a Salesforce CDC gap or overflow event) and the records must be
// re-synced from the source.
type Exception struct {
	// Reason is a stable UPPER_SNAKE code, e.g. "CDC_GAP".
	Reason string
	// Detail says what happened and what to do.
	Detail string
	// Entity is the vendor's object type, e.g. "Opportunity".
	Entity string
	// RecordIDs are the vendor's ids of the records to re-sync (none for an overflow).
	RecordIDs []string
}

// raise records an exception delivery whose event id (key) was just claimed: an entry in the
// quarantine stream with the reason, entity and record ids, then 202 Accepted. The event id then
// counts as processed, so a redelivery is a replay and raises nothing twice. When the entry
// cannot be written the claim is released and the sender is asked to retry (503): a gap must not
// be acknowledged without a trace.
func (rc *Receiver) raise(w http.ResponseWriter, r *http.Request, d delivery, key string, cmd Command) {
	ctx := context.WithoutCancel(r.Context())
	e := cmd.Exception
	sum := sha256.Sum256(d.body)
	id, err := rc.rdb.XAdd(ctx, &redis.XAddArgs{
		Stream: rc.QuarantineStream(d.source), MaxLen: rc.cfg.QuarantineLen, Approx: true,
		Values: []any{"received_at", rc.cfg.Now().UTC().Format(time.RFC3339Nano), "source", d.source, "route", d.route,
			"reason", e.Reason, "detail", e.Detail, "event_id", cmd.EventID, "entity", e.Entity,
			"record_ids", strings.Join(e.RecordIDs, ","), "body_sha256", hex.EncodeToString(sum[:]),
			"body_bytes", strconv.Itoa(len(d.body)), "remote_addr", r.RemoteAddr, "correlation_id", correlation.ID(r.Context()),
			"signed", "true"},
	}).Result()
	if err != nil {
		rc.rdb.Del(ctx, key)
		rc.log.ErrorContext(ctx, "webhook: exception not recorded", "err", err, "source", d.source, "event_id", cmd.EventID)
		rc.write(w, r, http.StatusServiceUnavailable, "QUARANTINE_UNAVAILABLE", "the gateway cannot record the exception; retry later")
		return
	}
	rc.rdb.Set(ctx, key, "done", rc.cfg.DedupeTTL)
	deliveries.WithLabelValues(d.label, d.route, e.Reason).Inc()
	rc.log.WarnContext(ctx, "webhook exception", "source", d.source, "route", d.route, "event_id", cmd.EventID,
		"reason", e.Reason, "entity", e.Entity, "records", len(e.RecordIDs))
	out, _ := json.Marshal(map[string]any{"status": "exception", "reason": e.Reason, "detail": e.Detail,
		"entity": e.Entity, "record_ids": nonNil(e.RecordIDs), "quarantine_id": id, "event_id": cmd.EventID})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write(append(out, '\n'))
}

func nonNil(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}

// splitIDs reads the record ids of a quarantine entry (comma-separated; vendor ids hold no comma).
func splitIDs(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
