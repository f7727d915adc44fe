package main

import (
	"go/types"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// rpc is one RPC of the contracts.
type rpc struct {
	domain, service, name, request string
	verb, path                     string
}

var (
	serviceRE = regexp.MustCompile(`(?m)^service (\w+) \{`)
	rpcRE     = regexp.MustCompile(`(?m)^  rpc (\w+)\((\w+)\)`)
	httpRE    = regexp.MustCompile(`(get|post|put|patch|delete): "([^"]+)"`)
)

// readRPCs lists the RPCs declared under proto/accrue/<domain>/v1.
func readRPCs(root string) ([]rpc, error) {
	files, err := filepath.Glob(filepath.Join(root, "proto", "accrue", "*", "v1", "*.proto"))
	if err != nil {
		return nil, err
	}
	var out []rpc
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		text := string(b)
		domain := filepath.Base(filepath.Dir(filepath.Dir(f)))
		svcs := serviceRE.FindAllStringSubmatchIndex(text, -1)
		for i, s := range svcs {
			end := len(text)
			if i+1 < len(svcs) {
				end = svcs[i+1][0]
			}
			body := text[s[1]:end]
			if j := strings.Index(body, "\n}"); j >= 0 {
				body = body[:j]
			}
			rpcs := rpcRE.FindAllStringSubmatchIndex(body, -1)
			for k, r := range rpcs {
				rend := len(body)
				if k+1 < len(rpcs) {
					rend = rpcs[k+1][0]
				}
				x := rpc{domain: domain, service: text[s[2]:s[3]], name: body[r[2]:r[3]], request: body[r[4]:r[5]]}
				if m := httpRE.FindStringSubmatch(body[r[1]:rend]); m != nil {
					x.verb, x.path = strings.ToUpper(m[1]), m[2]
				}
				out = append(out, x)
			}
		}
	}
	return out, nil
}

// implementation finds the Go method serving r: a method named like the RPC, taking the RPC's
// request type (a streaming RPC's first parameter), in the domain's service module (the ops ExceptionService: in the platform).
func (pr *program) implementation(r rpc) *types.Func {
	prefix := Module + "services/" + r.domain + "/"
	switch r.domain {
	case "ops": // served by the platform (exceptions, insight, ...) in every service
		prefix = Module + "internal/platform/"
	case "webhooks": // SubscriptionService: the outbound webhook dispatcher, under gateway/
		prefix = Module + "gateway/internal/dispatch/"
	}
	var found *types.Func
	for fn := range pr.decls {
		sig := fn.Type().(*types.Signature)
		if fn.Name() != r.name || sig.Recv() == nil || !strings.HasPrefix(fn.Pkg().Path(), prefix) || sig.Params().Len() != 2 {
			continue
		}
		// A unary method takes (ctx, *Request); a server-streaming one (*Request, stream).
		ptr, ok := sig.Params().At(1).Type().(*types.Pointer)
		if p0, ok0 := sig.Params().At(0).Type().(*types.Pointer); ok0 {
			ptr, ok = p0, true
		}
		if !ok {
			continue
		}
		if n, ok := ptr.Elem().(*types.Named); ok && n.Obj().Name() == r.request {
			if found == nil || fn.Pkg().Path() < found.Pkg().Path() {
				found = fn
			}
		}
	}
	return found
}

// reach returns every object reachable from the roots through references and interface calls,
// not going through the objects in stop.
func (pr *program) reach(stop map[types.Object]bool, roots ...types.Object) map[types.Object]bool {
	seen := map[types.Object]bool{}
	queue := append([]types.Object(nil), roots...)
	for len(queue) > 0 {
		o := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if o == nil || seen[o] || stop[o] {
			continue
		}
		seen[o] = true
		queue = append(queue, pr.refs[o]...)
		if fn, ok := o.(*types.Func); ok {
			queue = append(queue, pr.dispatch(fn)...)
		}
	}
	return seen
}

// dispatch returns the concrete methods an interface method may call (every named type of our
// packages that implements the interface).
func (pr *program) dispatch(fn *types.Func) []types.Object {
	if out, ok := pr.impls[fn]; ok {
		return out
	}
	var out []types.Object
	sig := fn.Type().(*types.Signature)
	if sig.Recv() != nil && types.IsInterface(sig.Recv().Type()) {
		iface, _ := sig.Recv().Type().Underlying().(*types.Interface)
		for _, n := range pr.named {
			for _, t := range []types.Type{n, types.NewPointer(n)} {
				if iface == nil || !types.Implements(t, iface) {
					continue
				}
				if sel := types.NewMethodSet(t).Lookup(fn.Pkg(), fn.Name()); sel != nil {
					out = append(out, sel.Obj())
				}
				break
			}
		}
	}
	pr.impls[fn] = out
	return out
}

// reasonsOf collects the sites of the reachable objects, by reason.
func (pr *program) reasonsOf(objs map[types.Object]bool) map[string][]site {
	out := map[string][]site{}
	for o := range objs {
		for _, s := range pr.sites[o] {
			out[s.reason] = append(out[s.reason], s)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
