package checks_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/accrue/accrue/deploy/checks"
)

// devTools are images of one-shot development commands, not servers: they may use distroless's
// debug variant (busybox sh for a script) and HEALTHCHECK NONE.
var devTools = map[string]bool{"accruectl": true}

// dockerfile is one parsed deploy/docker/<name>.Dockerfile.
type dockerfile struct {
	name   string // accruectl, billing, ..., gateway
	path   string // relative to the repository root
	text   string
	stages []instructions.Stage
	meta   []instructions.ArgCommand
}

func parseDockerfile(t *testing.T, path string) dockerfile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := parser.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, w := range res.Warnings {
		t.Errorf("%s:%d: parser warning: %s", path, w.Location.Start.Line, w.Short)
	}
	lint := linter.New(&linter.Config{Warn: func(rule, _, _, msg string, loc []parser.Range) {
		line := 0
		if len(loc) > 0 {
			line = loc[0].Start.Line
		}
		t.Errorf("%s:%d: lint %s: %s", path, line, rule, msg)
	}})
	stages, meta, err := instructions.Parse(res.AST, lint)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	name := strings.TrimSuffix(filepath.Base(path), ".Dockerfile")
	return dockerfile{name: name, path: path, text: string(b), stages: stages, meta: meta}
}

func dockerfiles(t *testing.T) []dockerfile {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(root(t), "deploy/docker/*.Dockerfile"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no Dockerfiles under deploy/docker (%v)", err)
	}
	var out []dockerfile
	for _, p := range paths {
		d := parseDockerfile(t, p)
		d.path, _ = filepath.Rel(root(t), p) // shorter messages
		out = append(out, d)
	}
	return out
}

// argsDeclared returns the ARG names a stage declares.
func argsDeclared(s instructions.Stage) []string {
	var out []string
	for _, c := range s.Commands {
		if a, ok := c.(*instructions.ArgCommand); ok {
			for _, kv := range a.Args {
				out = append(out, kv.Key)
			}
		}
	}
	return out
}

var varRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)

// undeclared returns the $VARs in s that are neither ARGs of the stage nor set by its ENV:
// Docker expands them to nothing.
func undeclared(st instructions.Stage, s string) []string {
	declared := argsDeclared(st)
	for _, c := range st.Commands {
		if e, ok := c.(*instructions.EnvCommand); ok {
			for _, kv := range e.Env {
				declared = append(declared, kv.Key)
			}
		}
	}
	var out []string
	for _, m := range varRef.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(declared, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

// TestDockerfiles checks every image's rules: a multi-stage build of a static, trimmed, stamped
// binary in the go.work workspace, and a distroless (or scratch) final stage that runs as a
// numeric non-root user, with a HEALTHCHECK, the OCI version and revision labels and its ports.
func TestDockerfiles(t *testing.T) {
	t.Parallel()
	r := root(t)
	work := readGoWork(t, r)
	goVersion := makefileGoVersion(t, r)
	progs := programs(t)
	found := map[string]bool{}
	for _, d := range dockerfiles(t) {
		found[d.name] = true
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			checkDockerfile(t, r, d, work, goVersion, progs)
		})
	}
	for name := range progs {
		if !found[name] {
			t.Errorf("no deploy/docker/%s.Dockerfile for %s", name, progs[name].Dir)
		}
	}
}

