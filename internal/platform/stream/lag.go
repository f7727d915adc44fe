package stream

import (
	"context"
	"errors"
	"strings"

	"github.com/redis/go-redis/v9"
)

// lagExact is the most entries Lag counts one by one (XRANGE); past it, Redis's own figure is
// trusted when it has one.
const lagExact = 1000

// sampleLag sets the lag gauge to the group's current lag, every sample: a stale value would
// hide a lost group or a reload. When Redis cannot be asked, the gauge keeps its value.
func (c *Consumer) sampleLag(ctx context.Context) {
	lag, err := c.Lag(ctx)
	if err != nil {
		if ctx.Err() == nil {
			c.log.WarnContext(ctx, "stream: sampling the lag failed", "err", err)
		}
		return
	}
	lagGauge.WithLabelValues(c.cfg.Stream, c.cfg.Group).Set(float64(lag))
}

// Lag returns how many entries of the stream the group has not been delivered yet. XINFO GROUPS'
// lag is not trusted blindly: Redis 7.0 reports it as nil or wrong after a reload (AOF or RDB)
// or a deletion. When the group's last delivered id is the stream's last generated id, the lag is
// 0; otherwise the entries after it are counted (up to lagExact). A missing group (the broker
// lost it) lags by the whole stream, which it will re-read; a missing stream by nothing.
func (c *Consumer) Lag(ctx context.Context) (int64, error) {
	info, err := c.rdb.XInfoStream(ctx, c.stream()).Result()
	if isNoSuchKey(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	groups, err := c.rdb.XInfoGroups(ctx, c.stream()).Result()
	if err != nil && !isNoSuchKey(err) {
		return 0, err
	}
	for _, g := range groups {
		if g.Name != c.cfg.Group {
			continue
		}
		if g.LastDeliveredID == info.LastGeneratedID {
			return 0, nil
		}
		after, err := c.rdb.XRangeN(ctx, c.stream(), "("+g.LastDeliveredID, "+", lagExact).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return 0, err
		}
		if len(after) == lagExact && g.Lag > lagExact {
			return g.Lag, nil
		}
		return int64(len(after)), nil
	}
	return info.Length, nil
}

// isNoSuchKey reports whether err is Redis's answer to XINFO on a missing stream.
func isNoSuchKey(err error) bool { return err != nil && strings.Contains(err.Error(), "no such key") }
