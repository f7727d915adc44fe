package stream

import (
	"errors"
	"fmt"
	"os"
	"time"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/catalogue"
)

// Config configures a Consumer. Zero values take the documented defaults; Validate reports the
// rest.
type Config struct {
	// Stream is the logical stream name, e.g. "customer.events". Required.
	Stream string
	// Group is the consumer group, by convention the consuming service's name. Required.
	Group string
	// Consumer names this instance within the group; hostname when empty. Keep it stable across
	// restarts so a restarted instance picks up its own pending entries at once.
	Consumer string
	// StreamPrefix is prepended to Stream and DeadLetterStream (deployment or test isolation).
	StreamPrefix string
	// BatchSize is the most entries one XREADGROUP returns and one transaction applies; 256.
	BatchSize int
	// Block is how long XREADGROUP waits for entries; 1s. Keep it below the client read timeout.
	Block time.Duration
	// ClaimMinIdle is how long an entry must stay pending before another instance claims it
	// (its consumer died); 30s. A consumer retries its own failed entries sooner (RetryBase).
	ClaimMinIdle time.Duration
	// ClaimInterval is how often the consumer looks for such entries; 5s.
	ClaimInterval time.Duration
	// MaxDeliveries is how many deliveries an entry gets before it is dead-lettered; 5.
	MaxDeliveries int64
	// RetryBase is the wait before a failed entry is delivered again to the same consumer; it
	// doubles with each failed round up to RetryMax, jittered to between half and all of it;
	// 200ms and 2s. With the defaults a fault that clears is applied within about two seconds,
	// and a poison event reaches MaxDeliveries in two to three seconds.
	RetryBase, RetryMax time.Duration
	// DeadLetterRetryAfter is when the exception queue's retrier first retries a dead letter
	// whose cause is transient (database or broker unavailable, a deadline); it then backs off.
	// Dead letters with other causes wait for a human. 1s.
	DeadLetterRetryAfter time.Duration
	// DeadLetterStream receives entries that exhausted MaxDeliveries; Stream + ".dlq".
	DeadLetterStream string
	// DeadLetterMaxLen caps the dead-letter stream at about this many entries (XADD MAXLEN ~),
	// its oldest trimmed first; 10000. Each dead letter's envelope stays in its exception, so
	// a trimmed entry loses only its Redis copy. See accrue_stream_dead_letter_near_cap.
	DeadLetterMaxLen int64
	// Linger is how long a read that returned fewer than BatchSize entries waits for more
	// before the batch is applied: larger batches cost fewer transactions per entry. Zero or
	// NoLinger: none. Streams whose events are already batches (a timesheet's entries, a
	// posting batch's answers) gain nothing from it and should not wait.
	Linger time.Duration
	// Types lists the event types the handler applies (the generated EventType… constants);
	// required. Entries of other types the contracts declare on the stream (it carries events for
	// other consumers too) are acknowledged without opening a transaction. An entry whose type no
	// contract declares on the stream (a producer renamed it, or a stranger wrote it), or whose
	// payload is not the declared message, is dead-lettered at once, never skipped.
	Types []string
	// Undeclared lets a consumer read a stream the contracts do not declare (platform tests
	// only): every type outside Types is then acknowledged unread.
	Undeclared bool
	// Signatures, when set, verifies every event before it is applied (eventsig.Keyring): an
	// event failing verification is dead-lettered at once with its reason (EVENT_SIGNATURE_INVALID),
	// never applied, and so is a dead letter retried later. Nil applies unsigned events (tests,
	// and services started with ACCRUE_INSECURE_DEV without event keys).
	Signatures SignatureVerifier
	// AfterCommit, when set, runs after a batch commits and before it is acknowledged. Tests use
	// it to kill the process at that exact point; production leaves it nil.
	AfterCommit func(ids []string)
}

// SignatureVerifier checks an event's signature (see eventsig.Keyring.Verify); stream is the
// logical stream name.
type SignatureVerifier interface {
	Verify(stream string, env *commonv1.EventEnvelope) error
}

// NoLinger turns the linger off where a default would apply (see service.Base.Consumer).
const NoLinger time.Duration = -1

func (c *Config) defaults() {
	if c.Consumer == "" {
		h, _ := os.Hostname()
		c.Consumer = h
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 256
	}
	if c.Block <= 0 {
		c.Block = time.Second
	}
	if c.ClaimMinIdle <= 0 {
		c.ClaimMinIdle = 30 * time.Second
	}
	if c.ClaimInterval <= 0 {
		c.ClaimInterval = 5 * time.Second
	}
	if c.MaxDeliveries <= 0 {
		c.MaxDeliveries = 5
	}
	if c.RetryBase <= 0 {
		c.RetryBase = 200 * time.Millisecond
	}
	if c.RetryMax <= 0 {
		c.RetryMax = 2 * time.Second
	}
	if c.DeadLetterRetryAfter <= 0 {
		c.DeadLetterRetryAfter = time.Second
	}
	if c.DeadLetterStream == "" {
		c.DeadLetterStream = c.Stream + ".dlq"
	}
	if c.DeadLetterMaxLen <= 0 {
		c.DeadLetterMaxLen = 10000
	}
}

// Validate reports configuration mistakes.
func (c Config) Validate() error {
	var errs []error
	if c.Stream == "" {
		errs = append(errs, errors.New("stream: Stream is required"))
	}
	if c.Group == "" {
		errs = append(errs, errors.New("stream: Group is required"))
	}
	if len(c.Types) == 0 {
		errs = append(errs, errors.New("stream: Types is required (the event types the handler applies)"))
	}
	if !c.Undeclared {
		for _, t := range c.Types {
			if _, ok := catalogue.Payload(c.Stream, t); !ok {
				errs = append(errs, fmt.Errorf("stream: no contract declares event type %q on stream %q", t, c.Stream))
			}
		}
	}
	if c.Block >= 10*time.Second {
		errs = append(errs, errors.New("stream: Block must stay well below the Redis read timeout"))
	}
	return errors.Join(errs...)
}
