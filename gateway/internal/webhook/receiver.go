package webhook

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/idempotency"
)

// Command is what a translator makes of a delivery.
type Command struct {
	// EventID is the sender's event id, the deduplication key.
	EventID string
	// Ignore, when set, says why the delivery needs no action (e.g. NOT_CLOSED_WON); it is
	// acknowledged with 200 and not deduplicated.
	Ignore string
	// Exception, when set, says the delivery needs a person rather than a call (e.g. a change
	// data capture gap: records to re-sync): it is deduplicated, kept in the quarantine with its
	// reason and records, and answered 202 Accepted (see raise).
	Exception *Exception
	// Call performs the canonical command (a gRPC call to a service).
	Call func(ctx context.Context) (proto.Message, error)
}

// Translator turns a verified raw body into a Command; a malformed body is a *fault.Error
// (Invalid) with a reason.
type Translator func(source string, body []byte) (Command, error)

// Config configures a Receiver.
type Config struct {
	// Secrets maps a source name (the {source} path segment) to its signing secrets.
	Secrets map[string][][]byte
	// Tolerance is the accepted clock difference of signature timestamps; 300s.
	Tolerance time.Duration
	// DedupeTTL is how long a processed event id is remembered; 7 days.
	DedupeTTL time.Duration
	// MaxBody caps the raw body; 1 MiB.
	MaxBody int64
	// KeyPrefix namespaces the Redis keys (deployment or test isolation).
	KeyPrefix string
	// QuarantineLen bounds the quarantine stream; 10000 entries.
	QuarantineLen int64
	// Token is the gateway's own credential for the calls it makes on a webhook's behalf.
	Token grpcx.TokenSource
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Receiver handles webhook deliveries. Safe for concurrent use.
type Receiver struct {
	cfg   Config
	rdb   redis.UniversalClient
	log   *slog.Logger
	write func(w http.ResponseWriter, r *http.Request, status int, reason, detail string)
	reply func(w http.ResponseWriter, r *http.Request, m proto.Message)
	fail  func(w http.ResponseWriter, r *http.Request, err error)
}

var deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "accrue_webhook_deliveries_total",
	Help: "Webhook deliveries by source, route and outcome (accepted, ignored, failed, or the rejection reason).",
}, []string{"source", "route", "outcome"})

// Collectors returns the receiver's Prometheus collectors.
func Collectors() []prometheus.Collector { return []prometheus.Collector{deliveries} }

// Responders are how the receiver answers: a problem, a success body, an upstream error.
type Responders struct {
	Problem func(w http.ResponseWriter, r *http.Request, status int, reason, detail string)
	Reply   func(w http.ResponseWriter, r *http.Request, m proto.Message)
	Error   func(w http.ResponseWriter, r *http.Request, err error)
}

