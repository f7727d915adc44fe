package harness

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/accrue/accrue/internal/platform/childproc"
)

// process is one child process (a service or the gateway). It can be stopped and started again
// with the same environment; every run appends to the same log file.
type process struct {
	name    string
	bin     string
	env     []string
	logPath string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when the current run has exited
	err  error         // the current run's exit error, once done
	runs int
}

// start launches a new run. The previous run must have exited.
func (p *process) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done != nil && !isClosed(p.done) {
		return fmt.Errorf("%s is still running", p.name)
	}
	f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	// The child writes to the file directly (no copying goroutine), so what a process logged
	// before it answered a request is in the file by the time the answer arrives.
	defer f.Close()
	if p.runs > 0 {
		fmt.Fprintf(f, "=== e2e: %s restarted at %s ===\n", p.name, time.Now().UTC().Format(time.RFC3339Nano))
	}
	cmd := exec.Command(p.bin)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = f, f
	if err := childproc.Start(cmd); err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.err = cmd, done, nil
	p.runs++
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

// exited returns a channel closed when the current run has exited (nil when never started).
func (p *process) exited() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

func (p *process) running() bool {
	d := p.exited()
	return d != nil && !isClosed(d)
}

// exitErr describes how the current run ended.
func (p *process) exitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// signal sends sig to the current run.
func (p *process) signal(sig syscall.Signal) error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil || isClosed(done) {
		return fmt.Errorf("%s is not running", p.name)
	}
	err := cmd.Process.Signal(sig)
	if errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	return err
}

// wait waits up to timeout for the current run to exit and reports whether it did.
func (p *process) wait(timeout time.Duration) bool {
	d := p.exited()
	if d == nil {
		return true
	}
	select {
	case <-d:
		return true
	case <-time.After(timeout):
		return false
	}
}

// stop ends the current run: SIGTERM, up to grace for a graceful exit, then SIGKILL.
func (p *process) stop(grace time.Duration) {
	if !p.running() {
		return
	}
	_ = p.signal(syscall.SIGTERM)
	if p.wait(grace) {
		return
	}
	_ = p.signal(syscall.SIGKILL)
	p.wait(10 * time.Second)
}

// log returns everything the process wrote so far.
func (p *process) log() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	return string(b)
}

// tail returns the last n lines of the log.
func (p *process) tail(n int) string {
	b := bytes.TrimRight([]byte(p.log()), "\n")
	lines := strings.Split(string(b), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// state says whether the process runs, or how its last run ended.
func (p *process) state() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.done == nil:
		return "never started"
	case !isClosed(p.done):
		return fmt.Sprintf("running, pid %d", p.cmd.Process.Pid)
	case p.err == nil:
		return "exited with status 0"
	}
	return "exited: " + p.err.Error()
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
