package metrics_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/metrics"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/stream"
)

// Every service registers all platform collectors in one registry: a name clash would panic at
// start.
func TestPlatformCollectorsShareOneRegistry(t *testing.T) {
	t.Parallel()
	var cs = append(grpcx.Collectors(), outbox.Collectors()...)
	cs = append(cs, stream.Collectors()...)
	cs = append(cs, exceptions.Collectors()...)
	reg := metrics.NewRegistry(cs...)

	srv := httptest.NewServer(metrics.Handler(reg))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "go_goroutines") || !strings.Contains(string(body), "accrue_outbox_backlog") {
		t.Fatalf("/metrics = %d:\n%.500s", resp.StatusCode, body)
	}
	if err := (metrics.Server{Addr: "256.0.0.1:1", Registry: reg}).Run(context.Background()); err == nil {
		t.Fatal("metrics server on an impossible address succeeded")
	}
}
