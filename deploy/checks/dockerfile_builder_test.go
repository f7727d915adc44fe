package checks_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"golang.org/x/mod/modfile"
)

func checkBuilder(t *testing.T, d dockerfile, s instructions.Stage, work []string) {
	p := d.path
	if !strings.HasPrefix(s.BaseName, "golang:") {
		t.Errorf("%s: build stage %s FROM %s, want the golang image", p, s.Name, s.BaseName)
	}
	cgoOff := false
	copiedPaths := map[string]bool{}
	var builds []*instructions.RunCommand
	for _, c := range s.Commands {
		switch c := c.(type) {
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				if kv.Key == "CGO_ENABLED" && kv.Value == "0" {
					cgoOff = true
				}
			}
		case *instructions.CopyCommand:
			for _, src := range c.SourcePaths {
				copiedPaths[filepath.Clean(src)] = true
			}
		case *instructions.RunCommand:
			if strings.Contains(strings.Join(c.CmdLine, " "), "go build") {
				builds = append(builds, c)
			}
		}
	}
	// The workspace: go.work, go.work.sum, and each module's go.mod and go.sum.
	for _, f := range []string{"go.work", "go.work.sum"} {
		if !copiedPaths[f] {
			t.Errorf("%s: build stage does not COPY %s (the build must use the workspace)", p, f)
		}
	}
	for _, dir := range work {
		for _, f := range []string{"go.mod", "go.sum"} {
			if f := filepath.Join(dir, f); !copiedPaths[f] && !copiedPaths[dir] {
				t.Errorf("%s: build stage does not COPY %s, and go.work uses ./%s: the workspace build would fail", p, f, dir)
			}
		}
	}
	if len(builds) == 0 {
		t.Errorf("%s: build stage %s runs no go build", p, s.Name)
	}
	for _, b := range builds {
		cmd := strings.Join(b.CmdLine, " ")
		ln := line(b.Location())
		if !cgoOff && !strings.Contains(cmd, "CGO_ENABLED=0") {
			t.Errorf("%s:%d: go build without CGO_ENABLED=0: the binary may link libc, which distroless static lacks", p, ln)
		}
		if !strings.Contains(cmd, "-trimpath") {
			t.Errorf("%s:%d: go build without -trimpath", p, ln)
		}
		if strings.Contains(cmd, "httpprobe") {
			continue // the gateway's probe carries no version
		}
		for _, v := range []string{"service.version=", "service.commit="} {
			if !strings.Contains(cmd, "-X github.com/accrue/accrue/internal/platform/"+v) {
				t.Errorf("%s:%d: go build -ldflags does not set %s", p, ln, v)
			}
		}
		if u := undeclared(s, cmd); len(u) > 0 {
			t.Errorf("%s:%d: go build uses %v, not declared by an ARG in stage %s", p, ln, u, s.Name)
		}
	}
}

func readGoWork(t *testing.T, root string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "go.work"))
	if err != nil {
		t.Fatal(err)
	}
	wf, err := modfile.ParseWork("go.work", b, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, u := range wf.Use {
		out = append(out, filepath.Clean(u.Path))
	}
	return out
}

// makefileGoVersion returns the Go release of the Makefile's GOTOOLCHAIN (go1.27.3 → 1.27.3).
func makefileGoVersion(t *testing.T, root string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^export GOTOOLCHAIN\s*:?=\s*go(\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("Makefile: no `export GOTOOLCHAIN := go…`")
	}
	return string(m[1])
}
