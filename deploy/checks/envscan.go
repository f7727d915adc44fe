package checks

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// EnvVar is one ACCRUE_ variable a program reads.
type EnvVar struct {
	Name string
	// Required: the program cannot run in a container without it, because it is read with
	// config.Reader.Required or because its default is a loopback address (right for `make run`,
	// where everything shares one host, wrong in a container).
	Required bool
	Why      string // why it is required
	Pos      string // where it is first read, relative to the repository root
}

// Program is one binary and the variables it reads.
type Program struct {
	Name string             // customer, ..., gateway
	Dir  string             // its main package, relative to the repository root
	Env  map[string]EnvVar  // by name
	Keys map[string]Pattern // keys built at run time, by pattern (e.g. ACCRUE_*_ADDR)
}

// Pattern is an environment key assembled at run time, such as "ACCRUE_"+upper(s)+"_ADDR".
type Pattern struct {
	Pattern string // the literal parts joined by *
	EnvVar         // Required and Pos as for a literal key
}

// ServicePackage is the package whose LoadConfig and Main every service's main calls: a main
// that calls either reads the variables they read.
const ServicePackage = "github.com/accrue/accrue/internal/platform/service"

var (
	envKey   = regexp.MustCompile(`^ACCRUE_[A-Z0-9_]+$`)
	loopback = regexp.MustCompile(`(^|[/@\[])(127\.0\.0\.1|localhost|::1)([:\]/]|$)`)
)

// ScanProgram derives the variables the main package in dir (relative to root) reads, from the
// code: every call whose first argument is a string literal ACCRUE_... (config.Reader's String,
// Int, Duration, Bool, OneOf, Required, or os.Getenv), in the main package and, when the main
// calls service.LoadConfig or service.Main, in internal/platform/service. A key built by
// concatenation is returned as a Pattern for the caller to expand.
func ScanProgram(root, name, dir string) (Program, error) {
	p := Program{Name: name, Dir: dir, Env: map[string]EnvVar{}, Keys: map[string]Pattern{}}
	fset := token.NewFileSet()
	files, err := parseDir(fset, filepath.Join(root, dir))
	if err != nil {
		return p, err
	}
	if callsServicePackage(files) {
		svc, err := parseDir(fset, filepath.Join(root, "internal/platform/service"))
		if err != nil {
			return p, err
		}
		files = append(files, svc...)
	}
	s := &scan{fset: fset, root: root, files: files}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			if err == nil {
				err = s.call(&p, f, call)
			}
			return true
		})
	}
	return p, err
}

type scan struct {
	fset  *token.FileSet
	root  string
	files []*ast.File
}

func (s *scan) pos(n ast.Node) string {
	pos := s.fset.Position(n.Pos())
	rel, err := filepath.Rel(s.root, pos.Filename)
	if err != nil {
		rel = pos.Filename
	}
	return fmt.Sprintf("%s:%d", rel, pos.Line)
}

func (s *scan) call(p *Program, f *ast.File, call *ast.CallExpr) error {
	method := ""
	if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
		method = sel.Sel.Name
	}
	key, pattern := keyOf(call.Args[0])
	if key == "" && pattern == "" {
		return nil
	}
	v := EnvVar{Name: key, Pos: s.pos(call)}
	switch {
	case method == "Required":
		v.Required, v.Why = true, "read with Required"
	case method == "Getenv" || method == "LookupEnv" || len(call.Args) < 2:
	default:
		lits, err := s.literals(f, call.Args[1], map[ast.Node]bool{})
		if err != nil {
			return fmt.Errorf("%s: the default of %s%s: %w", v.Pos, key, pattern, err)
		}
		for _, l := range lits {
			if loopback.MatchString(l) {
				v.Required, v.Why = true, fmt.Sprintf("its default %s is a loopback address (%s)", types.ExprString(call.Args[1]), l)
				break
			}
		}
	}
	if pattern != "" {
		v.Name = pattern
		p.Keys[pattern] = merge(p.Keys[pattern].EnvVar, v).asPattern(pattern)
		return nil
	}
	p.Env[key] = merge(p.Env[key], v)
	return nil
}

func (v EnvVar) asPattern(p string) Pattern { return Pattern{Pattern: p, EnvVar: v} }

// merge keeps the first place a variable is read and whether any read requires it.
func merge(old, v EnvVar) EnvVar {
	if old.Name == "" {
		return v
	}
	if v.Required && !old.Required {
		old.Required, old.Why = true, v.Why+" ("+v.Pos+")"
	}
	return old
}

