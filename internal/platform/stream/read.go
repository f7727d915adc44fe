package stream

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// ReadOnce reads and applies at most one batch of new entries, blocking up to Block.
func (c *Consumer) ReadOnce(ctx context.Context) (int, error) { return c.read(ctx, c.cfg.Block) }

func (c *Consumer) read(ctx context.Context, block time.Duration) (int, error) {
	res, err := c.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: c.cfg.Group, Consumer: c.cfg.Consumer, Streams: []string{c.stream(), ">"},
		Count: int64(c.cfg.BatchSize), Block: max(block, time.Millisecond), // 0 would block forever
	}).Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var msgs []redis.XMessage
	for _, s := range res {
		msgs = append(msgs, s.Messages...)
	}
	// A blocked read returns as soon as the first entry arrives, often the first of several a
	// relay added in one pipeline: take the rest without blocking, so that they are applied in
	// the same transaction.
	if len(msgs) > 0 && len(msgs) < c.cfg.BatchSize {
		if c.cfg.Linger > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(c.cfg.Linger):
			}
		}
		more, err := c.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: c.cfg.Group, Consumer: c.cfg.Consumer, Streams: []string{c.stream(), ">"},
			Count: int64(c.cfg.BatchSize - len(msgs)), Block: -1,
		}).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			// The entries read so far are ours: apply them; the error shows on the next read.
			c.log.WarnContext(ctx, "stream: reading the rest of a batch failed", "stream", c.stream(), "err", err)
		}
		for _, s := range more {
			msgs = append(msgs, s.Messages...)
		}
	}
	if len(msgs) > 0 && c.process(ctx, msgs, nil) > 0 {
		c.scheduleRetry()
	}
	return len(msgs), nil
}

// ClaimStale takes over entries pending longer than ClaimMinIdle (their consumer died) and
// applies them. A consumer retries its own failed entries much sooner (see retryOwn).
func (c *Consumer) ClaimStale(ctx context.Context) error {
	start := "0-0"
	for {
		msgs, next, err := c.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
			Stream: c.stream(), Group: c.cfg.Group, Consumer: c.cfg.Consumer,
			MinIdle: c.cfg.ClaimMinIdle, Start: start, Count: int64(c.cfg.BatchSize),
		}).Result()
		if err != nil {
			return err
		}
		if len(msgs) > 0 {
			counts, err := c.deliveries(ctx, msgs, c.cfg.Consumer)
			if err != nil {
				return err
			}
			if c.process(ctx, msgs, counts) > 0 {
				c.scheduleRetry()
			}
		}
		if next == "0-0" || next == "" || next == start {
			return nil
		}
		start = next
	}
}

// deliveries returns the delivery counts of msgs (pending for consumer).
func (c *Consumer) deliveries(ctx context.Context, msgs []redis.XMessage, consumer string) (map[string]int64, error) {
	pend, err := c.rdb.XPendingExt(ctx, &redis.XPendingExtArgs{
		Stream: c.stream(), Group: c.cfg.Group, Start: msgs[0].ID, End: msgs[len(msgs)-1].ID,
		Count: int64(len(msgs))*4 + 64, Consumer: consumer,
	}).Result()
	if err != nil {
		return nil, err
	}
	counts := make(map[string]int64, len(pend))
	for _, p := range pend {
		counts[p.ID] = p.RetryCount
	}
	// The range may hold more of this consumer's entries than fetched: ask for the rest one by one.
	for _, m := range msgs {
		if _, ok := counts[m.ID]; ok {
			continue
		}
		one, err := c.rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: c.stream(), Group: c.cfg.Group,
			Start: m.ID, End: m.ID, Count: 1, Consumer: consumer}).Result()
		if err != nil {
			return nil, err
		}
		if len(one) == 1 {
			counts[m.ID] = one[0].RetryCount
		}
	}
	return counts, nil
}
