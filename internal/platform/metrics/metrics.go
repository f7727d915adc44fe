// Package metrics owns a service's Prometheus registry and its /metrics HTTP endpoint.
package metrics

import (
	"context"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/accrue/accrue/internal/platform/lifecycle"
)

// NewRegistry returns a registry with Go runtime and process collectors plus cs.
func NewRegistry(cs ...prometheus.Collector) *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, c := range cs {
		r.MustRegister(c)
	}
	return r
}

// Handler serves the registry in the Prometheus text format.
func Handler(r *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(r, promhttp.HandlerOpts{})
}

// Server serves /metrics on addr until ctx ends (and /debug/pprof/ when Pprof is set: keep the
// metrics address private).
type Server struct {
	Addr     string
	Registry *prometheus.Registry
	Pprof    bool
}

// Run serves until ctx is cancelled.
func (s Server) Run(ctx context.Context) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", Handler(s.Registry))
	if s.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return lifecycle.ServeHTTP(ctx, &http.Server{Addr: s.Addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}, 5*time.Second)
}
