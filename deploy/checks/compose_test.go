package checks_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/accrue/accrue/deploy/checks"
)

func loadCompose(t *testing.T, path string) *types.Project {
	t.Helper()
	// No environment: the file's own defaults must give a working system.
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  filepath.Dir(path),
		ConfigFiles: []types.ConfigFile{{Filename: path}},
		Environment: types.Mapping{},
	}, func(o *loader.Options) { o.SetProjectName("accrue", true); o.ResolvePaths = true })
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return p
}

// program returns the Accrue program a compose service runs, from its image accrue/<program>.
func program(image string) string {
	name, _, _ := strings.Cut(image, ":")
	return name[strings.LastIndex(name, "/")+1:]
}

// TestCompose checks deploy/compose/compose.yaml: it loads, every long-running container has a
// healthcheck, each service starts after Postgres and Redis are healthy and its migrations have
// completed, the gateway after every service is healthy, and every container running an Accrue
// program has each variable that program requires (and none it does not read).
func TestCompose(t *testing.T) {
	t.Parallel()
	path := filepath.Join(root(t), "deploy/compose/compose.yaml")
	p := loadCompose(t, path)
	checkCompose(t, p, programs(t))
	checkComposeTracing(t, p, programs(t))
}

func checkCompose(t *testing.T, p *types.Project, progs map[string]checks.Program) {
	services, err := checks.Services(root(t))
	if err != nil {
		t.Fatal(err)
	}
	// One-shot jobs run once (restart: "no"); long-running containers restart, and have a
	// healthcheck. Whoever needs a job waits for it to complete.
	jobs, awaited := map[string]bool{}, map[string]bool{}
	for name, s := range p.Services {
		jobs[name] = s.Restart == "" || s.Restart == types.RestartPolicyNo
		for dep, d := range s.DependsOn {
			if d.Condition == types.ServiceConditionCompletedSuccessfully {
				awaited[dep] = true
			}
		}
	}
	byProgram := map[string]string{} // program → its long-running compose service
	for name, s := range p.Services {
		if s.Build != nil {
			if _, err := os.Stat(filepath.Join(s.Build.Context, s.Build.Dockerfile)); err != nil {
				t.Errorf("%s: build.dockerfile: %v", name, err)
			}
		}
		if jobs[name] {
			if !awaited[name] {
				t.Errorf("%s: restart: no, but nothing waits for it to complete: a job nobody needs, or a server that should restart", name)
			}
			continue
		}
		if awaited[name] {
			t.Errorf("%s: awaited with service_completed_successfully but restarts (restart: %s): it would never complete", name, s.Restart)
		}
		if name == collectorService {
			// Its image has no shell or client to probe with; tracing is best-effort, so
			// nothing may wait for it to be healthy (checkComposeTracing).
		} else if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) == 0 {
			t.Errorf("%s: no healthcheck (depends_on: service_healthy and `up --wait` need one)", name)
		} else if s.HealthCheck.Test[0] == "NONE" {
			t.Errorf("%s: healthcheck test NONE", name)
		}
		if prog := program(s.Image); progs[prog].Name != "" {
			if other, dup := byProgram[prog]; dup {
				t.Errorf("%s and %s both run %s", name, other, prog)
			}
			byProgram[prog] = name
		}
	}
	for name := range progs {
		if byProgram[name] == "" {
			t.Errorf("no long-running compose service runs %s", name)
		}
	}

	// Start order.
	deployables, err := checks.Deployables(root(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range deployables {
		name := byProgram[svc]
		s, ok := p.Services[name]
		if !ok {
			continue
		}
		wantDep(t, s, "postgres", types.ServiceConditionHealthy)
		wantDep(t, s, "redis", types.ServiceConditionHealthy)
		migrated := false
		for dep, d := range s.DependsOn {
			j := p.Services[dep]
			if jobs[dep] && d.Condition == types.ServiceConditionCompletedSuccessfully && program(j.Image) == svc && slices.Equal(j.Command, []string{"migrate"}) {
				migrated = true
				wantDep(t, j, "postgres", types.ServiceConditionHealthy)
			}
		}
		if !migrated {
			t.Errorf("%s: does not wait for a `%s migrate` job to complete (depends_on … condition: service_completed_successfully)", name, svc)
		}
	}
	if gw, ok := p.Services[byProgram["gateway"]]; ok {
		wantDep(t, gw, "redis", types.ServiceConditionHealthy)
		for _, svc := range services {
			wantDep(t, gw, byProgram[svc], types.ServiceConditionHealthy)
		}
	}

	// Environment: every container that runs an Accrue program, jobs included.
	for name, s := range p.Services {
		prog, ok := progs[program(s.Image)]
		if !ok {
			continue
		}
		env := map[string]string{}
		for k, v := range s.Environment {
			if v != nil {
				env[k] = *v
			}
		}
		for _, problem := range envProblems(prog, env) {
			t.Errorf("%s (%s): %s", name, prog.Name, problem)
		}
		for _, problem := range roleProblems(env, slices.Equal(s.Command, []string{"migrate"})) {
			t.Errorf("%s (%s): %s", name, prog.Name, problem)
		}
		// Upstream addresses name the compose service of that program, on the port it listens on.
		for other := range progs {
			addr, ok := env["ACCRUE_"+strings.ToUpper(other)+"_ADDR"]
			if !ok {
				continue
			}
			host, port, err := net.SplitHostPort(addr)
			target := p.Services[byProgram[other]]
			listen := ""
			if v := target.Environment["ACCRUE_GRPC_ADDR"]; v != nil {
				listen = *v
			}
			if err != nil || host != byProgram[other] || !strings.HasSuffix(listen, ":"+port) {
				t.Errorf("%s: ACCRUE_%s_ADDR=%s, but %s is compose service %q listening on %q", name, strings.ToUpper(other), addr, other, byProgram[other], listen)
			}
		}
		// One database per service, and it is the service's own.
		if dsn, ok := env["ACCRUE_DATABASE_URL"]; ok {
			u, err := url.Parse(dsn)
			if err != nil || strings.TrimPrefix(u.Path, "/") != "accrue_"+prog.Name {
				t.Errorf("%s: ACCRUE_DATABASE_URL names database %q, want accrue_%s", name, u.Path, prog.Name)
			}
		}
	}

	// Postgres creates every service's database on first start.
	pg, ok := p.Services["postgres"]
	if !ok {
		t.Fatal("no postgres service")
	}
	created := map[string]bool{}
	for _, v := range pg.Volumes {
		if v.Type != types.VolumeTypeBind || !strings.HasPrefix(v.Target, "/docker-entrypoint-initdb.d") {
			continue
		}
		b, err := os.ReadFile(v.Source)
		if err != nil {
			t.Errorf("postgres: init script %s: %v", v.Source, err)
			continue
		}
		for _, m := range regexp.MustCompile(`(?i)CREATE\s+DATABASE\s+"?(\w+)`).FindAllStringSubmatch(string(b), -1) {
			created[m[1]] = true
		}
	}
	for _, svc := range services {
		if !created["accrue_"+svc] {
			t.Errorf("postgres: no init script creates database accrue_%s", svc)
		}
	}

	// Redis keeps the streams across restarts.
	if r, ok := p.Services["redis"]; !ok {
		t.Error("no redis service")
	} else if !strings.Contains(strings.Join(r.Command, " "), "--appendonly yes") {
		t.Errorf("redis: command %v does not turn on AOF persistence (--appendonly yes)", r.Command)
	}
}

func wantDep(t *testing.T, s types.ServiceConfig, dep, condition string) {
	t.Helper()
	if d, ok := s.DependsOn[dep]; !ok || d.Condition != condition {
		t.Errorf("%s: depends_on %s condition %q, want %s", s.Name, dep, d.Condition, condition)
	}
}

// envProblems compares the variables set for a program with what its code reads.
func envProblems(p checks.Program, env map[string]string) []string {
	var out []string
	for _, k := range p.Required() {
		if strings.TrimSpace(env[k]) == "" {
			v := p.Env[k]
			out = append(out, fmt.Sprintf("%s is not set, and %s needs it: %s (%s)", k, p.Name, v.Why, v.Pos))
		}
	}
	for _, group := range checks.ExactlyOne {
		var set []string
		for _, k := range group {
			if _, reads := p.Env[k]; reads && strings.TrimSpace(env[k]) != "" {
				set = append(set, k)
			}
		}
		if _, reads := p.Env[group[0]]; reads && len(set) != 1 {
			out = append(out, fmt.Sprintf("set exactly one of %v (set: %v)", group, set))
		}
	}
	for k := range env {
		if _, reads := p.Env[k]; strings.HasPrefix(k, "ACCRUE_") && !reads {
			out = append(out, fmt.Sprintf("%s is set, but %s does not read it (a typo, or a setting the code dropped)", k, p.Name))
		}
	}
	slices.Sort(out)
	return out
}
