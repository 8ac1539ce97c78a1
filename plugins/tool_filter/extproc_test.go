package toolfilter_test

import (
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/extproc/extproctest"
)

// The README's per-tenant and per-user example, played through the server.
const tenantPolicy = `mcp:
  identity:
    user_header: x-user-id
    tenant_header: x-tenant-id
plugins:
  # Every caller: no shell, ever.
  - name: no-shell
    kind: tool_filter
    priority: 10
    config:
      deny: ["shell_*", exec]
  # Tenant acme may only read.
  - name: acme-read-only
    kind: tool_filter
    priority: 20
    conditions:
      - tenant_ids: [acme]
    config:
      allow: ["read_*", "search"]
  # Contractors, in any tenant, may not delete.
  - name: contractors
    kind: tool_filter
    priority: 20
    conditions:
      - user_patterns: ["*@contractor.example"]
    config:
      deny: ["delete_*"]
`

func call(tool string) string {
	return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tool + `","arguments":{}}}`
}

func TestPerTenantAndUserThroughServer(t *testing.T) {
	srv := extproctest.New(t, tenantPolicy)
	res := `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"ok"}]}}`
	for _, tc := range []struct {
		tool, tenant, user string
		plugin             string // "" passes
	}{
		{"shell_run", "", "", "no-shell"},
		{"exec", "globex", "ann", "no-shell"},
		{"delete_user", "globex", "ann", ""},
		{"delete_user", "acme", "ann", "acme-read-only"},
		{"read_file", "acme", "ann", ""},
		{"search", "acme", "bob@contractor.example", ""},
		{"delete_user", "globex", "bob@contractor.example", "contractors"},
		{"write_file", "globex", "bob@contractor.example", ""},
	} {
		for rname, resp := range map[string]extproctest.Response{"json": extproctest.JSON(res), "sse": extproctest.SSE(res)} {
			t.Run(tc.tool+"/"+tc.tenant+"/"+tc.user+"/"+rname, func(t *testing.T) {
				var headers []string
				if tc.tenant != "" {
					headers = append(headers, "x-tenant-id", tc.tenant)
				}
				if tc.user != "" {
					headers = append(headers, "x-user-id", tc.user)
				}
				out := srv.Call(t, call(tc.tool), resp, headers...)
				if tc.plugin == "" {
					if out.Blocked || out.Client != resp.Body {
						t.Fatalf("refused or changed: %+v", out)
					}
					return
				}
				if !out.Blocked || !strings.Contains(out.Client, `"code":"TOOL_DENIED"`) || !strings.Contains(out.Client, `"plugin":"`+tc.plugin+`"`) ||
					!strings.Contains(out.Client, `"id":1`) {
					t.Fatalf("not refused by %s: %+v", tc.plugin, out)
				}
			})
		}
	}
}
