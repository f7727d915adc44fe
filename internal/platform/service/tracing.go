package service

import (
	"context"
	"time"
)

// shutdownTracing exports the spans still buffered, within a few seconds.
func (b *Base) shutdownTracing() {
	if b.flushTraces == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.flushTraces(ctx); err != nil {
		b.Log.Warn("tracing: flush on shutdown failed", "err", err)
	}
}
