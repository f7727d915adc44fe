package checks

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Metric is a Prometheus metric the code registers: its type (counter, gauge, histogram,
// summary), its label names and where it is defined.
type Metric struct {
	Name   string
	Type   string
	Labels []string
	Pos    string
}

// Series returns the names of the series a metric exposes: a histogram's _bucket, _sum and
// _count (its bare name too, for native histograms), a summary's _sum and _count.
func (m Metric) Series() []string {
	switch m.Type {
	case "histogram":
		return []string{m.Name, m.Name + "_bucket", m.Name + "_sum", m.Name + "_count"}
	case "summary":
		return []string{m.Name, m.Name + "_sum", m.Name + "_count"}
	}
	return []string{m.Name}
}

// constructors are the client_golang functions whose first argument is the metric's options
// and, for the Vec forms, whose second is the label names.
var constructors = map[string]string{
	"NewCounter": "counter", "NewCounterVec": "counter", "NewGauge": "gauge", "NewGaugeVec": "gauge",
	"NewHistogram": "histogram", "NewHistogramVec": "histogram", "NewSummary": "summary", "NewSummaryVec": "summary",
}

// ExportedMetrics scans the Go code of the services, the platform and the gateway (tests
// excluded) for the metrics it registers with client_golang (prometheus.NewCounterVec(
// prometheus.CounterOpts{Name: "…"}, []string{…}) and the like). A name passed through a helper's
// parameter (func perGroup(name, help string) … Name: name …) is resolved at every call of the
// helper with a literal. A name built any other way is an error, so a metric cannot escape the
// check.
func ExportedMetrics(root string) (map[string]Metric, error) {
	type helper struct {
		typ    string
		labels []string
		param  int
		pos    string
	}
	out := map[string]Metric{}
	helpers := map[string]helper{} // function name → a metric constructor taking its name as parameter param
	var calls []struct {
		fn   string
		call *ast.CallExpr
		pos  string
	}
	var errs []string
	fset := token.NewFileSet()
	for _, dir := range []string{"internal/platform", "services", "gateway"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			rel := func(p token.Pos) string {
				pp := fset.Position(p)
				r, _ := filepath.Rel(root, pp.Filename)
				return fmt.Sprintf("%s:%d", r, pp.Line)
			}
			var enclosing *ast.FuncDecl
			ast.Inspect(f, func(n ast.Node) bool {
				if fd, ok := n.(*ast.FuncDecl); ok {
					enclosing = fd
				}
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					if id, ok := call.Fun.(*ast.Ident); ok {
						calls = append(calls, struct {
							fn   string
							call *ast.CallExpr
							pos  string
						}{id.Name, call, rel(call.Pos())})
					}
					return true
				}
				typ, ok := constructors[sel.Sel.Name]
				if x, isIdent := sel.X.(*ast.Ident); !ok || !isIdent || (x.Name != "prometheus" && x.Name != "promauto") || len(call.Args) == 0 {
					return true
				}
				opts, ok := call.Args[0].(*ast.CompositeLit)
				if !ok {
					errs = append(errs, rel(call.Pos())+": metric options are not a literal")
					return true
				}
				var labels []string
				if len(call.Args) > 1 {
					labels = stringLits(call.Args[1])
				}
				for _, el := range opts.Elts {
					kv, ok := el.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					key, _ := kv.Key.(*ast.Ident)
					if key == nil {
						continue
					}
					switch key.Name {
					case "Namespace", "Subsystem":
						errs = append(errs, rel(kv.Pos())+": "+key.Name+" is set: teach deploy/checks/metrics.go to join it")
					case "Name":
						switch v := kv.Value.(type) {
						case *ast.BasicLit:
							name, _ := strconv.Unquote(v.Value)
							out[name] = Metric{Name: name, Type: typ, Labels: labels, Pos: rel(v.Pos())}
						case *ast.Ident:
							i := paramIndex(enclosing, v.Name)
							if i < 0 {
								errs = append(errs, rel(v.Pos())+": metric name "+v.Name+" is not a literal nor a parameter")
								return true
							}
							helpers[enclosing.Name.Name] = helper{typ: typ, labels: labels, param: i, pos: rel(v.Pos())}
						default:
							errs = append(errs, rel(kv.Pos())+": metric name is built at run time")
						}
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for _, c := range calls {
		h, ok := helpers[c.fn]
		if !ok || h.param >= len(c.call.Args) {
			continue
		}
		lit, ok := c.call.Args[h.param].(*ast.BasicLit)
		if !ok {
			errs = append(errs, c.pos+": "+c.fn+" is called with a metric name that is not a literal")
			continue
		}
		name, _ := strconv.Unquote(lit.Value)
		out[name] = Metric{Name: name, Type: h.typ, Labels: h.labels, Pos: c.pos}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return nil, fmt.Errorf("metrics: %s", strings.Join(errs, "; "))
	}
	return out, nil
}

// paramIndex returns the position of parameter name in fd's signature (-1 when absent).
func paramIndex(fd *ast.FuncDecl, name string) int {
	if fd == nil {
		return -1
	}
	i := 0
	for _, field := range fd.Type.Params.List {
		for _, n := range field.Names {
			if n.Name == name {
				return i
			}
			i++
		}
	}
	return -1
}

// stringLits returns the string literals of a []string{…} literal.
func stringLits(e ast.Expr) []string {
	cl, ok := e.(*ast.CompositeLit)
	if !ok {
		return nil
	}
	var out []string
	for _, el := range cl.Elts {
		if lit, ok := el.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			s, _ := strconv.Unquote(lit.Value)
			out = append(out, s)
		}
	}
	return out
}
