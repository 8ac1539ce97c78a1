package e2e

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	_ "github.com/mcp-extproc/mcp-extproc/plugins/all"
)

// supportServer returns customer data a policy must mask, and serves a
// file:// resource a policy must refuse.
func supportServer() http.Handler {
	s := mcp.NewServer(&mcp.Implementation{Name: "support", Version: "1.0.0"}, nil)
	type lookupArgs struct {
		Note string `json:"note,omitempty"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "lookup_customer"}, func(context.Context, *mcp.CallToolRequest, lookupArgs) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{
			Content:           []mcp.Content{&mcp.TextContent{Text: "Jane Doe, jane.doe@example.com, card 4111 1111 1111 1111"}},
			StructuredContent: map[string]any{"email": "jane.doe@example.com", "ssn": "123-45-6789"},
		}, nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "delete_customer"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		panic("the filter must never let this through")
	})
	s.AddResource(&mcp.Resource{URI: "file:///etc/passwd", Name: "passwd"}, func(context.Context, *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		panic("the filter must never let this through")
	})
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil)
}

// The support-desk example policy with built-in plugins, between the Go SDK
// client and server: PII in a result (text and structured content) arrives
// masked, a denied tool gets the design's error, a file:// resource is refused.
func TestBuiltinPluginsThroughFilter(t *testing.T) {
	policy, err := os.ReadFile(filepath.Join(repoRoot(t), "examples", "policies", "support-desk.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	st := startStack(t, string(policy), supportServer())
	cs := connect(t, st.URL, nil)
	ctx := context.Background()

	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "lookup_customer"})
	if err != nil {
		t.Fatal(err)
	}
	got := text(t, res.Content)
	structured, _ := res.StructuredContent.(map[string]any)
	for _, leaked := range []string{"jane.doe@example.com", "4111 1111 1111 1111"} {
		if strings.Contains(got, leaked) {
			t.Errorf("%q reached the client: %s", leaked, got)
		}
	}
	if structured["email"] == "jane.doe@example.com" || structured["ssn"] == "123-45-6789" {
		t.Errorf("structured content not masked: %v", structured)
	}
	if !strings.Contains(got, "1111") {
		t.Errorf("partial masking keeps the last four digits: %s", got)
	}

	_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "delete_customer"})
	var rpcErr *jsonrpc.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != -32000 || !strings.Contains(string(rpcErr.Data), `"code":"TOOL_DENIED"`) ||
		!strings.Contains(string(rpcErr.Data), `"plugin":"no-destructive-tools"`) {
		t.Errorf("delete_customer: want the design's JSON-RPC error, got %v (%+v)", err, rpcErr)
	}
	if _, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "file:///etc/passwd"}); err == nil {
		t.Error("file:// resource was read")
	}
}
