package external_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// An older plugin server exposes one tool per hook and no invoke_hook: the
// client finds that out and calls the hook's own tool.
func TestPerHookToolsFallback(t *testing.T) {
	s := mcp.NewServer(&mcp.Implementation{Name: "old-server", Version: "0"}, nil)
	obj := &jsonschema.Schema{Type: "object"}
	var gotHookType any = "unset"
	s.AddTool(&mcp.Tool{Name: "get_plugin_config", InputSchema: obj}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: `{"name":"old","hooks":["tool_pre_invoke"],"mode":"enforce","priority":7}`}}}, nil
	})
	s.AddTool(&mcp.Tool{Name: "tool_pre_invoke", InputSchema: obj}, func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var args map[string]any
		_ = json.Unmarshal(req.Params.Arguments, &args)
		gotHookType = args["hook_type"]
		text := `{"plugin_name":"old","result":{"continue_processing":false,"violation":{"reason":"old says no","description":"","code":"OLD_BLOCK","details":{}}}}`
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}, nil
	})
	srv := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil))
	defer srv.Close()

	m := manager(t, externalPolicy(httpMCP(srv.URL), "old"))
	v := pre(m, `{"x":1}`)
	if !v.blocked || v.code != "OLD_BLOCK" {
		t.Fatalf("%+v", v)
	}
	if gotHookType != nil {
		t.Fatalf("per-hook tools take no hook_type, got %v", gotHookType)
	}
	if m.HasHook("tool_post_invoke") {
		t.Fatal("hooks must come from the server's config")
	}
}