func checkDockerfile(t *testing.T, root string, d dockerfile, work []string, goVersion string, progs map[string]checks.Program) {
	p := d.path
	if len(d.stages) < 2 {
		t.Fatalf("%s: %d stage(s), want a multi-stage build (a Go builder and a minimal final image)", p, len(d.stages))
	}
	for _, a := range d.meta {
		for _, kv := range a.Args {
			if kv.Key == "GO_VERSION" && (kv.Value == nil || *kv.Value != goVersion) {
				t.Errorf("%s: ARG GO_VERSION=%v, want %s (the Makefile's GOTOOLCHAIN)", p, kv.ValueString(), goVersion)
			}
		}
	}
	final := d.stages[len(d.stages)-1]
	stageByName := map[string]instructions.Stage{}
	for _, s := range d.stages {
		stageByName[s.Name] = s
	}

	// Every COPY from the build context names something that exists.
	for _, s := range d.stages {
		for _, c := range s.Commands {
			cp, ok := c.(*instructions.CopyCommand)
			if !ok || cp.From != "" {
				continue
			}
			for _, src := range cp.SourcePaths {
				if m, _ := filepath.Glob(filepath.Join(root, src)); len(m) == 0 {
					t.Errorf("%s:%d: COPY %s: no such file in the repository", p, line(cp.Location()), src)
				}
			}
		}
	}

	// The builder: the stage the final image copies its binaries from.
	var builders []string
	for _, c := range final.Commands {
		if cp, ok := c.(*instructions.CopyCommand); ok && cp.From != "" && !slices.Contains(builders, cp.From) {
			builders = append(builders, cp.From)
		}
	}
	if len(builders) == 0 {
		t.Fatalf("%s: the final stage copies nothing from a build stage", p)
	}
	for _, b := range builders {
		bs, ok := stageByName[b]
		if !ok {
			t.Errorf("%s: COPY --from=%s: no such stage", p, b)
			continue
		}
		checkBuilder(t, d, bs, work)
	}
	if prog, ok := progs[d.name]; ok {
		if !strings.Contains(d.text, "./"+filepath.ToSlash(prog.Dir)) {
			t.Errorf("%s: does not build %s", p, "./"+prog.Dir)
		}
	}

	// The final stage.
	base := final.BaseName
	if !(base == "scratch" || strings.HasPrefix(base, "gcr.io/distroless/static")) {
		t.Errorf("%s: final FROM %s, want gcr.io/distroless/static… or scratch", p, base)
	}
	if strings.Contains(base, "debug") && !devTools[d.name] {
		t.Errorf("%s: final FROM %s: the debug variant ships a shell; only development tools may use it", p, base)
	}
	user := ""
	var health *instructions.HealthCheckCommand
	labels := map[string]string{}
	env := map[string]string{}
	var exposed []string
	copied := map[string]bool{}
	for _, c := range final.Commands {
		switch c := c.(type) {
		case *instructions.UserCommand:
			user = c.User
		case *instructions.HealthCheckCommand:
			health = c
		case *instructions.LabelCommand:
			for _, kv := range c.Labels {
				labels[kv.Key] = kv.Value
			}
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				env[kv.Key] = kv.Value
			}
		case *instructions.ExposeCommand:
			for _, port := range c.Ports {
				exposed = append(exposed, strings.TrimSuffix(port, "/tcp"))
			}
		case *instructions.CopyCommand:
			for _, src := range c.SourcePaths {
				dst := c.DestPath
				if strings.HasSuffix(dst, "/") {
					dst += filepath.Base(src)
				}
				copied[dst] = true
			}
		case *instructions.EntrypointCommand:
			if c.PrependShell {
				t.Errorf("%s:%d: ENTRYPOINT in shell form: the final image has no shell, use the JSON form", p, line(c.Location()))
			}
		case *instructions.CmdCommand:
			if c.PrependShell {
				t.Errorf("%s:%d: CMD in shell form: the final image has no shell, use the JSON form", p, line(c.Location()))
			}
		case *instructions.RunCommand:
			t.Errorf("%s:%d: RUN in the final stage: it has no shell to run it", p, line(c.Location()))
		}
	}
	if !nonRootUser(user) {
		t.Errorf("%s: final stage USER %q, want a numeric non-root uid such as 65532:65532 (Kubernetes runAsNonRoot cannot verify a user name)", p, user)
	}
	for _, k := range []string{"org.opencontainers.image.version", "org.opencontainers.image.revision"} {
		v, ok := labels[k]
		if !ok || strings.TrimSpace(v) == "" {
			t.Errorf("%s: final stage has no LABEL %s", p, k)
			continue
		}
		if u := undeclared(final, v); len(u) > 0 {
			t.Errorf("%s: LABEL %s=%s uses %v, not declared by an ARG in the final stage (it would be empty)", p, k, v, u)
		}
	}
	for k, v := range env {
		if strings.HasSuffix(k, "_ADDR") {
			if i := strings.LastIndex(v, ":"); i >= 0 && !slices.Contains(exposed, v[i+1:]) {
				t.Errorf("%s: ENV %s=%s but port %s is not EXPOSEd (EXPOSE %v)", p, k, v, v[i+1:], exposed)
			}
		}
	}
	switch {
	case health == nil:
		t.Errorf("%s: final stage has no HEALTHCHECK", p)
	case len(health.Health.Test) > 0 && health.Health.Test[0] == "NONE":
		if !devTools[d.name] {
			t.Errorf("%s: HEALTHCHECK NONE on a server image", p)
		}
	case len(health.Health.Test) < 2 || health.Health.Test[0] != "CMD":
		t.Errorf("%s: HEALTHCHECK %v: want the exec form (CMD [\"...\"]): the image has no shell", p, health.Health.Test)
	default:
		bin := health.Health.Test[1]
		if !copied[bin] {
			t.Errorf("%s: HEALTHCHECK runs %s, which the final stage does not COPY", p, bin)
		}
		args := strings.Join(health.Health.Test[2:], " ")
		switch {
		case d.name == "gateway" && !strings.HasSuffix(args, "/readyz"):
			t.Errorf("%s: the gateway's HEALTHCHECK %v does not ask /readyz", p, health.Health.Test)
		case d.name != "gateway" && !devTools[d.name] && args != "healthcheck":
			t.Errorf("%s: HEALTHCHECK %v, want the service's own gRPC health check: [%q, \"healthcheck\"]", p, health.Health.Test, bin)
		}
		if health.Health.Interval == 0 || health.Health.Timeout == 0 {
			t.Errorf("%s: HEALTHCHECK without --interval and --timeout", p)
		}
	}
}

func nonRootUser(u string) bool {
	uid, gid, _ := strings.Cut(u, ":")
	n, err := strconv.Atoi(uid)
	if err != nil || n == 0 {
		return false
	}
	if gid != "" {
		if g, err := strconv.Atoi(gid); err != nil || g == 0 {
			return false
		}
	}
	return true
}

func line(r []parser.Range) int {
	if len(r) == 0 {
		return 0
	}
	return r[0].Start.Line
}
