// Package redisx connects to Redis (the transport of Accrue's event streams).
package redisx

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Connect returns a client for addr (host:port, or the path of a unix socket) and checks that the
// server answers. The read timeout stays well above the consumers' XREADGROUP BLOCK time.
func Connect(ctx context.Context, addr string) (*redis.Client, error) {
	network := "tcp"
	if strings.HasPrefix(addr, "/") {
		network = "unix"
	}
	rdb := redis.NewClient(&redis.Options{
		Network:      network,
		Addr:         addr,
		ReadTimeout:  15 * time.Second,
		WriteTimeout: 5 * time.Second,
		PoolSize:     16,
	})
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("redis: ping %s: %w", addr, err)
	}
	return rdb, nil
}
