package service

import (
	"context"
	"io/fs"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/accrue/accrue/internal/platform/telemetry"
)

// startTraced sets tracing up (Config.Telemetry) and starts the service (see Start): first,
// because the pool, the gRPC server and the clients instrument themselves when it is on. The
// service's Run flushes the spans still buffered when it ends.
func startTraced(ctx context.Context, cfg Config, migrations fs.FS, collectors ...prometheus.Collector) (*Base, error) {
	flush, err := telemetry.Setup(ctx, cfg.Telemetry)
	if err != nil {
		return nil, err
	}
	b, err := Start(ctx, cfg, migrations, collectors...)
	if err != nil {
		_ = flush(context.WithoutCancel(ctx))
		return nil, err
	}
	b.flushTraces = flush
	return b, nil
}

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
