package app

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/accrue/accrue/gateway/internal/dispatch/egress"
	"github.com/accrue/accrue/gateway/internal/dispatch/subscription"
	"github.com/accrue/accrue/internal/platform/exceptions"
)

// DeadLetterKind is the exception kind of a delivery whose every attempt failed; retrying the
// exception (POST /v1/ops/dispatcher/exceptions/{id}:retry) queues the delivery again.
const DeadLetterKind = "webhook.dead_letter"

// ReasonDeliveryFailed is the dead letter's reason.
const ReasonDeliveryFailed = "WEBHOOK_DELIVERY_FAILED"

// Sender posts one attempt (egress.Sender).
type Sender interface {
	Send(ctx context.Context, r egress.Request) egress.Response
}

// DeliveryConfig tunes the Deliverer; zero values take the documented defaults.
type DeliveryConfig struct {
	// Schedule is the wait before each retry (ACCRUE_WEBHOOK_RETRY_SCHEDULE); DefaultSchedule.
	Schedule subscription.Schedule
	// Lease keeps a claimed delivery off other dispatchers while its request runs; longer than
	// the request timeout. 1m.
	Lease time.Duration
	// Poll is how often due deliveries are looked for when none were; 250ms.
	Poll time.Duration
	// Batch is the most deliveries one claim leases; 64.
	Batch int
	// EndpointConcurrency is the most requests in flight to one subscription from this
	// process (ACCRUE_WEBHOOK_ENDPOINT_CONCURRENCY); 4.
	EndpointConcurrency int
	// BreakerFailures failed attempts in a row open an endpoint's circuit for BreakerCooldown:
	// no attempt to it meanwhile (ACCRUE_WEBHOOK_BREAKER_FAILURES, _COOLDOWN); 5 and 30s.
	BreakerFailures int
	BreakerCooldown time.Duration
}

func (c *DeliveryConfig) defaults() {
	if c.Schedule == nil {
		c.Schedule = subscription.DefaultSchedule
	}
	if c.Lease <= 0 {
		c.Lease = time.Minute
	}
	if c.Poll <= 0 {
		c.Poll = 250 * time.Millisecond
	}
	if c.Batch <= 0 {
		c.Batch = 64
	}
	if c.EndpointConcurrency <= 0 {
		c.EndpointConcurrency = 4
	}
	if c.BreakerFailures <= 0 {
		c.BreakerFailures = 5
	}
	if c.BreakerCooldown <= 0 {
		c.BreakerCooldown = 30 * time.Second
	}
}

var attemptsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "accrue_webhook_attempts_total", Help: "Outbound webhook attempts by outcome (delivered, retry, dead).",
}, []string{"outcome"})

// Collectors are the deliverer's metrics.
func Collectors() []prometheus.Collector { return []prometheus.Collector{attemptsTotal} }

// Deliverer leases due deliveries and posts them, each endpoint with its own concurrency, so a
// slow or dead endpoint holds only its own slots. It is a lifecycle runner.
type Deliverer struct {
	st     Store
	sender Sender
	cfg    DeliveryConfig
	log    *slog.Logger

	mu       sync.Mutex
	inflight map[string]int
	wake     chan struct{}
}

// NewDeliverer returns a deliverer over st posting with sender.
func NewDeliverer(st Store, sender Sender, cfg DeliveryConfig, log *slog.Logger) *Deliverer {
	if st == nil || sender == nil || log == nil {
		panic("app: NewDeliverer needs a store, a sender and a logger")
	}
	cfg.defaults()
	return &Deliverer{st: st, sender: sender, cfg: cfg, log: log, inflight: map[string]int{}, wake: make(chan struct{}, 1)}
}

// Run delivers until ctx ends, then waits for the requests in flight (they end with ctx; their
// leases expire and another dispatcher, or this one restarted, sends them again).
func (d *Deliverer) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for ctx.Err() == nil {
		claims, err := d.st.ClaimDue(ctx, d.cfg.Batch, d.cfg.EndpointConcurrency, d.cfg.Lease, d.busy())
		if err != nil && ctx.Err() == nil {
			d.log.WarnContext(ctx, "webhook deliveries: claim failed", "err", err)
		}
		for _, c := range claims {
			d.mu.Lock()
			d.inflight[c.Subscription.ID]++
			d.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				d.attempt(ctx, c)
				d.mu.Lock()
				if d.inflight[c.Subscription.ID]--; d.inflight[c.Subscription.ID] <= 0 {
					delete(d.inflight, c.Subscription.ID)
				}
				d.mu.Unlock()
				select {
				case d.wake <- struct{}{}:
				default:
				}
			}()
		}
		if len(claims) == d.cfg.Batch {
			continue
		}
		select {
		case <-ctx.Done():
		case <-d.wake:
		case <-time.After(d.cfg.Poll):
		}
	}
	return nil
}

