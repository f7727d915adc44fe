package checks_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/yaml"

	"github.com/accrue/accrue/deploy/checks"
)

const (
	monitoringDir      = "deploy/k8s/components/monitoring"
	rulesFile          = monitoringDir + "/prometheusrule.yaml"
	dashboardFile      = monitoringDir + "/dashboards/accrue-overview.json"
	dashboardConfigMap = "accrue-grafana-dashboard"
)

// Series every Accrue process exposes besides its own metrics: the Go and process collectors
// that metrics.NewRegistry registers, and what Prometheus adds to every scrape.
var standardSeries = map[string][]string{
	"up":                            nil,
	"go_goroutines":                 nil,
	"process_resident_memory_bytes": nil,
	"process_cpu_seconds_total":     nil,
}

// Labels Prometheus attaches to every scraped series (the ServiceMonitor's target labels).
var targetLabels = []string{"job", "instance", "namespace", "pod", "service", "container", "endpoint"}

var promql = parser.NewParser(parser.Options{})

// TestAlertRulesUseExportedMetrics parses the alert rules with Prometheus's own rule parser
// (rulefmt: group and rule structure, PromQL, annotation templates) and checks that every
// metric and label their expressions select is one the code exports: a renamed metric or label
// would otherwise leave an alert that can never fire.
func TestAlertRulesUseExportedMetrics(t *testing.T) {
	t.Parallel()
	exported := exportedMetrics(t)
	raw, err := os.ReadFile(filepath.Join(root(t), rulesFile))
	if err != nil {
		t.Fatal(err)
	}
	groups, problems := ruleProblems(raw, exported)
	for _, p := range problems {
		t.Error(p)
	}
	alerts := map[string]bool{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			alerts[r.Alert] = true
		}
	}
	// What the alerts must cover (issue 19): stream lag, dead letters, outbox backlog,
	// exceptions opened, KPI thresholds, error rates, p99 latency.
	for _, want := range []string{"AccrueStreamLagHigh", "AccrueDeadLetters", "AccrueOutboxBacklog", "AccrueExceptionsOpened",
		"AccruePostingsParkedRateMissing", "AccrueGRPCErrorRate", "AccrueGatewayErrorRate", "AccrueGRPCLatencyP99", "AccrueGatewayLatencyP99"} {
		if !alerts[want] {
			t.Errorf("no alert %s in %s", want, rulesFile)
		}
	}
}

// TestDashboardUsesExportedMetrics checks every PromQL query of the Grafana dashboard (panel
// targets and template variables) the same way.
func TestDashboardUsesExportedMetrics(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join(root(t), dashboardFile))
	if err != nil {
		t.Fatal(err)
	}
	n, problems := dashboardProblems(raw, exportedMetrics(t))
	for _, p := range problems {
		t.Error(p)
	}
	if n < 10 {
		t.Errorf("the dashboard has %d queries; want its panels' queries", n)
	}
}

// The checks fail on what they exist to catch: a misspelled metric, a label the metric does not
// have, a grouping by a label no selected metric has, broken PromQL, a broken template, and a
// dashboard query of a metric the code does not export.
func TestMonitoringChecksCatchViolations(t *testing.T) {
	t.Parallel()
	exported := exportedMetrics(t)
	for _, tc := range []struct{ expr, want string }{
		{"accrue_stream_lagg > 0", "accrue_stream_lagg"},
		{`accrue_stream_lag{consumer="x"} > 0`, `label "consumer"`},
		{"sum by (tenant) (accrue_outbox_backlog) > 0", `"tenant"`},
		{"sum(rate(accrue_postings_total[5m]) > 0", "parse"},
		{"accrue_grpc_server_handling_seconds_bucket{le=\"1\"} > 0", ""},
	} {
		rules := fmt.Sprintf("groups:\n  - name: t\n    rules:\n      - alert: T\n        expr: %q\n", tc.expr)
		_, problems := ruleProblems([]byte(rules), exported)
		got := strings.Join(problems, "; ")
		if tc.want == "" && len(problems) != 0 || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("rule %q: problems %q, want one mentioning %q", tc.expr, got, tc.want)
		}
	}
	if _, problems := ruleProblems([]byte("groups:\n  - name: t\n    rules:\n      - alert: T\n        expr: up == 0\n        annotations:\n          summary: \"{{ $labels.job \"\n"), exported); len(problems) == 0 {
		t.Error("a broken annotation template passed")
	}
	dash := `{"panels":[{"type":"row","panels":[{"targets":[{"expr":"rate(accrue_postings_total{job=~\"$job\"}[$__rate_interval])"},
		{"expr":"accrue_ledger_balance"}]}]}]}`
	if _, problems := dashboardProblems([]byte(dash), exported); len(problems) != 1 || !strings.Contains(problems[0], "accrue_ledger_balance") {
		t.Errorf("dashboard problems %q, want one naming accrue_ledger_balance", problems)
	}
}

