package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// readyz answers 200 when every upstream's gRPC health check says SERVING, 503 otherwise, with
// the status of each.
func (g *Gateway) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := map[string]string{}
	ready := true
	for _, s := range Services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := "SERVING"
			resp, err := healthpb.NewHealthClient(g.conns[s]).Check(ctx, &healthpb.HealthCheckRequest{})
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
		}()
	}
	wg.Wait()
	if err := g.opts.Redis.Ping(ctx).Err(); err != nil {
		out["redis"], ready = "UNREACHABLE", false
	} else {
		out["redis"] = "SERVING"
	}
	w.Header().Set("Content-Type", "application/json")
	if !ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"ready": ready, "services": out})
}