func (d *Deliverer) busy() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for id, n := range d.inflight {
		if n >= d.cfg.EndpointConcurrency {
			out = append(out, id)
		}
	}
	return out
}

// attempt sends one claimed delivery and records the attempt and its outcome.
func (d *Deliverer) attempt(ctx context.Context, c subscription.Claim) {
	started := time.Now()
	a := subscription.Attempt{Attempt: c.Delivery.Attempts, StartedAt: started.UTC()}
	ct, body, err := subscription.RenderBody(c.Subscription.Shape, c.Event)
	var sig string
	if err == nil {
		sig, err = subscription.Sign(c.Subscription.Secrets(started), c.Event.ID, started, body)
	}
	skipped := errors.Is(err, subscription.ErrNotApplicable)
	switch {
	case skipped: // the subscription's vendor shape does not express this event: settled, unsent
		a.ResponseExcerpt = "not sent: " + err.Error()
	case err != nil:
		a.Error = "rendering the body: " + err.Error()
	default:
		r := d.sender.Send(ctx, egress.Request{URL: c.Subscription.URL, ContentType: ct, Body: body, Headers: map[string]string{
			subscription.HeaderID: c.Event.ID, subscription.HeaderTimestamp: strconv.FormatInt(started.Unix(), 10),
			subscription.HeaderSignature: sig}})
		if ctx.Err() != nil {
			return // shutting down: the lease expires and the delivery is sent again
		}
		a.StatusCode, a.ResponseExcerpt, a.Latency = r.StatusCode, r.Excerpt, r.Latency
		if r.Err != nil {
			a.Error = r.Err.Error()
		}
	}
	o := subscription.Outcome{Status: subscription.Delivered, Next: time.Now(), BreakerFailures: d.cfg.BreakerFailures,
		BreakerCooldown: d.cfg.BreakerCooldown}
	outcome := "delivered"
	if skipped {
		outcome = "skipped"
	} else if !a.OK() {
		wait, again := d.cfg.Schedule.Next(a.Attempt)
		o.Status, o.Next, outcome = subscription.Pending, time.Now().Add(wait), "retry"
		if !again {
			o.Status, outcome = subscription.Dead, "dead"
		}
	}
	attemptsTotal.WithLabelValues(outcome).Inc()
	rctx := context.WithoutCancel(ctx)
	err = d.st.InTx(rctx, func(ctx context.Context) error {
		if err := d.st.RecordAttempt(ctx, c.Subscription.ID, c.Event.ID, a, o); err != nil {
			return err
		}
		if o.Status != subscription.Dead {
			return nil
		}
		payload, _ := json.Marshal(deadLetter{SubscriptionID: c.Subscription.ID, EventID: c.Event.ID})
		_, err := d.st.RecordException(ctx, exceptions.New{Kind: DeadLetterKind, Reason: ReasonDeliveryFailed,
			Message:    "every attempt to deliver " + c.Event.Type + " " + c.Event.ID + " to " + c.Subscription.URL + " failed; last: " + a.Error,
			EntityType: "webhook_subscription", EntityID: c.Subscription.ID,
			DedupeKey: DeadLetterKind + ":" + c.Subscription.ID + ":" + c.Event.ID, Payload: payload})
		return err
	})
	if err != nil {
		d.log.WarnContext(ctx, "webhook deliveries: recording an attempt failed", "err", err, "event_id", c.Event.ID)
	}
}

type deadLetter struct {
	SubscriptionID string `json:"subscription_id"`
	EventID        string `json:"event_id"`
}

// RetryDeadLetter is the exception queue's retry of a dead letter: the delivery is queued
// again with a fresh schedule (and the exception resolved).
func (s *Service) RetryDeadLetter(ctx context.Context, e exceptions.Exception) error {
	var dl deadLetter
	if err := json.Unmarshal(e.Payload, &dl); err != nil {
		return exceptions.StopRetrying(err)
	}
	return s.st.InTx(ctx, func(ctx context.Context) error {
		_, err := s.st.Requeue(ctx, dl.SubscriptionID, dl.EventID, time.Time{}, time.Time{})
		return err
	})
}

// Prune deletes finished deliveries (and their attempts and events) recorded more than
// retention ago, in batches, until none is left; the dispatcher runs it hourly.
func (s *Service) Prune(ctx context.Context, retention time.Duration) (int64, error) {
	var total int64
	for {
		n, err := s.st.Prune(ctx, s.now().Add(-retention), 1000)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}
