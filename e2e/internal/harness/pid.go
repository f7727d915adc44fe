package harness

import (
	"os"
	"strconv"
	"strings"
	"time"
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
		for _, p := range []string{"customer", "project", "resource", "timeexpense", "billing", "dispatcher", "gateway"} {
			WithEnv(p, key, value)(o)
		}
	}
}

// CPUTime returns the CPU time (user + system) a running process of the Env has used.
func (e *Env) CPUTime(name string) time.Duration {
	return cpuOf("/proc/" + strconv.Itoa(e.Pid(name)) + "/stat")
}

// CPUTimeOf returns the CPU time used by every process of this machine named comm (e.g.
// "postgres", "redis-server"), whoever started it: a benchmark that runs alone reads the share
// of the shared servers it caused from the difference of two readings.
func CPUTimeOf(comm string) time.Duration {
	var total time.Duration
	ents, _ := os.ReadDir("/proc")
	for _, d := range ents {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/comm")
		if err != nil || strings.TrimSpace(string(b)) != comm {
			continue
		}
		total += cpuOf("/proc/" + d.Name() + "/stat")
	}
	return total
}

// cpuOf reads utime + stime from a /proc/<pid>/stat file (clock ticks of 10 ms on Linux).
func cpuOf(path string) time.Duration {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndex(s, ")")
	if i < 0 || i+2 > len(s) {
		return 0
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}

// ContextSwitches returns the context switches of the whole machine since boot (the ctxt line
// of /proc/stat): a benchmark that runs alone reads what it caused from two readings.
func ContextSwitches() int64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "ctxt "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}
