package examples_test

import (
	"encoding/base64"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcp-extproc/mcp-extproc/extproc/extproctest"
)

// The policy cookbook of plugins/cel_policy and plugins/opa_policy: every
// example, played through the server with JSON and SSE results.

func cookbook(t *testing.T, name string) *extproctest.Server {
	t.Helper()
	return extproctest.NewFile(t, filepath.Join("policies", name))
}

func claims(json string) string { return base64.RawURLEncoding.EncodeToString([]byte(json)) }

// decision is one call and whether the policy must refuse it (code) or
// let it through ("").
type decision struct {
	request string
	headers []string
	code    string
}

func checkDecisions(t *testing.T, srv *extproctest.Server, response string, cases []decision) {
	t.Helper()
	for _, c := range cases {
		for rname, resp := range map[string]extproctest.Response{"json": extproctest.JSON(response), "sse": extproctest.SSE(response)} {
			out := srv.Call(t, c.request, resp, c.headers...)
			switch {
			case c.code == "" && (out.Blocked || strings.Contains(out.Client, `"error"`)):
				t.Errorf("%s %s %v: want it to pass, got %+v", rname, c.request, c.headers, out)
			case c.code != "" && (!out.Blocked || !strings.Contains(out.Client, `"code":"`+c.code+`"`)):
				t.Errorf("%s %s %v: want %s, got %+v", rname, c.request, c.headers, c.code, out)
			}
		}
	}
}

func read(uri string) string {
	return `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"` + uri + `"}}`
}

func getPrompt(name string) string {
	return `{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"` + name + `"}}`
}

const contents = `{"jsonrpc":"2.0","id":1,"result":{"contents":[{"uri":"u","mimeType":"text/plain","text":"x"}]}}`

func TestCookbookTenantTools(t *testing.T) {
	checkDecisions(t, cookbook(t, "cel-tenant-tools.yaml"), toolResult("ok"), []decision{
		{call("update_ticket", `{}`), []string{"x-tenant-id", "acme"}, ""},
		{call("update_ticket", `{}`), []string{"x-tenant-id", "globex"}, "CEL_DENIED"},
		{call("search_docs", `{}`), []string{"x-tenant-id", "globex"}, ""},
		{call("search_docs", `{}`), []string{"x-tenant-id", "initech"}, "CEL_DENIED"},
		{call("search_docs", `{}`), nil, "CEL_DENIED"},
	})
}

func TestCookbookArgumentLimits(t *testing.T) {
	checkDecisions(t, cookbook(t, "cel-argument-limits.yaml"), toolResult("ok"), []decision{
		{call("transfer_funds", `{"amount":1000}`), nil, ""},
		{call("transfer_funds", `{"amount":1000.01}`), nil, "TRANSFER_LIMIT"},
		{call("transfer_funds", `{"amount":25000}`), nil, "TRANSFER_LIMIT"},
		{call("transfer_funds", `{}`), nil, "PLUGIN_ERROR"}, // no amount: fail closed
		{call("run_query", `{"sql":"select 1"}`), nil, ""},
		{call("run_query", `{"sql":"select 1","limit":500}`), nil, ""},
		{call("run_query", `{"sql":"select 1","limit":501}`), nil, "ROW_LIMIT"},
		{call("other", `{"amount":1e9}`), nil, ""},
	})
}

func TestCookbookGroupClaims(t *testing.T) {
	finance := []string{"x-jwt-payload", claims(`{"sub":"ann","groups":["finance"]}`)}
	eng := []string{"x-jwt-payload", claims(`{"sub":"bob","groups":["eng"]}`)}
	none := []string{"x-jwt-payload", claims(`{"sub":"eve"}`)}
	checkDecisions(t, cookbook(t, "cel-group-claims.yaml"), toolResult("ok"), []decision{
		{call("payroll_run", `{}`), finance, ""},
		{call("payroll_run", `{}`), eng, "GROUP_REQUIRED"},
		{call("payroll_run", `{}`), none, "GROUP_REQUIRED"},
		{call("payroll_run", `{}`), nil, "GROUP_REQUIRED"},
		{call("payroll-run", `{}`), eng, "GROUP_REQUIRED"},
		{call("payroll-run", `{}`), finance, ""},
		{call("get_weather", `{}`), eng, ""},
	})
}

// The window is set around the current hour so that both sides of it are
// tested whenever the test runs.
func TestCookbookReadOnlyHours(t *testing.T) {
	now := time.Now().UTC()
	t.Setenv("READ_ONLY_TZ", "UTC")
	open := now.Weekday() != time.Saturday && now.Weekday() != time.Sunday
	t.Setenv("WRITE_FROM_HOUR", strconv.Itoa(now.Hour()))
	t.Setenv("WRITE_UNTIL_HOUR", strconv.Itoa(now.Hour()+1))
	want := "READ_ONLY_HOURS"
	if open && time.Now().UTC().Hour() == now.Hour() {
		want = ""
	}
	checkDecisions(t, cookbook(t, "cel-read-only-hours.yaml"), toolResult("ok"), []decision{
		{call("update_ticket", `{}`), nil, want},
		{call("get_ticket", `{}`), nil, ""},
	})
	t.Setenv("WRITE_FROM_HOUR", strconv.Itoa(now.Hour()+1))
	t.Setenv("WRITE_UNTIL_HOUR", strconv.Itoa(now.Hour()+2))
	checkDecisions(t, cookbook(t, "cel-read-only-hours.yaml"), toolResult("ok"), []decision{
		{call("update_ticket", `{}`), nil, "READ_ONLY_HOURS"},
		{call("list_tickets", `{}`), nil, ""},
	})
}

