package opapolicy

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
)

// The pruned input keeps every field a rule can reach, however it names it.
func TestInputUses(t *testing.T) {
	for _, c := range []struct {
		name, rego string
		all        bool
		top, args  []string
	}{
		{"by name", `allow if input.tool.name == "x"`, false, []string{"tool"}, nil},
		{"arguments", `allow if input.tool.args.amount < 10`, false, []string{"tool"}, []string{"tool"}},
		{"whole tool", `allow if count(input.tool) > 0`, false, []string{"tool"}, []string{"tool"}},
		{"computed tool key", `allow if { some k; input.prompt[k] }`, false, []string{"prompt"}, []string{"prompt"}},
		{"several", `allow if { input.user == "a"; input.claims.groups[_] == "g"; input.resource.host != "h" }`, false, []string{"claims", "resource", "user"}, nil},
		{"inside a data reference", `allow if data.limits[input.tenant] > 1`, false, []string{"tenant"}, nil},
		{"input as a value", `allow if { x := input; x.user == "a" }`, true, nil, nil},
		{"computed key", `allow if { some k; input[k] == "a" }`, true, nil, nil},
		{"key from data", `allow if input[data.field] == "a"`, true, nil, nil},
		{"import", "import input.tool as t\nallow if t.name == \"x\"", false, []string{"tool"}, []string{"tool"}},
		{"import of input", "import input\nallow if input.user == \"a\"", true, nil, nil},
		{"with", `allow if data.mcp.other with input as {"user": "a"}`, true, nil, nil},
		{"function argument", "f(x) if x.user == \"a\"\nallow if f(input)", true, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := ast.ParseModule("p.rego", "package mcp.authz\n"+c.rego)
			if err != nil {
				t.Fatal(err)
			}
			u := inputUses([]*ast.Module{m})
			if u.all != c.all {
				t.Fatalf("all = %v, want %v", u.all, c.all)
			}
			if c.all {
				return
			}
			if got := keys(u.top); !reflect.DeepEqual(got, c.top) {
				t.Errorf("fields %v, want %v", got, c.top)
			}
			if got := keys(u.args); !reflect.DeepEqual(got, c.args) {
				t.Errorf("arguments of %v, want %v", got, c.args)
			}
		})
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for _, k := range []string{"claims", "prompt", "resource", "tenant", "tool", "user"} {
		if m[k] {
			out = append(out, k)
		}
	}
	return out
}

// Every policy decides the same on the pruned input as on the whole one.
func TestPrunedInputDecidesAsWhole(t *testing.T) {
	dir := t.TempDir()
	for i, rule := range []string{
		`allow if input.tool.args.amount < 100`,
		`allow if input.claims.groups[_] == "finance"`,
		`allow if { x := input; x.tenant == "acme"; x.tool.args.to == "bob" }`,
		`allow if { some k; input[k] == "alice" }`,
		"import input.tool as t\nallow if t.args.memo == \"rent\"",
		`allow if input.headers["x-env"] == "prod"`,
	} {
		path := filepath.Join(dir, "p.rego")
		if err := os.WriteFile(path, []byte("package mcp.authz\ndefault allow := false\n"+rule+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		pl := plugintest.Load(t, plugintest.Policy("authz", "opa_policy", `{policy_files: [`+path+`], query: data.mcp.authz.allow}`)).(*Plugin)
		pc := &framework.PluginContext{Global: &framework.GlobalContext{User: "alice", TenantID: "acme", Claims: map[string]any{"groups": []any{"eng", "finance"}}}}
		for _, args := range []string{`{"amount":50,"to":"bob","memo":"rent"}`, `{"amount":500,"to":"eve","memo":"x"}`} {
			p := &framework.ToolPreInvokePayload{Name: "transfer", Args: []byte(args)}
			pruned, err := pl.ToolPreInvoke(context.Background(), p, pc)
			if err != nil {
				t.Fatal(err)
			}
			whole := *pl
			whole.uses = nil
			whole.Decide = whole.decide
			full, err := whole.ToolPreInvoke(context.Background(), p, pc)
			if err != nil {
				t.Fatal(err)
			}
			if (pruned.Violation == nil) != (full.Violation == nil) {
				t.Errorf("rule %d, args %s: pruned input allows=%v, whole input allows=%v", i, args, pruned.Violation == nil, full.Violation == nil)
			}
		}
	}
}