// keyOf returns the literal key, or the pattern of a concatenated one, starting with ACCRUE_.
func keyOf(e ast.Expr) (key, pattern string) {
	if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
		if v, err := strconv.Unquote(lit.Value); err == nil && envKey.MatchString(v) {
			return v, ""
		}
		return "", ""
	}
	bin, ok := e.(*ast.BinaryExpr)
	if !ok || bin.Op != token.ADD {
		return "", ""
	}
	var parts []string
	var flatten func(e ast.Expr)
	flatten = func(e ast.Expr) {
		if b, ok := e.(*ast.BinaryExpr); ok && b.Op == token.ADD {
			flatten(b.X)
			flatten(b.Y)
			return
		}
		if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			v, _ := strconv.Unquote(lit.Value)
			parts = append(parts, v)
			return
		}
		parts = append(parts, "*")
	}
	flatten(bin)
	pat := strings.Join(parts, "")
	if !strings.HasPrefix(pat, "ACCRUE_") || !regexp.MustCompile(`^[A-Z0-9_*]+$`).MatchString(pat) {
		return "", ""
	}
	return "", pat
}

// literals returns the string literals a default expression can evaluate to, following
// identifiers to their definitions and x.Field to the composite literals that set Field (how
// a main hands service.Defaults to LoadConfig). Constants of other packages count as non-loopback.
func (s *scan) literals(f *ast.File, e ast.Expr, seen map[ast.Node]bool) ([]string, error) {
	if e == nil || seen[e] {
		return nil, nil
	}
	seen[e] = true
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			v, err := strconv.Unquote(e.Value)
			return []string{v}, err
		}
		return nil, nil
	case *ast.ParenExpr:
		return s.literals(f, e.X, seen)
	case *ast.UnaryExpr:
		return s.literals(f, e.X, seen)
	case *ast.BinaryExpr:
		return s.all(f, seen, e.X, e.Y)
	case *ast.CallExpr: // conversions such as int64(x)
		return s.all(f, seen, e.Args...)
	case *ast.CompositeLit:
		var out []string
		for _, el := range e.Elts {
			if kv, ok := el.(*ast.KeyValueExpr); ok {
				el = kv.Value
			}
			l, err := s.literals(f, el, seen)
			if err != nil {
				return nil, err
			}
			out = append(out, l...)
		}
		return out, nil
	case *ast.IndexExpr:
		return s.literals(f, e.X, seen)
	case *ast.Ident:
		if e.Name == "true" || e.Name == "false" || e.Name == "nil" {
			return nil, nil
		}
		defs := s.definitions(e.Name)
		if len(defs) == 0 {
			return nil, fmt.Errorf("cannot find what %s is (teach deploy/checks/envscan.go)", e.Name)
		}
		return s.all(f, seen, defs...)
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok && imports(f, x.Name) {
			return nil, nil // another package's constant, e.g. time.Millisecond
		}
		vals := s.fieldValues(e.Sel.Name)
		if len(vals) == 0 {
			return nil, fmt.Errorf("cannot find a literal setting field %s (teach deploy/checks/envscan.go)", e.Sel.Name)
		}
		return s.all(f, seen, vals...)
	}
	return nil, fmt.Errorf("cannot evaluate a %T (teach deploy/checks/envscan.go)", e)
}

func (s *scan) all(f *ast.File, seen map[ast.Node]bool, es ...ast.Expr) ([]string, error) {
	var out []string
	for _, e := range es {
		l, err := s.literals(f, e, seen)
		if err != nil {
			return nil, err
		}
		out = append(out, l...)
	}
	return out, nil
}

// definitions returns the values assigned to name by var, const or := anywhere in the program.
func (s *scan) definitions(name string) []ast.Expr {
	var out []ast.Expr
	for _, f := range s.files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				for i, id := range n.Names {
					if id.Name == name && i < len(n.Values) {
						out = append(out, n.Values[i])
					}
				}
			case *ast.AssignStmt:
				for i, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok && id.Name == name && len(n.Lhs) == len(n.Rhs) {
						out = append(out, n.Rhs[i])
					}
				}
			}
			return true
		})
	}
	return out
}

// fieldValues returns the values composite literals give field, skipping values computed by a
// call (the Config literal LoadConfig fills from the reader is not a default).
func (s *scan) fieldValues(field string) []ast.Expr {
	var out []ast.Expr
	for _, f := range s.files {
		ast.Inspect(f, func(n ast.Node) bool {
			kv, ok := n.(*ast.KeyValueExpr)
			if !ok {
				return true
			}
			if id, ok := kv.Key.(*ast.Ident); ok && id.Name == field && !hasCall(kv.Value) {
				out = append(out, kv.Value)
			}
			return true
		})
	}
	return out
}

// Expand replaces a Pattern with the literal keys it stands for: its * becomes each of values.
func (p *Program) Expand(pattern string, values []string) {
	pt, ok := p.Keys[pattern]
	if !ok {
		return
	}
	for _, v := range values {
		k := strings.Replace(pattern, "*", v, 1)
		e := pt.EnvVar
		e.Name = k
		p.Env[k] = merge(p.Env[k], e)
	}
	delete(p.Keys, pattern)
}

// Required returns the names of the required variables, sorted.
func (p Program) Required() []string {
	var out []string
	for k, v := range p.Env {
		if v.Required {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
