package harness

import (
	"context"
	"fmt"
	"slices"
)

// AddInstance starts one more instance of a running Env's service ("<service>-k", the next free
// k), as scaling a deployment out does: the same database, consumer groups and settings as the
// others, its own ports and consumer name. It returns the process name once the instance's gRPC
// health says SERVING; Kill, Restart, Pid, GRPCAddr and MetricsAddr take that name.
func (e *Env) AddInstance(service string) string {
	e.t.Helper()
	if !slices.Contains(Services, service) {
		e.t.Fatalf("harness: no service %q", service)
	}
	name := ""
	for k := 2; ; k++ {
		if name = fmt.Sprintf("%s-%d", service, k); e.procs[name] == nil {
			break
		}
	}
	ports, err := freePorts(2)
	if err != nil {
		e.t.Fatalf("harness: %v", err)
	}
	e.grpcAddrs[name], e.metricAddrs[name] = ports[0], ports[1]
	e.addInstance(service, name)
	if err := e.procs[name].start(); err != nil {
		e.t.Fatalf("harness: %v", err)
	}
	if err := e.waitFor(ReadyTimeout, []string{name}, func(ctx context.Context) error { return e.grpcServing(ctx, name) }); err != nil {
		e.t.Fatalf("harness: %s did not become ready: %v (the process logs follow)", name, err)
	}
	return name
}