func exportedMetrics(t *testing.T) map[string]checks.Metric {
	t.Helper()
	m, err := checks.ExportedMetrics(root(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"accrue_stream_lag", "accrue_stream_dead_letters_total", "accrue_outbox_backlog", "accrue_grpc_server_handling_seconds"} {
		if _, ok := m[want]; !ok {
			t.Fatalf("the scan of the code found no %s (found %d metrics): fix checks.ExportedMetrics", want, len(m))
		}
	}
	return m
}

// ruleProblems parses a PrometheusRule (its spec) or a plain rule file and checks each rule's
// expression.
func ruleProblems(raw []byte, exported map[string]checks.Metric) (*rulefmt.RuleGroups, []string) {
	var obj struct {
		Kind string         `json:"kind"`
		Spec map[string]any `json:"spec"`
	}
	if err := yaml.Unmarshal(raw, &obj); err != nil {
		return nil, []string{err.Error()}
	}
	if obj.Kind == "PrometheusRule" {
		spec, err := yaml.Marshal(obj.Spec)
		if err != nil {
			return nil, []string{err.Error()}
		}
		raw = spec
	}
	groups, errs := rulefmt.Parse(raw, false, model.UTF8Validation, promql, slog.New(slog.DiscardHandler))
	var problems []string
	for _, err := range errs {
		problems = append(problems, "rulefmt: "+err.Error())
	}
	if groups == nil {
		return nil, problems
	}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			for _, p := range exprProblems(r.Expr, exported) {
				problems = append(problems, fmt.Sprintf("group %s, alert %s%s: %s", g.Name, r.Alert, r.Record, p))
			}
		}
	}
	return groups, problems
}

var (
	grafanaVar   = regexp.MustCompile(`\$\{?(\w+)(?::\w+)?\}?`)
	labelValuesQ = regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)
)

// dashboardProblems checks every "expr" of the dashboard's panels (rows included) and every
// template variable query; it returns how many queries it checked.
func dashboardProblems(raw []byte, exported map[string]checks.Metric) (int, []string) {
	var d any
	if err := json.Unmarshal(raw, &d); err != nil {
		return 0, []string{err.Error()}
	}
	var queries []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				if s, ok := val.(string); ok && (k == "expr" || k == "definition") {
					queries = append(queries, s)
				}
				walk(val)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(d)
	sort.Strings(queries)
	var problems []string
	for _, q := range queries {
		expr := grafanaVar.ReplaceAllStringFunc(q, func(v string) string {
			if strings.Contains(v, "__rate_interval") || strings.Contains(v, "__interval") || strings.Contains(v, "__range") {
				return "5m"
			}
			return "x"
		})
		var extra []string
		if m := labelValuesQ.FindStringSubmatch(expr); m != nil {
			expr, extra = m[1], []string{m[2]}
		}
		ps := exprProblems(expr, exported)
		if len(ps) == 0 && len(extra) > 0 {
			ps = groupingProblems(expr, extra, exported)
		}
		for _, p := range ps {
			problems = append(problems, fmt.Sprintf("query %q: %s", q, p))
		}
	}
	return len(queries), problems
}

// exprProblems parses a PromQL expression and checks that each selected metric is exported,
// each label matcher names a label of that metric (or a target label), and each by / on label
// belongs to a metric the expression selects.
func exprProblems(expr string, exported map[string]checks.Metric) []string {
	e, err := promql.ParseExpr(expr)
	if err != nil {
		return []string{"parse: " + err.Error()}
	}
	var problems []string
	var grouping []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		switch x := n.(type) {
		case *parser.VectorSelector:
			name := x.Name
			for _, m := range x.LabelMatchers {
				if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
					name = m.Value
				}
			}
			allowed, ok := seriesLabels(name, exported)
			if !ok {
				problems = append(problems, fmt.Sprintf("metric %q is not exported by the code (%s)", name, x.String()))
				return nil
			}
			for _, m := range x.LabelMatchers {
				if m.Name != labels.MetricName && !slices.Contains(allowed, m.Name) {
					problems = append(problems, fmt.Sprintf("%s: label %q is not one of %s's %v", x.String(), m.Name, name, allowed))
				}
			}
		case *parser.AggregateExpr:
			grouping = append(grouping, x.Grouping...)
		case *parser.BinaryExpr:
			if x.VectorMatching != nil {
				grouping = append(grouping, x.VectorMatching.MatchingLabels...)
			}
		}
		return nil
	})
	if len(problems) == 0 {
		problems = groupingProblems(expr, grouping, exported)
	}
	return problems
}

// groupingProblems checks that each of names is a label of some metric expr selects.
func groupingProblems(expr string, names []string, exported map[string]checks.Metric) []string {
	e, err := promql.ParseExpr(expr)
	if err != nil {
		return []string{"parse: " + err.Error()}
	}
	var union []string
	for _, sel := range parser.ExtractSelectors(e) {
		for _, m := range sel {
			if m.Name == labels.MetricName {
				l, _ := seriesLabels(m.Value, exported)
				union = append(union, l...)
			}
		}
	}
	var problems []string
	for _, n := range names {
		if !slices.Contains(union, n) {
			problems = append(problems, fmt.Sprintf("by / on label %q belongs to no metric the expression selects", n))
		}
	}
	return problems
}

// seriesLabels returns the labels a series name may carry, and whether the code exports it.
func seriesLabels(name string, exported map[string]checks.Metric) ([]string, bool) {
	if l, ok := standardSeries[name]; ok {
		return append(slices.Clone(targetLabels), l...), true
	}
	for _, m := range exported {
		if !slices.Contains(m.Series(), name) {
			continue
		}
		out := append(slices.Clone(targetLabels), m.Labels...)
		if name == m.Name+"_bucket" {
			out = append(out, "le")
		}
		if m.Type == "summary" && name == m.Name {
			out = append(out, "quantile")
		}
		return out, true
	}
	return nil, false
}
