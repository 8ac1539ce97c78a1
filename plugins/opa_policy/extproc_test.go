package opapolicy_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/extproc/extproctest"
	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/policyinput/policytest"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/opa_policy"
)

// probePolicy writes a Rego decision that denies with VAR_OK when cond
// holds on hook.
func probePolicy(t *testing.T, hook framework.HookType, cond string) string {
	t.Helper()
	rego := `package mcp.authz

default decision := {"allow": true}

decision := {"allow": false, "code": "VAR_OK", "reason": "probe"} if {
	input.hook == "` + string(hook) + `"
	` + cond + `
}
`
	f := filepath.Join(t.TempDir(), "probe.rego")
	if err := os.WriteFile(f, []byte(rego), 0o600); err != nil {
		t.Fatal(err)
	}
	return policytest.MCP + `plugins:
  - name: authz
    kind: opa_policy
    hooks: [` + string(hook) + `]
    config:
      policy_files: ["` + f + `"]
      query: data.mcp.authz.decision
`
}

// Every field of the input document on every hook, with its value, through
// the server, with JSON and SSE results.
func TestEveryInputFieldOnEveryHook(t *testing.T) {
	for _, c := range policytest.Checks() {
		for rname, resp := range policytest.Responses {
			t.Run(string(c.Hook)+"/"+c.Path+"/"+rname, func(t *testing.T) {
				srv := extproctest.New(t, probePolicy(t, c.Hook, "input."+c.Path+" == "+c.Want))
				if out := policytest.Play(t, srv, c.Hook, resp); !policytest.Denied(c.Hook, out, "VAR_OK") {
					t.Fatalf("input.%s == %s did not hold: %+v", c.Path, c.Want, out)
				}
				srv = extproctest.New(t, probePolicy(t, c.Hook, "input."+c.Path+" != "+c.Want))
				if out := policytest.Play(t, srv, c.Hook, resp); out.Blocked || strings.Contains(out.Client, `"error"`) {
					t.Fatalf("input.%s != %s held or failed: %+v", c.Path, c.Want, out)
				}
			})
		}
	}
	// A variable a hook does not have is absent from its input.
	srv := extproctest.New(t, probePolicy(t, framework.ResourcePreFetch, "input.tool"))
	if out := policytest.Play(t, srv, framework.ResourcePreFetch, policytest.Responses["json"]); out.Blocked {
		t.Fatalf("resources/read has no tool: %+v", out)
	}
}

const transferCall = `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"transfer_funds","arguments":{"amount":AMOUNT}}}`

const okResult = `{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"ok"}]}}`

func transferPolicy(source string) string {
	return `mcp:
  identity:
    tenant_header: x-tenant-id
plugins:
  - name: authz
    kind: opa_policy
    config:
` + source + `
      query: data.mcp.authz.decision
`
}

// The decision's reason, code and rule reach the client; data_files feed
// the policy.
func TestDecisionReachesTheClient(t *testing.T) {
	srv := extproctest.New(t, transferPolicy(`      policy_files: [testdata/authz.rego]
      data_files: [testdata/limits.json]`))
	checkTransfers(t, srv)
}

func checkTransfers(t *testing.T, srv *extproctest.Server) {
	t.Helper()
	for _, tc := range []struct {
		tenant, amount string
		blocked        bool
	}{{"acme", "1500", true}, {"acme", "999", false}, {"globex", "1500", false}, {"globex", "60000.5", true}} {
		out := srv.Call(t, strings.Replace(transferCall, "AMOUNT", tc.amount, 1), extproctest.SSE(okResult), "x-tenant-id", tc.tenant)
		if out.Blocked != tc.blocked {
			t.Errorf("%s %s: blocked %v: %+v", tc.tenant, tc.amount, out.Blocked, out)
			continue
		}
		if tc.blocked && (!strings.Contains(out.Client, `"code":"TRANSFER_LIMIT"`) || !strings.Contains(out.Client, `"message":"transfers over `) ||
			!strings.Contains(out.Client, `"rule":"big-transfers"`)) {
			t.Errorf("%s %s: %s", tc.tenant, tc.amount, out.Client)
		}
	}
}

// A bundle directory brings its own data; the decision is a bare boolean.
func TestBundleAndBareBoolean(t *testing.T) {
	srv := extproctest.New(t, `plugins:
  - name: authz
    kind: opa_policy
    hooks: [tool_pre_invoke]
    config:
      bundle: testdata/bundle
      query: data.mcp.authz.allow
`)
	call := func(tool string) string {
		return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tool + `","arguments":{}}}`
	}
	if out := srv.Call(t, call("search"), extproctest.JSON(okResult)); out.Blocked {
		t.Errorf("search is allowed: %+v", out)
	}
	if out := srv.Call(t, call("shell"), extproctest.JSON(okResult)); !out.Blocked || !strings.Contains(out.Client, `"code":"OPA_DENIED"`) ||
		!strings.Contains(out.Client, `"rule":"data.mcp.authz.allow"`) {
		t.Errorf("shell is denied: %+v", out)
	}
}
