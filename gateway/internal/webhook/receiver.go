package webhook

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/accrue/accrue/gateway/internal/ratelimit"
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
	// Secrets are the signing secrets of each route and source.
	Secrets Secrets
	// Tolerance is the accepted clock difference of signature timestamps; 300s.
	Tolerance time.Duration
	// DedupeTTL is how long a processed event id is remembered; 7 days.
	DedupeTTL time.Duration
	// MaxBody caps the raw body; 1 MiB.
	MaxBody int64
	// KeyPrefix namespaces the Redis keys (deployment or test isolation).
	KeyPrefix string
	// QuarantineLen bounds each source's quarantine stream; 10000 entries.
	QuarantineLen int64
	// UnverifiedQuarantineLen bounds the stream of refused deliveries whose signature was not
	// verified (unknown source, bad or missing signature); 1000 entries.
	UnverifiedQuarantineLen int64
	// Tokens are the credentials the calls of each route are made with (route → token source),
	// each carrying only the scopes its route needs. A route without one answers 503.
	Tokens map[string]grpcx.TokenSource
	// CallTimeout is the deadline of the upstream call; 10s.
	CallTimeout time.Duration
	// Limit admits verified deliveries per source (nil: no limit); over it, 429 RATE_LIMITED.
	Limit *ratelimit.Limiter
	// RefusedLimit bounds, per claimed source, the refused deliveries that are looked at closely
	// and recorded in the quarantine and the log (nil: all of them); beyond it they are still
	// refused and counted, but leave no record.
	RefusedLimit *ratelimit.Limiter
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Receiver handles webhook deliveries. Safe for concurrent use.
type Receiver struct {
	cfg     Config
	sources []string
	rdb     redis.UniversalClient
	log     *slog.Logger
	write   func(w http.ResponseWriter, r *http.Request, status int, reason, detail string)
	reply   func(w http.ResponseWriter, r *http.Request, m proto.Message)
	fail    func(w http.ResponseWriter, r *http.Request, err error)
}

var deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "accrue_webhook_deliveries_total",
	Help: "Webhook deliveries by source (\"unknown\" for a source no route knows), route and outcome (accepted, ignored, failed, or the refusal reason).",
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
	if cfg.UnverifiedQuarantineLen == 0 {
		cfg.UnverifiedQuarantineLen = 1000
	}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Receiver{cfg: cfg, sources: cfg.Secrets.Sources(), rdb: rdb, log: log,
		write: resp.Problem, reply: resp.Reply, fail: resp.Error}
}

// UnknownSource is the metrics label and rate-limit key of every source no route knows, so a
// sender cannot mint label values or buckets by inventing source names.
const UnknownSource = "unknown"

// sourceLabel is source when some route knows it, UnknownSource otherwise.
func (rc *Receiver) sourceLabel(source string) string {
	if _, ok := slices.BinarySearch(rc.sources, source); ok {
		return source
	}
	return UnknownSource
}

// delivery is one request being handled.
type delivery struct {
	route, source, label string
	body                 []byte
}

// Handle returns the handler of one webhook route.
func (rc *Receiver) Handle(route string, translate Translator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		source := r.PathValue("source")
		d := delivery{route: route, source: source, label: rc.sourceLabel(source)}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rc.cfg.MaxBody))
		d.body = body
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				rc.refuse(w, r, d, http.StatusRequestEntityTooLarge, ReasonTooLarge, "the body is over the size limit")
				return
			}
			rc.refuse(w, r, d, http.StatusBadRequest, ReasonMalformed, "the body could not be read")
			return
		}
		// The signature is checked on the raw bytes before anything decodes them, with the
		// secrets of this route and source only.
		header := r.Header.Get(SignatureHeader)
		secrets, ok := rc.cfg.Secrets[Binding{Route: route, Source: source}]
		if !ok {
			rc.refuse(w, r, d, http.StatusNotFound, ReasonUnknownSource, "no webhook source named "+strconv.Quote(source)+" on this route")
			return
		}
		if err := Verify(header, secrets, body, rc.cfg.Now(), rc.cfg.Tolerance); err != nil {
			fe, _ := fault.As(err)
			rc.refuse(w, r, d, http.StatusUnauthorized, fe.Reason, fe.Message)
			return
		}
		if ok, wait := rc.cfg.Limit.Allow(source); !ok {
			deliveries.WithLabelValues(d.label, route, ReasonRateLimited).Inc()
			w.Header().Set("Retry-After", strconv.Itoa(ratelimit.RetryAfterSeconds(wait)))
			rc.write(w, r, http.StatusTooManyRequests, ReasonRateLimited, "source "+strconv.Quote(source)+" is over its delivery rate; retry after the Retry-After delay")
			return
		}
		rc.handleVerified(w, r, d, translate)
	})
}

