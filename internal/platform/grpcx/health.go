package grpcx

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
)

// DegradedHeader is the response header of a health check that says why a serving service is
// degraded, e.g. "outbox: re-publishing events Redis lost on billing.events (120 of 1693 left)".
// The gateway's /readyz shows it.
const DegradedHeader = "accrue-degraded"

// Readiness holds the reasons a service that still serves is degraded: it works, but something
// is being repaired that an operator should see. A service is not taken out of rotation for it
// (the health status stays SERVING). Safe for concurrent use.
type Readiness struct {
	mu      sync.Mutex
	reasons map[string]string
}

// Degrade records why component is degraded; an empty reason clears it.
func (r *Readiness) Degrade(component, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if reason == "" {
		delete(r.reasons, component)
		return
	}
	if r.reasons == nil {
		r.reasons = map[string]string{}
	}
	r.reasons[component] = reason
}

// Reasons returns the current reasons, ordered by component.
func (r *Readiness) Reasons() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.reasons))
	for _, c := range slices.Sorted(maps.Keys(r.reasons)) {
		out = append(out, r.reasons[c])
	}
	return out
}

// healthServer is the standard health service whose Check also sends the degraded reasons.
type healthServer struct {
	*health.Server
	ready *Readiness
}

func (h healthServer) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	resp, err := h.Server.Check(ctx, req)
	if err == nil && h.ready != nil {
		if rs := h.ready.Reasons(); len(rs) > 0 {
			_ = grpc.SetHeader(ctx, metadata.Pairs(DegradedHeader, strings.Join(rs, "; ")))
		}
	}
	return resp, err
}
