package harness

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// waitFor polls check until it succeeds, timeout passes, or one of the named processes exits.
func (e *Env) waitFor(timeout time.Duration, watch []string, check func(ctx context.Context) error) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		for _, name := range watch {
			if p := e.procs[name]; !p.running() {
				return fmt.Errorf("%s exited: %v", name, p.exitErr())
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		last = check(ctx)
		cancel()
		if last == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: %w", timeout, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// httpOK checks that GET path on the gateway answers 200.
func (e *Env) httpOK(ctx context.Context, path string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.URL(path), nil)
	resp, err := e.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return nil
}

// grpcServing checks the standard gRPC health service of a service.
func (e *Env) grpcServing(ctx context.Context, name string) error {
	conn, err := grpc.NewClient(e.grpcAddrs[name], e.GRPCTransport())
	if err != nil {
		return err
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return err
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("%s health: %s", name, resp.GetStatus())
	}
	return nil
}

// teardown stops the processes, prints the log tails of a failed test, and removes the
// databases, the stream keys and the work directory.
func (e *Env) teardown() {
	begin := time.Now()
	defer func() { e.t.Logf("harness: env %s torn down in %s", e.id, time.Since(begin).Round(time.Millisecond)) }()
	// How the processes stood when the test ended, before stopping them.
	states := map[string]string{}
	for name, p := range e.procs {
		states[name] = p.state()
	}
	e.http.CloseIdleConnections()
	// The gateway first (it holds connections to the services), then the services together.
	if p := e.procs[Gateway]; p != nil {
		p.stop(StopGrace)
	}
	var wg sync.WaitGroup
	for name, p := range e.procs {
		if name != Gateway {
			wg.Add(1)
			go func() { defer wg.Done(); p.stop(StopGrace) }()
		}
	}
	wg.Wait()
	// Binaries built with -race (ACCRUE_E2E_RACE=1) report data races in their logs.
	for _, name := range e.order {
		if strings.Contains(e.procs[name].log(), "WARNING: DATA RACE") {
			e.t.Errorf("harness: the %s process reported a data race (see %s)", name, e.procs[name].logPath)
		}
	}
	if e.t.Failed() && len(e.procs) > 0 {
		e.t.Logf("harness: env %s logs (work dir %s):\n%s", e.id, e.dir, e.tails(states))
	}

	e.mu.Lock()
	for _, p := range e.pools {
		p.Close()
	}
	e.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if len(e.dbNames) > 0 {
		e.dropDatabases(ctx)
	}
	if e.rdb != nil {
		iter := e.rdb.Scan(ctx, 0, e.prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			e.rdb.Del(ctx, iter.Val())
		}
		_ = e.rdb.Close()
	}
	if e.t.Failed() && os.Getenv("ACCRUE_E2E_KEEP") == "1" {
		e.t.Logf("harness: kept %s", e.dir)
		return
	}
	_ = os.RemoveAll(e.dir)
}

// tails returns the last LogTailLines of every process log, with each process's state (from
// states when given, else now).
func (e *Env) tails(states map[string]string) string {
	var b strings.Builder
	for _, name := range e.order {
		p := e.procs[name]
		st, ok := states[name]
		if !ok {
			st = p.state()
		}
		fmt.Fprintf(&b, "----- %s: %s; last %d log lines -----\n%s\n", name, st, LogTailLines, p.tail(LogTailLines))
	}
	return b.String()
}
