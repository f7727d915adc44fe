package main

import (
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"regexp"
	"strings"

	"golang.org/x/tools/go/packages"
)

// Module is the import path prefix of Accrue's own code.
const Module = "github.com/accrue/accrue/"

const faultPkg = Module + "internal/platform/fault"

// reasonRE is a reason's shape: UPPER_SNAKE (INTERNAL has no underscore). Only strings in reason
// positions are read, so a plain upper-case word elsewhere is not taken for one.
var reasonRE = regexp.MustCompile(`^([A-Z][A-Z0-9]*(_[A-Z0-9]+)+|[A-Z]{4,})$`)

// site is one place that makes an error with a reason.
type site struct {
	reason  string
	code    string // canonical gRPC code name (INVALID_ARGUMENT); "" when only an HTTP status is known
	http    int    // HTTP status when the site states one (gateway problems)
	message string
	pos     token.Position
}

// program is everything the scan learned.
type program struct {
	fset *token.FileSet
	pkgs []*packages.Package
	// sites by the function (or package-level variable) whose code makes them.
	sites map[types.Object][]site
	// refs: the functions and package-level variables each function or variable refers to.
	refs map[types.Object][]types.Object
	// decls: every function declared in our packages, by object.
	decls map[*types.Func]*ast.FuncDecl
	// named non-interface types of our packages, for interface dispatch.
	named []*types.Named
	// kindCodes maps fault kinds to gRPC code names (read from grpcx's kindCodes).
	kindCodes map[string]string
	// statusByReason are the gateway's HTTP overrides (read from its statusByReason).
	statusByReason map[string]int
	impls          map[*types.Func][]types.Object
}

func ours(p *types.Package) bool {
	return p != nil && strings.HasPrefix(p.Path(), Module) && !strings.HasPrefix(p.Path(), Module+"gen/")
}

func scan(fset *token.FileSet, pkgs []*packages.Package) *program {
	pr := &program{fset: fset, pkgs: pkgs, sites: map[types.Object][]site{}, refs: map[types.Object][]types.Object{},
		decls: map[*types.Func]*ast.FuncDecl{}, kindCodes: map[string]string{}, statusByReason: map[string]int{},
		impls: map[*types.Func][]types.Object{}}
	for _, p := range pkgs {
		for _, name := range p.Types.Scope().Names() {
			if tn, ok := p.Types.Scope().Lookup(name).(*types.TypeName); ok {
				if n, ok := tn.Type().(*types.Named); ok && !types.IsInterface(n) && n.TypeParams() == nil {
					pr.named = append(pr.named, n)
				}
			}
		}
		for _, f := range p.Syntax {
			for _, d := range f.Decls {
				switch d := d.(type) {
				case *ast.FuncDecl:
					fn, _ := p.TypesInfo.Defs[d.Name].(*types.Func)
					if fn == nil || d.Body == nil {
						continue
					}
					pr.decls[fn] = d
					pr.walk(p, fn, d.Body)
				case *ast.GenDecl:
					for _, s := range d.Specs {
						vs, ok := s.(*ast.ValueSpec)
						if !ok || d.Tok != token.VAR {
							continue
						}
						for i, n := range vs.Names {
							obj := p.TypesInfo.Defs[n]
							if obj == nil {
								continue
							}
							if i < len(vs.Values) {
								pr.walk(p, obj, vs.Values[i])
							} else if len(vs.Values) == 1 {
								pr.walk(p, obj, vs.Values[0])
							}
							pr.readTables(p, n.Name, vs, i)
						}
					}
				}
			}
		}
	}
	return pr
}

// readTables reads grpcx's kindCodes and the gateway's statusByReason.
func (pr *program) readTables(p *packages.Package, name string, vs *ast.ValueSpec, i int) {
	if i >= len(vs.Values) {
		return
	}
	lit, ok := vs.Values[i].(*ast.CompositeLit)
	if !ok {
		return
	}
	switch {
	case name == "kindCodes" && strings.HasSuffix(p.PkgPath, "/platform/grpcx"):
		for _, e := range lit.Elts {
			kv := e.(*ast.KeyValueExpr)
			pr.kindCodes[constName(p, kv.Key)] = codeName(constName(p, kv.Value))
		}
	case name == "statusByReason" && strings.HasSuffix(p.PkgPath, "/gateway/internal/gateway"):
		for _, e := range lit.Elts {
			kv := e.(*ast.KeyValueExpr)
			if r, ok := constString(p, kv.Key); ok {
				if n, ok := constInt(p, kv.Value); ok {
					pr.statusByReason[r] = n
				}
			}
		}
	}
}

