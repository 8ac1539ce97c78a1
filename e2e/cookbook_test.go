package e2e

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// cookbookServer answers every tool, prompt and resource the policy
// cookbook's examples name.
func cookbookServer() http.Handler {
	s := mcp.NewServer(&mcp.Implementation{Name: "cookbook", Version: "1.0.0"}, nil)
	for _, name := range []string{"update_ticket", "search_docs", "get_ticket", "transfer_funds", "run_query", "payroll_run",
		"get_weather", "delete_customer", "get_customer", "export_all"} {
		s.AddTool(&mcp.Tool{Name: name, InputSchema: &jsonschema.Schema{Type: "object"}}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: name + " done"}}}, nil
		})
	}
	for _, name := range []string{"summarize", "draft_reply"} {
		s.AddPrompt(&mcp.Prompt{Name: name}, func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: name}}}}, nil
		})
	}
	for _, uri := range []string{"https://docs.example.com/a", "http://10.1.2.3/", "https://files.example.com/tenants/acme/report.pdf",
		"https://files.example.com/tenants/globex/report.pdf"} {
		s.AddResource(&mcp.Resource{URI: uri, Name: uri, MIMEType: "text/plain"}, func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, MIMEType: "text/plain", Text: "contents"}}}, nil
		})
	}
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil)
}

// withHeaders sends identity headers (a tenant, forwarded JWT claims) the
// way Envoy would after authenticating the caller.
type withHeaders struct {
	kv   []string
	next http.RoundTripper
}

func (w withHeaders) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for i := 0; i+1 < len(w.kv); i += 2 {
		r.Header.Set(w.kv[i], w.kv[i+1])
	}
	return w.next.RoundTrip(r)
}

func connectAs(t *testing.T, base string, kv []string) *mcp.ClientSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := mcp.NewClient(&mcp.Implementation{Name: "cookbook-client", Version: "1.0.0"}, nil)
	tr := &mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: &http.Client{Transport: withHeaders{kv, http.DefaultTransport}}}
	cs, err := c.Connect(ctx, tr, nil)
	if err != nil {
		t.Fatalf("connect through extproc dev: %v", err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

func jwt(claims string) []string {
	return []string{"x-jwt-payload", base64.RawURLEncoding.EncodeToString([]byte(claims))}
}

// cookbookCall is one request of the Go SDK client and the violation code
// it must get ("" when it must succeed).
type cookbookCall struct {
	tool, prompt, resource string
	args                   map[string]any
	headers                []string
	code                   string
}

// Each example of the policy cookbook (examples/policies/cel-*.yaml and
// opa-*.yaml) behind `extproc dev`, between the official Go SDK client and
// server: what a policy allows works, what it denies gets the design's
// JSON-RPC error with the rule's code.
func TestCookbookThroughDev(t *testing.T) {
	up := httptest.NewServer(cookbookServer())
	t.Cleanup(up.Close)
	acme, globex := []string{"x-tenant-id", "acme"}, []string{"x-tenant-id", "globex"}
	for file, calls := range map[string][]cookbookCall{
		"cel-tenant-tools.yaml": {
			{tool: "update_ticket", headers: acme}, {tool: "update_ticket", headers: globex, code: "CEL_DENIED"},
		},
		"cel-argument-limits.yaml": {
			{tool: "transfer_funds", args: map[string]any{"amount": 20}}, {tool: "transfer_funds", args: map[string]any{"amount": 2000}, code: "TRANSFER_LIMIT"},
		},
		"cel-group-claims.yaml": {
			{tool: "payroll_run", headers: jwt(`{"groups":["finance"]}`)}, {tool: "payroll_run", headers: jwt(`{"groups":["eng"]}`), code: "GROUP_REQUIRED"},
		},
		"cel-read-only-hours.yaml": {
			{tool: "get_ticket"},
		},
		"cel-internal-hosts.yaml": {
			{resource: "https://docs.example.com/a"}, {resource: "http://10.1.2.3/", code: "INTERNAL_HOST"},
		},
		"cel-sql-read-only.yaml": {
			{tool: "run_query", args: map[string]any{"sql": "select 1"}}, {tool: "run_query", args: map[string]any{"sql": "drop table x"}, code: "SQL_WRITE"},
		},
		"opa-transfer-limits.yaml": {
			{tool: "transfer_funds", args: map[string]any{"amount": 900}, headers: acme},
			{tool: "transfer_funds", args: map[string]any{"amount": 1500}, headers: acme, code: "TRANSFER_LIMIT"},
		},
		"opa-destructive-admins.yaml": {
			{tool: "delete_customer", headers: jwt(`{"roles":["admin"]}`)}, {tool: "delete_customer", headers: jwt(`{"roles":["support"]}`), code: "ADMIN_REQUIRED"},
		},
		"opa-tenant-resources.yaml": {
			{resource: "https://files.example.com/tenants/acme/report.pdf", headers: acme},
			{resource: "https://files.example.com/tenants/globex/report.pdf", headers: acme, code: "TENANT_RESOURCE"},
		},
		"opa-rbac.yaml": {
			{prompt: "summarize", headers: jwt(`{"roles":["viewer"]}`)}, {prompt: "draft_reply", headers: jwt(`{"roles":["viewer"]}`), code: "OPA_DENIED"},
			{tool: "get_ticket", headers: jwt(`{"roles":["viewer"]}`)},
		},
	} {
		t.Run(file, func(t *testing.T) {
			base := startDevWith(t, filepath.Join(repoRoot(t), "examples", "policies", file), up.URL)
			ctx := context.Background()
			for _, c := range calls {
				cs := connectAs(t, base, c.headers)
				var err error
				switch {
				case c.tool != "":
					if c.args == nil {
						c.args = map[string]any{}
					}
					var res *mcp.CallToolResult
					res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: c.tool, Arguments: c.args})
					if err == nil && (res.IsError || text(t, res.Content) != c.tool+" done") {
						t.Errorf("%s: unexpected result %+v", c.tool, res)
					}
				case c.prompt != "":
					_, err = cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: c.prompt})
				default:
					_, err = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: c.resource})
				}
				var rpcErr *jsonrpc.Error
				switch {
				case c.code == "" && err != nil:
					t.Errorf("%+v: want success, got %v", c, err)
				case c.code != "" && (!errors.As(err, &rpcErr) || !strings.Contains(string(rpcErr.Data), `"code":"`+c.code+`"`)):
					t.Errorf("%+v: want the JSON-RPC error with %s, got %v", c, c.code, err)
				}
			}
		})
	}
}