// handleVerified translates an authentic delivery, deduplicates it and makes its call.
func (rc *Receiver) handleVerified(w http.ResponseWriter, r *http.Request, d delivery, translate Translator) {
	cmd, err := translate(d.source, d.body)
	if err != nil {
		fe, ok := fault.As(err)
		if !ok {
			fe = fault.New(fault.Invalid, ReasonMalformed, "%v", err)
		}
		rc.quarantine(r, d, "", true, fe.Reason, fe.Message)
		rc.write(w, r, http.StatusBadRequest, fe.Reason, fe.Message)
		return
	}
	if cmd.Ignore != "" {
		deliveries.WithLabelValues(d.label, d.route, "ignored").Inc()
		rc.log.InfoContext(r.Context(), "webhook ignored", "source", d.source, "route", d.route, "event_id", cmd.EventID, "why", cmd.Ignore)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ignored","reason":"` + cmd.Ignore + `"}` + "\n"))
		return
	}
	key := rc.cfg.KeyPrefix + "webhook:seen:" + d.source + ":" + cmd.EventID
	fresh, err := rc.rdb.SetNX(r.Context(), key, "processing", 10*time.Minute).Result()
	if err != nil {
		rc.write(w, r, http.StatusServiceUnavailable, "DEDUPE_UNAVAILABLE", "the gateway cannot record the event id; retry later")
		return
	}
	if !fresh {
		detail := "event " + cmd.EventID + " from " + d.source + " was already received"
		rc.quarantine(r, d, cmd.EventID, true, ReasonReplayedEvent, detail)
		rc.write(w, r, http.StatusConflict, ReasonReplayedEvent, detail)
		return
	}
	if cmd.Exception != nil {
		rc.raise(w, r, d, key, cmd)
		return
	}
	// Every upstream call has a deadline, whatever the sender's connection does.
	ctx, cancel := context.WithTimeout(r.Context(), rc.cfg.CallTimeout)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, idempotency.MetadataKey, idempotency.FormatKey("webhook:"+d.source+":"+cmd.EventID))
	ts := rc.cfg.Tokens[d.route]
	var tok string
	if ts != nil {
		tok, err = ts.Token(ctx)
	}
	if ts == nil || err != nil {
		rc.rdb.Del(context.WithoutCancel(ctx), key)
		rc.log.ErrorContext(ctx, "webhook: no credential for the route", "route", d.route, "err", err)
		rc.write(w, r, http.StatusServiceUnavailable, "GATEWAY_CREDENTIALS_UNAVAILABLE", "the gateway cannot authenticate to the services")
		return
	}
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
	resp, err := cmd.Call(ctx)
	if err != nil {
		// Only processed events count as seen: the sender's retry must be able to succeed.
		rc.rdb.Del(context.WithoutCancel(ctx), key)
		deliveries.WithLabelValues(d.label, d.route, "failed").Inc()
		rc.fail(w, r, err)
		return
	}
	rc.rdb.Set(context.WithoutCancel(ctx), key, "done", rc.cfg.DedupeTTL)
	deliveries.WithLabelValues(d.label, d.route, "accepted").Inc()
	rc.log.InfoContext(ctx, "webhook accepted", "source", d.source, "route", d.route, "event_id", cmd.EventID)
	rc.reply(w, r, resp)
}

// refuse answers a delivery whose signature was not verified. A delivery signed, with a current
// timestamp, by the secret of another route or source is refused as SECRET_NOT_FOR_ROUTE (401)
// whatever its path claims. Within the claimed source's budget of refusals (RefusedLimit) the
// refusal is logged and kept in the unverified quarantine; beyond it, only counted: a flood of
// junk cannot push real entries out of the quarantine or flood the log.
func (rc *Receiver) refuse(w http.ResponseWriter, r *http.Request, d delivery, status int, reason, detail string) {
	if (reason == ReasonSignatureInvalid || reason == ReasonUnknownSource) && rc.signedForAnotherRoute(r, d) {
		status, reason = http.StatusUnauthorized, ReasonSecretNotForRoute
		detail = "the delivery is signed with a secret that is not valid for this route and source"
	}
	if ok, _ := rc.cfg.RefusedLimit.Allow(d.label); ok {
		rc.quarantine(r, d, "", false, reason, detail)
	} else {
		deliveries.WithLabelValues(d.label, d.route, reason).Inc()
	}
	rc.write(w, r, status, reason, detail)
}

// signedForAnotherRoute reports whether the delivery carries a signature with a current
// timestamp made with the secret of another binding. It costs one HMAC per configured secret,
// and none for a malformed or stale header.
func (rc *Receiver) signedForAnotherRoute(r *http.Request, d delivery) bool {
	sig, ok := parseSignature(r.Header.Get(SignatureHeader))
	if age := sig.age(rc.cfg.Now()); !ok || age > rc.cfg.Tolerance || age < -rc.cfg.Tolerance {
		return false
	}
	for b, secrets := range rc.cfg.Secrets {
		if b != (Binding{Route: d.route, Source: d.source}) && sig.matches(secrets, d.body) {
			return true
		}
	}
	return false
}
