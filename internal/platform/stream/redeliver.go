package stream

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"
)

// A failed apply leaves its entry pending in this consumer's list. Rather than wait for another
// instance to claim it once idle (ClaimMinIdle, 30 s), the consumer re-reads its own pending
// entries (XREADGROUP at id 0, which counts one more delivery) after a backoff: RetryBase,
// doubling per failed round up to RetryMax, jittered to between half and all of it. A fault that
// clears (a restarted database, a lock released) is thus applied within a second or two, and a
// poison event still reaches MaxDeliveries and the dead-letter stream in a few seconds.

// scheduleRetry arranges a retry round of the own pending entries, unless one is already due.
func (c *Consumer) scheduleRetry() {
	if !c.retryAt.IsZero() {
		return
	}
	d := c.cfg.RetryBase << min(c.retryAttempt, 16)
	if d > c.cfg.RetryMax || d <= 0 {
		d = c.cfg.RetryMax
	}
	d = d/2 + rand.N(d/2+1)
	c.retryAt = time.Now().Add(d)
}

// retryDue reports whether a retry round is due.
func (c *Consumer) retryDue() bool { return !c.retryAt.IsZero() && !time.Now().Before(c.retryAt) }

// blockFor is how long the next read may block: Block, or less when a retry round is due sooner.
func (c *Consumer) blockFor() time.Duration {
	if c.retryAt.IsZero() {
		return c.cfg.Block
	}
	return min(c.cfg.Block, time.Until(c.retryAt))
}

// retryOwn re-reads and applies this consumer's pending entries, page by page. When some fail
// again, the next round is scheduled with a longer backoff; when none is left, the backoff resets.
func (c *Consumer) retryOwn(ctx context.Context) error {
	c.retryAt = time.Time{}
	left, err := c.applyOwnPending(ctx)
	switch {
	case err != nil || left > 0:
		c.retryAttempt++
		c.scheduleRetry()
	default:
		c.retryAttempt = 0
	}
	return err
}

// applyOwnPending applies the entries pending for this consumer and returns how many are still
// pending (failed again, not dead-lettered).
func (c *Consumer) applyOwnPending(ctx context.Context) (int, error) {
	left := 0
	start := "0"
	for {
		res, err := c.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: c.cfg.Group, Consumer: c.cfg.Consumer, Streams: []string{c.stream(), start},
			Count: int64(c.cfg.BatchSize),
		}).Result()
		if errors.Is(err, redis.Nil) {
			return left, nil
		}
		if err != nil {
			return left, err
		}
		if len(res) == 0 || len(res[0].Messages) == 0 {
			return left, nil
		}
		msgs := res[0].Messages
		counts, err := c.deliveries(ctx, msgs, c.cfg.Consumer)
		if err != nil {
			return left, err
		}
		left += c.process(ctx, msgs, counts)
		if len(msgs) < c.cfg.BatchSize {
			return left, nil
		}
		start = msgs[len(msgs)-1].ID // the next page: pending entries after this one
	}
}