// walk records the reason sites and the references of the code of owner found in n.
func (pr *program) walk(p *packages.Package, owner types.Object, n ast.Node) {
	var stack []ast.Node
	ast.Inspect(n, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		var parent ast.Node
		for i := len(stack) - 1; i >= 0; i-- {
			if u, ok := stack[i].(*ast.UnaryExpr); ok && u.Op == token.AND {
				continue
			}
			parent = stack[i]
			break
		}
		stack = append(stack, n)
		switch n := n.(type) {
		case *ast.Ident:
			switch obj := p.TypesInfo.Uses[n].(type) {
			case *types.Func:
				if ours(obj.Pkg()) {
					pr.refs[owner] = append(pr.refs[owner], obj.Origin())
				}
			case *types.Var:
				if ours(obj.Pkg()) && obj.Parent() == obj.Pkg().Scope() {
					pr.refs[owner] = append(pr.refs[owner], obj)
				}
			}
		case *ast.CallExpr:
			pr.callSite(p, owner, n)
		case *ast.CompositeLit:
			pr.literalSite(p, owner, n, parent)
		case *ast.AssignStmt:
			pr.assignSite(p, owner, n)
		}
		return true
	})
}

func (pr *program) add(owner types.Object, s site) {
	if !reasonRE.MatchString(s.reason) {
		return
	}
	pr.sites[owner] = append(pr.sites[owner], s)
}

// callSite: fault.New(kind, reason, format, ...), fault.Invalidf(reason, field, format, ...), and
// any call with a constant reason next to a constant HTTP status or gRPC code (the gateway's
// problem writers).
func (pr *program) callSite(p *packages.Package, owner types.Object, c *ast.CallExpr) {
	if fn := calledFunc(p, c); fn != nil && fn.Pkg() != nil && fn.Pkg().Path() == faultPkg {
		switch {
		case fn.Name() == "New" && len(c.Args) >= 3:
			if r, ok := constString(p, c.Args[1]); ok {
				pr.add(owner, site{reason: r, code: pr.kindCode(constName(p, c.Args[0])), message: messageOf(p, c.Args[2]), pos: pr.fset.Position(c.Pos())})
			}
		case fn.Name() == "Invalidf" && len(c.Args) >= 3:
			if r, ok := constString(p, c.Args[0]); ok {
				pr.add(owner, site{reason: r, code: "kind:Invalid", message: messageOf(p, c.Args[2]), pos: pr.fset.Position(c.Pos())})
			}
		}
		return
	}
	if !strings.Contains(p.PkgPath, "/gateway/") {
		return
	}
	var reason, msg string
	status := 0
	for _, a := range c.Args {
		if s, ok := constString(p, a); ok && reason == "" && reasonRE.MatchString(s) {
			reason = s
		} else if reason != "" && msg == "" {
			msg = messageOf(p, a)
		}
		if n, ok := httpStatus(p, a); ok {
			status = n
		}
	}
	if reason != "" && status != 0 {
		pr.add(owner, site{reason: reason, http: status, message: msg, pos: pr.fset.Position(c.Pos())})
	}
}

// literalSite: fault.Error{Kind: …, Reason: …} (a code from the enclosing call when no Kind), and
// the gateway's Problem{Status: …, Reason: …}.
func (pr *program) literalSite(p *packages.Package, owner types.Object, lit *ast.CompositeLit, parent ast.Node) {
	t := p.TypesInfo.TypeOf(lit)
	if t == nil {
		return
	}
	named, _ := types.Unalias(t).(*types.Named)
	if named == nil || !ours(named.Obj().Pkg()) {
		return
	}
	isFault := named.Obj().Pkg().Path() == faultPkg && named.Obj().Name() == "Error"
	isProblem := named.Obj().Name() == "Problem" && strings.Contains(named.Obj().Pkg().Path(), "/gateway/")
	if !isFault && !isProblem {
		return
	}
	s := site{pos: pr.fset.Position(lit.Pos())}
	kind := ""
	for _, e := range lit.Elts {
		kv, ok := e.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		switch key := kv.Key.(*ast.Ident); key.Name {
		case "Reason":
			s.reason, _ = constString(p, kv.Value)
		case "Message", "Detail":
			s.message = messageOf(p, kv.Value)
		case "Kind":
			kind = constName(p, kv.Value)
		case "Status":
			s.http, _ = constInt(p, kv.Value)
		}
	}
	if isFault {
		s.code = pr.kindCode(kind)
		if kind == "" {
			s.code = "INTERNAL"
			// grpcx builds some faults without a kind and passes the code beside them.
			if call, ok := parent.(*ast.CallExpr); ok {
				for _, a := range call.Args {
					if n := constName(p, a); strings.HasPrefix(n, "codes.") {
						s.code = codeName(n)
					}
				}
			}
		}
	}
	pr.add(owner, s)
}

