package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"github.com/accrue/accrue/internal/platform/grpcx"
)

// readyz answers 200 when every upstream's gRPC health check says SERVING, 503 otherwise, with
// the status of each. A service that serves but is repairing something (re-publishing events the
// broker lost) is SERVING and listed under "degraded" with its reason, and the status member says
// "degraded": it stays in rotation, and the operator sees why. The webhook dispatcher counts as
// an upstream like the services when the gateway has one (ACCRUE_DISPATCHER_ADDR set).
func (g *Gateway) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := map[string]string{}
	degraded := map[string]string{}
	ready := true
	upstreams := slices.Clone(Services)
	if g.conns[Dispatcher] != nil {
		upstreams = append(upstreams, Dispatcher)
	}
	for _, s := range upstreams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := "SERVING"
			var md metadata.MD
			resp, err := healthpb.NewHealthClient(g.conns[s]).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Header(&md))
			if err != nil {
				st = "UNREACHABLE"
			} else if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				st = resp.GetStatus().String()
			}
			mu.Lock()
			defer mu.Unlock()
			out[s] = st
			if st != "SERVING" {
				ready = false
			}
			if why := md.Get(grpcx.DegradedHeader); err == nil && len(why) > 0 {
				degraded[s] = why[0]
			}
		}()
	}
	wg.Wait()
	if err := g.opts.Redis.Ping(ctx).Err(); err != nil {
		out["redis"], ready = "UNREACHABLE", false
	} else {
		out["redis"] = "SERVING"
	}
	status := "ready"
	switch {
	case !ready:
		status = "not_ready"
	case len(degraded) > 0:
		status = "degraded"
	}
	w.Header().Set("Content-Type", "application/json")
	if !ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	body := map[string]any{"ready": ready, "status": status, "services": out}
	if len(degraded) > 0 {
		body["degraded"] = degraded
	}
	_ = json.NewEncoder(w).Encode(body)
}