// NewReceiver returns a receiver.
func NewReceiver(cfg Config, rdb redis.UniversalClient, log *slog.Logger, resp Responders) *Receiver {
	if cfg.Tolerance == 0 {
		cfg.Tolerance = 300 * time.Second
	}
	if cfg.DedupeTTL == 0 {
		cfg.DedupeTTL = 7 * 24 * time.Hour
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.QuarantineLen == 0 {
		cfg.QuarantineLen = 10000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Receiver{cfg: cfg, rdb: rdb, log: log, write: resp.Problem, reply: resp.Reply, fail: resp.Error}
}

// QuarantineStream is the Redis stream holding rejected deliveries.
func (rc *Receiver) QuarantineStream() string { return rc.cfg.KeyPrefix + "webhook.quarantine" }

// Handle returns the handler of one webhook route.
func (rc *Receiver) Handle(route string, translate Translator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		source := r.PathValue("source")
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rc.cfg.MaxBody))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				rc.reject(w, r, route, source, "", body, http.StatusRequestEntityTooLarge, ReasonTooLarge, "the body is over the size limit")
				return
			}
			rc.reject(w, r, route, source, "", body, http.StatusBadRequest, ReasonMalformed, "the body could not be read")
			return
		}
		secrets, ok := rc.cfg.Secrets[source]
		if !ok {
			rc.reject(w, r, route, source, "", body, http.StatusNotFound, ReasonUnknownSource, "no webhook source named "+strconv.Quote(source))
			return
		}
		// The signature is checked on the raw bytes before anything decodes them.
		if err := Verify(r.Header.Get(SignatureHeader), secrets, body, rc.cfg.Now(), rc.cfg.Tolerance); err != nil {
			fe, _ := fault.As(err)
			rc.reject(w, r, route, source, "", body, http.StatusUnauthorized, fe.Reason, fe.Message)
			return
		}
		cmd, err := translate(source, body)
		if err != nil {
			fe, ok := fault.As(err)
			if !ok {
				fe = fault.New(fault.Invalid, ReasonMalformed, "%v", err)
			}
			rc.reject(w, r, route, source, "", body, http.StatusBadRequest, fe.Reason, fe.Message)
			return
		}
		if cmd.Ignore != "" {
			deliveries.WithLabelValues(source, route, "ignored").Inc()
			rc.log.InfoContext(r.Context(), "webhook ignored", "source", source, "route", route, "event_id", cmd.EventID, "why", cmd.Ignore)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"status":"ignored","reason":"` + cmd.Ignore + `"}` + "\n"))
			return
		}
		key := rc.cfg.KeyPrefix + "webhook:seen:" + source + ":" + cmd.EventID
		fresh, err := rc.rdb.SetNX(r.Context(), key, "processing", 10*time.Minute).Result()
		if err != nil {
			rc.write(w, r, http.StatusServiceUnavailable, "DEDUPE_UNAVAILABLE", "the gateway cannot record the event id; retry later")
			return
		}
		if !fresh {
			rc.reject(w, r, route, source, cmd.EventID, body, http.StatusConflict, ReasonReplayedEvent,
				"event "+cmd.EventID+" from "+source+" was already received")
			return
		}
		if cmd.Exception != nil {
			rc.raise(w, r, route, source, key, cmd, body)
			return
		}
		ctx := metadata.AppendToOutgoingContext(r.Context(), idempotency.MetadataKey, "webhook:"+source+":"+cmd.EventID)
		if rc.cfg.Token != nil {
			tok, err := rc.cfg.Token.Token(ctx)
			if err != nil {
				rc.rdb.Del(context.WithoutCancel(ctx), key)
				rc.log.ErrorContext(ctx, "webhook: no gateway credential", "err", err)
				rc.write(w, r, http.StatusServiceUnavailable, "GATEWAY_CREDENTIALS_UNAVAILABLE", "the gateway cannot authenticate to the services")
				return
			}
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
		}
		resp, err := cmd.Call(ctx)
		if err != nil {
			// Only processed events count as seen: the sender's retry must be able to succeed.
			rc.rdb.Del(context.WithoutCancel(ctx), key)
			deliveries.WithLabelValues(source, route, "failed").Inc()
			rc.fail(w, r, err)
			return
		}
		rc.rdb.Set(context.WithoutCancel(ctx), key, "done", rc.cfg.DedupeTTL)
		deliveries.WithLabelValues(source, route, "accepted").Inc()
		rc.log.InfoContext(ctx, "webhook accepted", "source", source, "route", route, "event_id", cmd.EventID)
		rc.reply(w, r, resp)
	})
}

// reject answers a refused delivery, counts it and keeps it in the quarantine list.
func (rc *Receiver) reject(w http.ResponseWriter, r *http.Request, route, source, eventID string, body []byte, status int, reason, detail string) {
	deliveries.WithLabelValues(source, route, reason).Inc()
	sum := sha256.Sum256(body)
	err := rc.rdb.XAdd(context.WithoutCancel(r.Context()), &redis.XAddArgs{
		Stream: rc.QuarantineStream(), MaxLen: rc.cfg.QuarantineLen, Approx: true,
		Values: []any{"received_at", rc.cfg.Now().UTC().Format(time.RFC3339Nano), "source", source, "route", route,
			"reason", reason, "detail", detail, "event_id", eventID, "body_sha256", hex.EncodeToString(sum[:]),
			"body_bytes", strconv.Itoa(len(body)), "remote_addr", r.RemoteAddr, "correlation_id", correlation.ID(r.Context())},
	}).Err()
	if err != nil {
		rc.log.ErrorContext(r.Context(), "webhook: quarantine write failed", "err", err)
	}
	rc.log.WarnContext(r.Context(), "webhook rejected", "source", source, "route", route, "reason", reason, "event_id", eventID)
	rc.write(w, r, status, reason, detail)
}

// QuarantineEntry is one rejected delivery.
type QuarantineEntry struct {
	ID            string `json:"id"`
	ReceivedAt    string `json:"received_at"`
	Source        string `json:"source"`
	Route         string `json:"route"`
	Reason        string `json:"reason"`
	Detail        string `json:"detail"`
	EventID       string `json:"event_id,omitempty"`
	BodySHA256    string `json:"body_sha256"`
	BodyBytes     string `json:"body_bytes"`
	RemoteAddr    string `json:"remote_addr"`
	CorrelationID string `json:"correlation_id"`

	// Entity and RecordIDs name what an exception (e.g. CDC_GAP) asks to re-sync.
	Entity    string   `json:"entity,omitempty"`
	RecordIDs []string `json:"record_ids,omitempty"`
}

// Quarantine returns the newest rejected deliveries, at most limit.
func (rc *Receiver) Quarantine(ctx context.Context, limit int64) ([]QuarantineEntry, error) {
	msgs, err := rc.rdb.XRevRangeN(ctx, rc.QuarantineStream(), "+", "-", limit).Result()
	if err != nil {
		return nil, err
	}
	out := make([]QuarantineEntry, 0, len(msgs))
	for _, m := range msgs {
		s := func(k string) string { v, _ := m.Values[k].(string); return v }
		out = append(out, QuarantineEntry{ID: m.ID, ReceivedAt: s("received_at"), Source: s("source"), Route: s("route"),
			Reason: s("reason"), Detail: s("detail"), EventID: s("event_id"), BodySHA256: s("body_sha256"),
			BodyBytes: s("body_bytes"), RemoteAddr: s("remote_addr"), CorrelationID: s("correlation_id"),
			Entity: s("entity"), RecordIDs: splitIDs(s("record_ids"))})
	}
	return out, nil
}
