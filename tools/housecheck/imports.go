package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

const repo = "github.com/accrue/accrue/"

// listed is what `go list -json` says of a package.
type listed struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
	Error        *struct{ Err string }
}

// checkImports lists every package of every module of the workspace at root and returns one
// line per forbidden import: "package → import: rule".
func checkImports(root string) ([]string, error) {
	out, err := goCmd(root, "list", "-m", "-f", "{{.Dir}}")
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, dir := range strings.Fields(string(out)) {
		if strings.HasSuffix(filepath.ToSlash(dir), "/gen/go") {
			continue // generated code
		}
		pkgs, err := listPackages(dir)
		if err != nil {
			return nil, err
		}
		for _, p := range pkgs {
			if p.Error != nil {
				problems = append(problems, fmt.Sprintf("%s: go list: %s", short(p.ImportPath), p.Error.Err))
			}
			problems = append(problems, packageViolations(p)...)
		}
	}
	slices.Sort(problems)
	return slices.Compact(problems), nil
}

func listPackages(dir string) ([]listed, error) {
	out, err := goCmd(dir, "list", "-e", "-json=ImportPath,Imports,TestImports,XTestImports,Error", "./...")
	if err != nil {
		return nil, err
	}
	var pkgs []listed
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			return pkgs, nil
		} else if err != nil {
			return nil, fmt.Errorf("go list in %s: %w", dir, err)
		}
		pkgs = append(pkgs, p)
	}
}

func goCmd(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s (in %s): %v\n%s", strings.Join(args, " "), dir, err, stderr.String())
	}
	return out, nil
}

// packageViolations applies the rules to the imports of p: the layer rules to its production
// code (tests may build a store or a pool to test against real Postgres), the rules between
// modules to its tests too.
func packageViolations(p listed) []string {
	var out []string
	for _, imp := range p.Imports {
		if rule := violation(p.ImportPath, imp, false); rule != "" {
			out = append(out, fmt.Sprintf("%s → %s: %s", short(p.ImportPath), short(imp), rule))
		}
	}
	for _, imp := range slices.Concat(p.TestImports, p.XTestImports) {
		if rule := violation(p.ImportPath, imp, true); rule != "" {
			out = append(out, fmt.Sprintf("%s (tests) → %s: %s", short(p.ImportPath), short(imp), rule))
		}
	}
	return out
}

func short(p string) string { return strings.TrimPrefix(p, repo) }

// service returns the service a package path belongs to and its layer: the first folder under
// internal/ ("" for cmd/ and the module root).
func service(p string) (svc, layer string, ok bool) {
	rest, ok := strings.CutPrefix(p, repo+"services/")
	if !ok {
		return "", "", false
	}
	svc, rest, _ = strings.Cut(rest, "/")
	if in, ok := strings.CutPrefix(rest, "internal/"); ok {
		layer, _, _ = strings.Cut(in, "/")
	}
	return svc, layer, true
}

func under(imp, prefix string) bool { return imp == prefix || strings.HasPrefix(imp, prefix+"/") }

func isPgx(imp string) bool {
	return under(imp, "github.com/jackc/pgx") || under(imp, "github.com/jackc/pgx/v5")
}
func isGRPC(imp string) bool { return under(imp, "google.golang.org/grpc") }
func isGen(imp string) bool  { return under(imp, repo+"gen/go") }

// exposesPgx: platform packages whose API is pgx (a layer that may not import pgx may not reach
// it through them either).
func exposesPgx(imp string) bool {
	for _, p := range []string{"pg", "pgstore", "pgtest"} {
		if under(imp, repo+"internal/platform/"+p) {
			return true
		}
	}
	return false
}

// layers that are not domain packages.
var notDomain = []string{"", "app", "store", "wire", "grpcapi", "events"}

// violation names the rule pkg breaks by importing imp ("" when none).
func violation(pkg, imp string, test bool) string {
	impSvc, impLayer, impIsSvc := service(imp)
	switch {
	case under(pkg, repo+"internal/platform"):
		if impIsSvc {
			return "the platform imports a service"
		}
		return ""
	case under(pkg, repo+"gateway"):
		if impIsSvc {
			return "the gateway imports a service (it reaches them through their APIs)"
		}
		return ""
	case under(pkg, repo+"e2e"):
		if impIsSvc {
			return "e2e tests are black-box: they import no service"
		}
		return ""
	}
	svc, layer, ok := service(pkg)
	if !ok {
		return ""
	}
	if impIsSvc && impSvc != svc {
		return "a service imports another service (use its generated client)"
	}
	// Test code, and test-support packages named like the platform's (billingtest, like
	// servicetest), wire real stores and use cases: only the cross-service rule applies to them.
	if test || strings.HasSuffix(layer, "test") {
		return ""
	}
	own := impIsSvc && impSvc == svc
	pgxVia := ""
	if exposesPgx(imp) {
		pgxVia = " (through a platform package that exposes it)"
	}
	switch layer {
	case "app":
		switch {
		case isPgx(imp), exposesPgx(imp):
			return "an app package imports pgx" + pgxVia + ": declare a Store interface in app"
		case own && impLayer == "store":
			return "an app package imports the store: depend on the Store interface declared in app"
		}
	case "grpcapi", "events":
		switch {
		case isPgx(imp), exposesPgx(imp):
			return "a transport imports pgx" + pgxVia + ": translate, call one use case, translate"
		case own && impLayer == "store":
			return "a transport imports the store: call a use case"
		}
	case "store":
		switch {
		case isGen(imp):
			return "the store imports generated code: persist its own row format"
		case own && impLayer == "wire":
			return "the store imports wire: persist its own row format"
		}
	}
	if slices.Contains(notDomain, layer) {
		return ""
	}
	switch {
	case isPgx(imp), exposesPgx(imp):
		return "a domain package imports pgx" + pgxVia
	case isGRPC(imp):
		return "a domain package imports grpc"
	case isGen(imp):
		return "a domain package imports generated code (gen/go)"
	case own && slices.Contains(notDomain[1:], impLayer):
		return "a domain package imports " + impLayer
	}
	return ""
}
