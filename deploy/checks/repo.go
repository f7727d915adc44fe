package checks

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ExactlyOne lists groups of variables of which a program needs exactly one: auth.Config.Validate
// refuses both a JWKS file and a JWKS URL, and neither. Programs checks that whoever reads one
// member reads them all, so a renamed variable breaks the checks instead of passing them.
var ExactlyOne = [][]string{{"ACCRUE_JWKS_FILE", "ACCRUE_JWKS_URL"}}

// FindRoot returns the repository root: the nearest directory above start holding go.work.
func FindRoot(start string) (string, error) {
	dir, err := filepath.Abs(start)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.work above " + start)
		}
		dir = parent
	}
}

// Services returns the domain services: every services/<name> with a main in cmd/<name>.
func Services(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "services"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(root, "services", e.Name(), "cmd", e.Name(), "main.go")); e.IsDir() && err == nil {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, errors.New("no services under " + root)
	}
	return out, nil
}

// Dispatcher is the outbound webhook dispatcher (gateway/cmd/dispatcher): deployed like a service
// (its own image, database, migration Job, event key) though its code lives in the gateway module.
const Dispatcher = "dispatcher"

// Deployables returns the programs deployed the way a service is: the domain services and the
// dispatcher. Each has its own image, database (migration Job), health check probes, event key
// and a Deployment in every overlay.
func Deployables(root string) ([]string, error) {
	services, err := Services(root)
	if err != nil {
		return nil, err
	}
	return append(services, Dispatcher), nil
}

// Programs scans every deployable program, the services, the gateway and the dispatcher, by name. The gateway's
// upstream addresses ("ACCRUE_"+upper(s)+"_ADDR" for s in gateway.Services) are expanded; any
// other key built at run time is an error until this function learns to expand it.
func Programs(root string) (map[string]Program, error) {
	services, err := Services(root)
	if err != nil {
		return nil, err
	}
	out := map[string]Program{}
	for _, s := range services {
		p, err := ScanProgram(root, s, filepath.Join("services", s, "cmd", s))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s, err)
		}
		out[s] = p
	}
	gw, err := ScanProgram(root, "gateway", "gateway/cmd/gateway")
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	upstreams, err := StringList(filepath.Join(root, "gateway/internal/gateway"), "Services")
	if err != nil {
		return nil, err
	}
	for i, u := range upstreams {
		upstreams[i] = strings.ToUpper(u)
	}
	gw.Expand("ACCRUE_*_ADDR", upstreams)
	out["gateway"] = gw
	disp, err := ScanProgram(root, Dispatcher, "gateway/cmd/dispatcher")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Dispatcher, err)
	}
	out[Dispatcher] = disp
	var errs []error
	for name, p := range out {
		for pat, k := range p.Keys {
			errs = append(errs, fmt.Errorf("%s: %s builds the key %s at run time: expand it in deploy/checks/repo.go", name, k.Pos, pat))
		}
		for _, group := range ExactlyOne {
			n := 0
			for _, k := range group {
				if _, ok := p.Env[k]; ok {
					n++
				}
			}
			if n != 0 && n != len(group) {
				errs = append(errs, fmt.Errorf("%s reads only some of %v: update checks.ExactlyOne", name, group))
			}
		}
	}
	return out, errors.Join(errs...)
}
