// Package redistest gives each test an isolated Redis namespace on a real server: a unique stream
// prefix, whose keys are deleted when the test ends. The server is ACCRUE_TEST_REDIS_ADDR,
// 127.0.0.1:6379 when unset.
package redistest

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/accrue/accrue/internal/platform/config"
	"github.com/accrue/accrue/internal/platform/redisx"
)

// Addr returns the Redis address tests use.
func Addr() string { return config.FromEnv().String("ACCRUE_TEST_REDIS_ADDR", "127.0.0.1:6379") }

// New returns a client and a fresh key prefix ("t<uuid>:") for the test.
func New(t testing.TB) (*redis.Client, string) {
	t.Helper()
	rdb, err := redisx.Connect(context.Background(), Addr())
	if err != nil {
		t.Fatalf("redistest: %v (is Redis running? `make deps` starts it)", err)
	}
	prefix := "t" + strings.ReplaceAll(uuid.NewString(), "-", "")[:16] + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		_ = rdb.Close()
	})
	return rdb, prefix
}