// assignSite: the gateway's `p.Reason = "X"` and `reason := "X"` (with a Status in the same
// statement when there is one).
func (pr *program) assignSite(p *packages.Package, owner types.Object, a *ast.AssignStmt) {
	if !strings.Contains(p.PkgPath, "/gateway/") || len(a.Lhs) != len(a.Rhs) {
		return
	}
	var s site
	for i, l := range a.Lhs {
		name := ""
		switch l := l.(type) {
		case *ast.SelectorExpr:
			name = l.Sel.Name
		case *ast.Ident:
			name = l.Name
		}
		switch strings.ToLower(name) {
		case "reason":
			s.reason, _ = constString(p, a.Rhs[i])
		case "status":
			s.http, _ = constInt(p, a.Rhs[i])
		case "detail":
			s.message = messageOf(p, a.Rhs[i])
		}
	}
	if s.reason != "" {
		s.pos = pr.fset.Position(a.Pos())
		pr.add(owner, s)
	}
}

func (pr *program) kindCode(kind string) string {
	kind = strings.TrimPrefix(kind, "fault.")
	if kind == "" {
		return ""
	}
	return "kind:" + kind
}

func calledFunc(p *packages.Package, c *ast.CallExpr) *types.Func {
	var id *ast.Ident
	switch f := c.Fun.(type) {
	case *ast.Ident:
		id = f
	case *ast.SelectorExpr:
		id = f.Sel
	}
	if id == nil {
		return nil
	}
	fn, _ := p.TypesInfo.Uses[id].(*types.Func)
	return fn
}

func constString(p *packages.Package, e ast.Expr) (string, bool) {
	tv, ok := p.TypesInfo.Types[e]
	if !ok || tv.Value == nil || tv.Value.Kind() != constant.String {
		return "", false
	}
	return constant.StringVal(tv.Value), true
}

func constInt(p *packages.Package, e ast.Expr) (int, bool) {
	tv, ok := p.TypesInfo.Types[e]
	if !ok || tv.Value == nil || tv.Value.Kind() != constant.Int {
		return 0, false
	}
	n, ok := constant.Int64Val(tv.Value)
	return int(n), ok
}

// httpStatus reports a net/http Status constant.
func httpStatus(p *packages.Package, e ast.Expr) (int, bool) {
	if n := constName(p, e); strings.HasPrefix(n, "http.Status") {
		return constInt(p, e)
	}
	return 0, false
}

// constName is "pkg.Name" of a named constant expression (fault.Invalid, codes.NotFound).
func constName(p *packages.Package, e ast.Expr) string {
	var id *ast.Ident
	switch e := e.(type) {
	case *ast.Ident:
		id = e
	case *ast.SelectorExpr:
		id = e.Sel
	}
	if id == nil {
		return ""
	}
	c, ok := p.TypesInfo.Uses[id].(*types.Const)
	if !ok || c.Pkg() == nil {
		return ""
	}
	return c.Pkg().Name() + "." + c.Name()
}

// codeName turns codes.InvalidArgument into INVALID_ARGUMENT.
func codeName(c string) string {
	c = strings.TrimPrefix(c, "codes.")
	var b strings.Builder
	for i, r := range c {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

// messageOf is the text of a message expression: a constant, or a concatenation whose
// non-constant parts become "…" (a format's verbs are replaced when the doc is written).
func messageOf(p *packages.Package, e ast.Expr) string {
	if s, ok := constString(p, e); ok {
		return s
	}
	switch e := e.(type) {
	case *ast.BinaryExpr:
		if e.Op == token.ADD {
			return messageOf(p, e.X) + messageOf(p, e.Y)
		}
	case *ast.ParenExpr:
		return messageOf(p, e.X)
	}
	return "…"
}
