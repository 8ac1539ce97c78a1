// Tests of the Grafana dashboard: every query parses as PromQL, and every
// metric and label it reads is one mcp-extproc exports.
package grafana_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/mcp-extproc/mcp-extproc/internal/docgen"
)

// targetLabels are added by Prometheus to every scraped series.
var targetLabels = []string{"instance", "job"}

type dashboard struct {
	Title      string `json:"title"`
	UID        string `json:"uid"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type panel struct {
	ID      int    `json:"id"`
	Type    string `json:"type"`
	Title   string `json:"title"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	data, err := os.ReadFile("mcp-extproc.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	var d dashboard
	if err := dec.Decode(&d); err != nil {
		t.Fatal(err)
	}
	return d
}

// exported maps each series name the server exposes to its labels.
func exported(t *testing.T) map[string][]string {
	t.Helper()
	ms, err := docgen.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, m := range ms {
		for name, labels := range m.Series() {
			out[name] = append(append([]string{}, labels...), targetLabels...)
		}
	}
	return out
}

// promql is the parser Prometheus itself uses.
var promql = parser.NewParser(parser.Options{})

// grafanaVars stand in for Grafana's interval variables, which are not PromQL.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__range", "6h", "$__interval", "1m")

// checkExpr parses expr and checks every selector, matcher and grouping
// label, returning what is wrong.
func checkExpr(where, expr string, series map[string][]string) []string {
	var problems []string
	errorf := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	e, err := promql.ParseExpr(grafanaVars.Replace(expr))
	if err != nil {
		return []string{fmt.Sprintf("%s: %q is not PromQL: %v", where, expr, err)}
	}
	var inScope []string // series names of the selectors under a node
	parser.Inspect(e, func(n parser.Node, path []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			labelsOf, ok := series[vs.Name]
			if !ok {
				errorf("%s: metric %q is not exported (see docs/metrics.md)", where, vs.Name)
				return nil
			}
			inScope = append(inScope, vs.Name)
			for _, m := range vs.LabelMatchers {
				if m.Name == model.MetricNameLabel {
					continue
				}
				if !slices.Contains(labelsOf, m.Name) {
					errorf("%s: %s has no label %q (it has %v)", where, vs.Name, m.Name, labelsOf)
				}
			}
		}
		return nil
	})
	// Grouping labels (by/without, on/ignoring) must exist on the series
	// they group.
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		var grouping []string
		var sub parser.Node
		switch x := n.(type) {
		case *parser.AggregateExpr:
			grouping, sub = x.Grouping, x.Expr
		case *parser.BinaryExpr:
			if x.VectorMatching != nil {
				grouping, sub = append(x.VectorMatching.MatchingLabels, x.VectorMatching.Include...), x
			}
		}
		if len(grouping) == 0 {
			return nil
		}
		for _, name := range selectorsUnder(sub) {
			for _, l := range grouping {
				if !slices.Contains(series[name], l) {
					errorf("%s: groups %s by %q, which it does not carry", where, name, l)
				}
			}
		}
		return nil
	})
	if len(inScope) == 0 {
		errorf("%s: %q reads no metric", where, expr)
	}
	return problems
}

func selectorsUnder(n parser.Node) []string {
	var out []string
	parser.Inspect(n, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			out = append(out, vs.Name)
		}
		return nil
	})
	return out
}

var labelValuesRE = regexp.MustCompile(`^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$`)

func TestDashboardQueriesExportedMetrics(t *testing.T) {
	d := loadDashboard(t)
	series := exported(t)
	if d.UID == "" || d.Title == "" {
		t.Fatal("dashboard needs a uid and a title")
	}
	ids := map[int]bool{}
	var queries int
	var walk func([]panel)
	read := map[string]bool{}
	walk = func(ps []panel) {
		for _, p := range ps {
			if ids[p.ID] {
				t.Errorf("panel id %d is used twice", p.ID)
			}
			ids[p.ID] = true
			for _, tg := range p.Targets {
				queries++
				for _, p := range checkExpr(p.Title+"/"+tg.RefID, tg.Expr, series) {
					t.Error(p)
				}
				for _, name := range selectorsUnderExpr(tg.Expr) {
					read[strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_count"), "_sum")] = true
				}
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	if queries < 10 {
		t.Fatalf("only %d queries", queries)
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q, _ := v.Query.(map[string]any)
		s, _ := q["query"].(string)
		m := labelValuesRE.FindStringSubmatch(s)
		if m == nil {
			t.Errorf("variable %s: query %q is not label_values(metric, label)", v.Name, s)
			continue
		}
		if l, ok := series[m[1]]; !ok || !slices.Contains(l, m[2]) {
			t.Errorf("variable %s: %s{%s} is not exported", v.Name, m[1], m[2])
		}
	}
	// Every family the server exports is on the dashboard.
	ms, err := docgen.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if !read[m.Name] {
			t.Errorf("the dashboard charts nothing of %s", m.Name)
		}
	}
}

func selectorsUnderExpr(expr string) []string {
	e, err := promql.ParseExpr(grafanaVars.Replace(expr))
	if err != nil {
		return nil
	}
	return selectorsUnder(e)
}

// The check must catch a misspelt metric or label.
func TestCheckCatchesUnknownNames(t *testing.T) {
	series := exported(t)
	for _, expr := range []string{
		`sum(rate(mcp_extproc_request_total[5m]))`,
		`sum(rate(mcp_extproc_requests_total{verdict="blocked"}[5m]))`,
		`sum by (tool) (rate(mcp_extproc_violations_total[5m]))`,
		`histogram_quantile(0.9, sum by (le, plugin) (rate(mcp_extproc_hook_duration_seconds_bucket[5m])))`,
	} {
		if len(checkExpr("probe", expr, series)) == 0 {
			t.Errorf("%s passed the check", expr)
		}
	}
}
