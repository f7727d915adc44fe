package stream

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// GroupHealth is what an operator checks of one consumer group on one stream (logical names,
// without the deployment's prefix).
type GroupHealth struct {
	Stream, Group, DeadLetterStream string
	Length, Lag, Pending            int64
	// OldestPendingIdle is how long the oldest pending entry has waited for its acknowledgement.
	OldestPendingIdle time.Duration
	DeadLetters       int64
}

// Health returns the group's stream length, lag, pending entries (and the idle time of the
// oldest) and dead letters. A missing stream or group reads as empty, not as an error.
func (c *Consumer) Health(ctx context.Context) (GroupHealth, error) {
	h := GroupHealth{Stream: c.cfg.Stream, Group: c.cfg.Group, DeadLetterStream: c.cfg.DeadLetterStream}
	n, err := c.rdb.XLen(ctx, c.stream()).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return h, err
	}
	h.Length = n
	if h.Lag, err = c.Lag(ctx); err != nil {
		return h, err
	}
	p, err := c.rdb.XPending(ctx, c.stream(), c.cfg.Group).Result()
	switch {
	case err == nil:
		h.Pending = p.Count
	case isNoSuchKey(err) || isNoGroup(err) || errors.Is(err, redis.Nil):
	default:
		return h, err
	}
	if h.Pending > 0 {
		ext, err := c.rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: c.stream(), Group: c.cfg.Group,
			Start: "-", End: "+", Count: 1}).Result()
		if err != nil && !isNoGroup(err) && !errors.Is(err, redis.Nil) {
			return h, err
		}
		if len(ext) > 0 {
			h.OldestPendingIdle = ext[0].Idle
		}
	}
	if h.DeadLetters, err = c.rdb.XLen(ctx, c.cfg.StreamPrefix+c.cfg.DeadLetterStream).Result(); err != nil && !errors.Is(err, redis.Nil) {
		return h, err
	}
	return h, nil
}
