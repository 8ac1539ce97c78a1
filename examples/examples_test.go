package examples_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/examples"
	"github.com/mcp-extproc/mcp-extproc/extproc/extproctest"
	"github.com/mcp-extproc/mcp-extproc/framework"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/all"
)

// Every example policy, and the embedded default, loads and builds with
// the built-in kinds.
func TestPoliciesLoad(t *testing.T) {
	files, _ := filepath.Glob("policies/*.yaml")
	if len(files) < 3 {
		t.Fatalf("want at least three example policies, found %v", files)
	}
	for _, f := range files {
		cfg, warns, err := framework.Load(f, framework.LoadOptions{})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(warns) > 0 {
			t.Errorf("%s: warnings %v", f, warns)
		}
		for i := range cfg.Plugins {
			if _, err := framework.Instantiate(&cfg.Plugins[i], nil); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
	}
	cfg, warns, err := framework.Parse(examples.DefaultPolicy, examples.DefaultPolicyName, framework.LoadOptions{})
	if err != nil || len(warns) > 0 || len(cfg.Plugins) == 0 {
		t.Fatalf("default policy: %v %v", err, warns)
	}
}

func policy(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("policies", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func call(tool, args string) string {
	return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tool + `","arguments":` + args + `}}`
}

func toolResult(text string) string {
	return `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"` + text + `"}]}}`
}

func TestSupportDeskPolicy(t *testing.T) {
	srv := extproctest.New(t, policy(t, "support-desk.yaml"))
	out := srv.Call(t, call("lookup_customer", `{"customer_id":"c-1"}`),
		extproctest.SSE(toolResult("Jane, jane.doe@example.com, card 4111 1111 1111 1111, SSN 123-45-6789, key AKIAIOSFODNN7EXAMPLE")))
	for _, leaked := range []string{"jane.doe@example.com", "4111 1111 1111 1111", "123-45-6789", "AKIAIOSFODNN7EXAMPLE"} {
		if strings.Contains(out.Client, leaked) {
			t.Errorf("%q reached the client: %s", leaked, out.Client)
		}
	}
	if !strings.Contains(out.Client, "1111") || !strings.Contains(out.Client, "@example.com") {
		t.Errorf("partial masking should keep the last digits and the domain: %s", out.Client)
	}
	for _, name := range []string{"delete_customer", "delete-customer", "drop-table", "reset-admin"} {
		if out := srv.Call(t, call(name, `{"customer_id":"c-1"}`), extproctest.JSON(toolResult("x"))); !out.Blocked || !strings.Contains(out.Client, "TOOL_DENIED") {
			t.Errorf("%s: %+v", name, out)
		}
	}
	// An email in the arguments still reaches the tool (PII is masked on the way back only).
	if out := srv.Call(t, call("send_reply", `{"to":"jane.doe@example.com"}`), extproctest.JSON(toolResult("sent"))); out.Blocked || !strings.Contains(out.Upstream, "jane.doe@example.com") {
		t.Errorf("send_reply: %+v", out)
	}
}

func TestReadOnlyTenantPolicy(t *testing.T) {
	srv := extproctest.New(t, policy(t, "readonly-tenant.yaml"))
	res := extproctest.JSON(toolResult("ok"))
	if out := srv.Call(t, call("update_ticket", `{}`), res, "x-tenant-id", "acme"); !out.Blocked {
		t.Error("acme may not call a write tool")
	}
	for _, name := range []string{"get_ticket", "get-ticket", "list-tickets", "search-docs"} {
		if out := srv.Call(t, call(name, `{}`), res, "x-tenant-id", "acme"); out.Blocked {
			t.Errorf("acme may read (%s)", name)
		}
	}
	if out := srv.Call(t, call("update-ticket", `{}`), res, "x-tenant-id", "acme"); !out.Blocked {
		t.Error("acme may not call a write tool, kebab-case or not")
	}
	if out := srv.Call(t, call("update_ticket", `{}`), res, "x-tenant-id", "globex"); out.Blocked {
		t.Error("other tenants keep write tools")
	}
	for _, name := range []string{"reset_admin", "reset-admin", "admin-console"} {
		if out := srv.Call(t, call(name, `{}`), res, "x-tenant-id", "globex"); !out.Blocked {
			t.Errorf("admin tools are denied to everyone (%s)", name)
		}
	}
}

func TestStrictResourcesPolicy(t *testing.T) {
	srv := extproctest.New(t, policy(t, "strict-resources.yaml"))
	read := func(uri string) string {
		return `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"` + uri + `"}}`
	}
	contents := `{"jsonrpc":"2.0","id":1,"result":{"contents":[{"uri":"u","mimeType":"text/plain","text":"db password: hunter2"}]}}`
	for _, uri := range []string{"file:///etc/passwd", "http://docs.example.com/a", "https://internal.example.com/x", "https://api.internal.example.com/x"} {
		if out := srv.Call(t, read(uri), extproctest.JSON(contents)); !out.Blocked {
			t.Errorf("%s was not refused", uri)
		}
	}
	out := srv.Call(t, read("https://docs.example.com/runbook"), extproctest.SSE(contents))
	if out.Blocked || strings.Contains(out.Client, "hunter2") {
		t.Errorf("allowed read: %+v", out)
	}
}

// The embedded default redacts secrets and PII in results without blocking.
func TestDefaultPolicyRedacts(t *testing.T) {
	srv := extproctest.New(t, string(examples.DefaultPolicy))
	out := srv.Call(t, call("anything", `{"q":"mail jane.doe@example.com"}`),
		extproctest.JSON(toolResult("token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 for jane.doe@example.com")))
	if out.Blocked || strings.Contains(out.Client, "ghp_aBcD") || strings.Contains(out.Client, "jane.doe@example.com") {
		t.Fatalf("%+v", out)
	}
	if !strings.Contains(out.Upstream, "jane.doe@example.com") {
		t.Fatalf("the default must not mask PII in arguments: %s", out.Upstream)
	}
}
