package harness

import (
	"os"
	"strconv"
	"strings"
)

// Pid returns the process id of a running process of the Env (0 when it is not running).
func (e *Env) Pid(name string) int {
	p := e.proc(name)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// PeakRSSMiB returns the peak resident set size (VmHWM) of a running process, in MiB.
func (e *Env) PeakRSSMiB(name string) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(e.Pid(name)) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseFloat(f[1], 64)
				return kb / 1024
			}
		}
	}
	return 0
}

// WithEnvAll sets an environment variable for every service and the gateway.
func WithEnvAll(key, value string) Option {
	return func(o *options) {
		for _, p := range []string{"customer", "project", "resource", "timeexpense", "billing", "gateway"} {
			WithEnv(p, key, value)(o)
		}
	}
}