func TestCookbookInternalHosts(t *testing.T) {
	cases := []decision{{read("https://docs.example.com/a"), nil, ""}}
	for _, uri := range []string{
		"http://LOCALHOST./x", "http://db.corp.internal/x", "http://printer.local/", "http://2130706433/",
		"http://0x7f.1/", "http://[::1]/", "http://10.1.2.3/", "http://172.20.0.1/", "http://169.254.169.254/latest/meta-data",
		"file:///etc/passwd",
	} {
		cases = append(cases, decision{read(uri), nil, "INTERNAL_HOST"})
	}
	cases = append(cases, decision{read("http://ex\u00adample.com\u200d/"), nil, "PLUGIN_ERROR"})
	checkDecisions(t, cookbook(t, "cel-internal-hosts.yaml"), contents, cases)
}

func TestCookbookSQLReadOnly(t *testing.T) {
	srv := cookbook(t, "cel-sql-read-only.yaml")
	checkDecisions(t, srv, toolResult("3 rows"), []decision{
		{call("run_query", `{"sql":"SELECT name FROM users WHERE updated_at > now()"}`), nil, ""},
		{call("run_query", `{"sql":"select 1; DROP table users"}`), nil, "SQL_WRITE"},
		{call("run_query", `{"sql":"Delete\tfrom users"}`), nil, "SQL_WRITE"},
	})
	failed := `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"ERROR: relation users at /srv/db.go:42"}],"isError":true}}`
	out := srv.Call(t, call("run_query", `{"sql":"select * from users"}`), extproctest.SSE(failed))
	if strings.Contains(out.Client, "/srv/db.go") || !strings.Contains(out.Client, `"code":"SQL_ERROR"`) {
		t.Errorf("the failed query must not reach the model: %s", out.Client)
	}
}

func TestCookbookTransferLimits(t *testing.T) {
	checkDecisions(t, cookbook(t, "opa-transfer-limits.yaml"), toolResult("ok"), []decision{
		{call("transfer_funds", `{"amount":900}`), []string{"x-tenant-id", "acme"}, ""},
		{call("transfer_funds", `{"amount":1500}`), []string{"x-tenant-id", "acme"}, "TRANSFER_LIMIT"},
		{call("transfer_funds", `{"amount":1500}`), []string{"x-tenant-id", "globex"}, ""},
		{call("transfer_funds", `{"amount":1}`), []string{"x-tenant-id", "initech"}, "TRANSFER_LIMIT"},
		{call("get_balance", `{}`), []string{"x-tenant-id", "initech"}, ""},
	})
}

func TestCookbookDestructiveAdmins(t *testing.T) {
	admin := []string{"x-jwt-payload", claims(`{"sub":"root","roles":["admin"]}`)}
	user := []string{"x-jwt-payload", claims(`{"sub":"ann","roles":["support"]}`)}
	checkDecisions(t, cookbook(t, "opa-destructive-admins.yaml"), toolResult("ok"), []decision{
		{call("delete_customer", `{}`), admin, ""},
		{call("delete_customer", `{}`), user, "ADMIN_REQUIRED"},
		{call("delete_customer", `{}`), nil, "ADMIN_REQUIRED"},
		{call("export_all", `{}`), user, "ADMIN_REQUIRED"}, // no annotations: destructive by MCP's default
		{call("get_customer", `{}`), user, ""},
		{call("update_customer", `{}`), user, ""},
	})
}

func TestCookbookTenantResources(t *testing.T) {
	acme := []string{"x-tenant-id", "acme"}
	checkDecisions(t, cookbook(t, "opa-tenant-resources.yaml"), contents, []decision{
		{read("https://files.example.com/tenants/acme/report.pdf"), acme, ""},
		{read("https://FILES.example.com./tenants/acme/./q3/report.pdf"), acme, ""},
		{read("https://files.example.com/tenants/globex/report.pdf"), acme, "TENANT_RESOURCE"},
		{read("https://files.example.com/tenants/acme/../globex/report.pdf"), acme, "TENANT_RESOURCE"},
		{read("https://files.example.com/tenants/acme/%2e%2e/globex/report.pdf"), acme, "TENANT_RESOURCE"},
		{read("https://files.example.com/tenants/acme"), acme, "TENANT_RESOURCE"},
		{read("https://files.example.com/tenants//report.pdf"), nil, "TENANT_RESOURCE"},
		{read("https://evil.example.com/tenants/acme/x"), acme, "TENANT_RESOURCE"},
	})
}

func TestCookbookRBAC(t *testing.T) {
	viewer := []string{"x-jwt-payload", claims(`{"sub":"v","roles":["viewer"]}`)}
	editor := []string{"x-jwt-payload", claims(`{"sub":"e","roles":["viewer","editor"]}`)}
	srv := cookbook(t, "opa-rbac.yaml")
	checkDecisions(t, srv, toolResult("ok"), []decision{
		{call("get_ticket", `{}`), viewer, ""},
		{call("get-ticket", `{}`), viewer, ""},
		{call("update_ticket", `{}`), viewer, "OPA_DENIED"},
		{call("update-ticket", `{}`), viewer, "OPA_DENIED"},
		{call("update-ticket", `{}`), editor, ""},
		{call("update_ticket", `{}`), editor, ""},
		{call("delete_ticket", `{}`), editor, "OPA_DENIED"},
		{call("get_ticket", `{}`), nil, "OPA_DENIED"},
	})
	prompt := `{"jsonrpc":"2.0","id":1,"result":{"messages":[{"role":"user","content":{"type":"text","text":"hi"}}]}}`
	checkDecisions(t, srv, prompt, []decision{
		{getPrompt("summarize"), viewer, ""},
		{getPrompt("draft_reply"), viewer, "OPA_DENIED"},
		{getPrompt("draft_reply"), editor, ""},
	})
}
