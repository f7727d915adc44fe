// Command errdoc writes docs/errors.md: every error reason Accrue returns, with its gRPC code,
// HTTP status, meaning and the RPCs and routes that return it, read from the code itself.
//
// It type-checks the services, the gateway and the platform (go/packages), finds every place an
// error gets a reason — fault.New / fault.Invalidf and fault.Error literals (the code comes from
// the fault kind through grpcx's kindCodes table), and the gateway's problem answers (their HTTP
// status) — and follows references and interface calls from each RPC's implementation (found
// from the contracts in proto/) to the reasons it can reach. The HTTP status is grpc-gateway's
// mapping of the code, overridden by the gateway's statusByReason. `make generate` runs it and
// `make check-generated` fails when the committed file is stale.
//
//	errdoc [-root .] [-o docs/errors.md]
package main

import (
	"flag"
	"fmt"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/tools/go/packages"
)

func main() {
	root := flag.String("root", ".", "repository root (holds go.work and proto/)")
	out := flag.String("o", "docs/errors.md", "file to write, relative to the root")
	flag.Parse()
	if err := run(*root, *out); err != nil {
		fmt.Fprintln(os.Stderr, "errdoc:", err)
		os.Exit(1)
	}
}

func run(root, out string) error {
	fset := token.NewFileSet()
	cfg := &packages.Config{Dir: root, Fset: fset,
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo | packages.NeedImports}
	pkgs, err := packages.Load(cfg, "./services/customer/...", "./services/project/...", "./services/resource/...",
		"./services/timeexpense/...", "./services/billing/...", "./gateway/...", "./internal/platform/...")
	if err != nil {
		return err
	}
	var ourPkgs []*packages.Package
	for _, p := range pkgs {
		if len(p.Errors) > 0 {
			return fmt.Errorf("%s: %v", p.PkgPath, p.Errors[0])
		}
		if strings.HasSuffix(p.PkgPath, "test") || strings.Contains(p.PkgPath, "/pgtest") || strings.Contains(p.PkgPath, "/redistest") {
			continue // test helpers return no API errors
		}
		ourPkgs = append(ourPkgs, p)
	}
	pr := scan(fset, ourPkgs)
	rpcs, err := readRPCs(root)
	if err != nil {
		return err
	}
	d := &doc{pr: pr, root: root, byReason: map[string]*entry{}}
	for _, r := range rpcs {
		impl := pr.implementation(r)
		if impl == nil {
			return fmt.Errorf("no Go method serves %s.%s (%s)", r.service, r.name, r.request)
		}
		d.rpcs = append(d.rpcs, r)
		for reason, sites := range pr.reasonsOf(pr.reach(nil, impl)) {
			d.entry(reason, sites).rpcs[r.service+"."+r.name] = r
		}
	}
	every := lookupFunc(ourPkgs, "internal/platform/grpcx", "NewServer")
	hooks := lookupMethod(ourPkgs, "gateway/internal/webhook", "Receiver", "Handle")
	gw := lookupFunc(ourPkgs, "gateway/internal/gateway", "New")
	if every == nil || hooks == nil || gw == nil {
		return fmt.Errorf("grpcx.NewServer, webhook.Receiver.Handle or gateway.New not found")
	}
	for reason, sites := range pr.reasonsOf(pr.reach(nil, every)) {
		d.entry(reason, sites).every = true
	}
	// The webhook routes: the receiver and the translators (the gateway's route table). The REST
	// routes: everything the gateway's constructor reaches except those.
	routes := lookupFunc(ourPkgs, "gateway/internal/gateway", "webhookRoutes")
	newReceiver := lookupFunc(ourPkgs, "gateway/internal/webhook", "NewReceiver")
	if routes == nil || newReceiver == nil {
		return fmt.Errorf("gateway.webhookRoutes or webhook.NewReceiver not found")
	}
	for reason, sites := range pr.reasonsOf(pr.reach(nil, hooks, routes)) {
		d.entry(reason, sites).webhooks = true
	}
	for reason, sites := range pr.reasonsOf(pr.reach(map[types.Object]bool{hooks: true, routes: true, newReceiver: true}, gw)) {
		d.entry(reason, sites).gateway = true
	}
	// Every reason is listed, with the packages that make it; those no API call reaches (event
	// consumers, background work) are said to be so.
	for o, sites := range pr.sites {
		for _, s := range sites {
			e := d.entry(s.reason, []site{s})
			if e.defined == nil {
				e.defined = map[string]bool{}
			}
			e.defined[pkgLabel(o)] = true
		}
	}
	text := d.render()
	if !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	return os.WriteFile(out, []byte(text), 0o644)
}

func pkgLabel(o types.Object) string {
	return strings.TrimPrefix(o.Pkg().Path(), Module)
}

func lookupFunc(pkgs []*packages.Package, suffix, name string) types.Object {
	for _, p := range pkgs {
		if strings.HasSuffix(p.PkgPath, suffix) {
			return p.Types.Scope().Lookup(name)
		}
	}
	return nil
}

func lookupMethod(pkgs []*packages.Package, suffix, typ, name string) types.Object {
	tn := lookupFunc(pkgs, suffix, typ)
	if tn == nil {
		return nil
	}
	sel := types.NewMethodSet(types.NewPointer(tn.Type())).Lookup(tn.Pkg(), name)
	if sel == nil {
		return nil
	}
	return sel.Obj()
}
