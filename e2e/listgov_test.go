package e2e

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

const tenantPolicy = `
mcp:
  paths: [/mcp]
  identity:
    tenant_header: x-tenant-id
plugins:
  - name: acme-read-only
    kind: tool_filter
    conditions:
      - tenant_ids: [acme]
    config:
      deny: ["delete_*"]
  - name: globex-no-files
    kind: tool_filter
    conditions:
      - tenant_ids: [globex]
    config:
      deny: [read_file]
`

// Through extproc dev, one server, two tenants: each sees only the tools
// its tool_filter lets it call, and a hidden tool is still refused when
// called by name.
func TestTenantsSeeTheirOwnToolLists(t *testing.T) {
	for _, sse := range []bool{false, true} {
		up := httptest.NewServer(goServer(!sse))
		t.Cleanup(up.Close)
		base := startDev(t, tenantPolicy, up.URL)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		names := func(cs *mcp.ClientSession) []string {
			var out []string
			for tool, err := range cs.Tools(ctx, nil) {
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, tool.Name)
			}
			slices.Sort(out)
			return out
		}
		acme, globex := connectAs(t, base, []string{"x-tenant-id", "acme"}), connectAs(t, base, []string{"x-tenant-id", "globex"})
		if got := strings.Join(names(acme), ","); got != "echo,long_job,read_file" {
			t.Errorf("sse=%v: acme sees %s", sse, got)
		}
		if got := strings.Join(names(globex), ","); got != "delete_everything,echo,long_job" {
			t.Errorf("sse=%v: globex sees %s", sse, got)
		}
		if _, err := acme.CallTool(ctx, &mcp.CallToolParams{Name: "delete_everything"}); err == nil || !strings.Contains(strings.ToLower(err.Error()), "not allowed") {
			t.Errorf("sse=%v: acme calling the hidden delete_everything: %v", sse, err)
		}
		res, err := globex.CallTool(ctx, &mcp.CallToolParams{Name: "read_file"})
		if err == nil && !res.IsError {
			t.Errorf("sse=%v: globex called the hidden read_file: %+v", sse, res)
		}
	}
}
