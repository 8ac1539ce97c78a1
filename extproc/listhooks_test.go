package extproc

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// hideTools removes the listed tools from tools/list results.
type hideTools struct{ names []string }

func (h hideTools) ToolsPostList(_ context.Context, p *framework.ToolsPostListPayload, _ *framework.PluginContext) (framework.Result[framework.ToolsPostListPayload], error) {
	var tools []json.RawMessage
	if err := json.Unmarshal(p.Tools, &tools); err != nil {
		return framework.Result[framework.ToolsPostListPayload]{}, err
	}
	var kept []json.RawMessage
	var hidden []framework.HiddenItem
	for _, t := range tools {
		var named struct{ Name string }
		_ = json.Unmarshal(t, &named)
		if slices.Contains(h.names, named.Name) {
			hidden = append(hidden, framework.HiddenItem{Name: named.Name, Code: "TEST_HIDDEN", Reason: "listed"})
			continue
		}
		kept = append(kept, t)
	}
	if len(hidden) == 0 {
		return framework.Result[framework.ToolsPostListPayload]{}, nil
	}
	out, _ := json.Marshal(kept)
	return framework.Result[framework.ToolsPostListPayload]{
		ModifiedPayload: &framework.ToolsPostListPayload{Tools: out, ServerID: p.ServerID},
		Metadata:        map[string]any{framework.MetadataHiddenItems: hidden},
	}, nil
}

func listHarness(t *testing.T) *harness {
	reg := testRegistry()
	reg.Register(framework.Kind{Name: "test_hide", Hooks: []framework.HookType{framework.ToolsPostList},
		New: func(*framework.PluginConfig) (framework.Plugin, error) {
			return hideTools{names: []string{"drop_db"}}, nil
		}})
	return newHarness(t, "mcp: {paths: [/mcp]}\nplugins:\n  - {name: hide, kind: test_hide}\n", reg)
}

const toolsPage = `{"tools":[{"name":"read","inputSchema":{"type":"object"}},{"name":"drop_db","inputSchema":{"type":"object"}}],"nextCursor":"page-2"}`

func TestToolsListHook(t *testing.T) {
	h := listHarness(t)
	want := `{"jsonrpc":"2.0","id":3,"result":{"tools":[{"name":"read","inputSchema":{"type":"object"}}],"nextCursor":"page-2"}}`
	t.Run("json", func(t *testing.T) {
		st := h.open(buffered, buffered)
		postRequest(t, st, `{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"cursor":"page-1"}}`)
		got, ok := mutatedBody(t, jsonResponse(t, st, `{"jsonrpc":"2.0","id":3,"result":`+toolsPage+`}`))
		if !ok || got != want {
			t.Fatalf("got %s (mutated %v)\nwant %s", got, ok, want)
		}
	})
	t.Run("sse", func(t *testing.T) {
		st := h.open(buffered, buffered)
		postRequest(t, st, `{"jsonrpc":"2.0","id":3,"method":"tools/list"}`)
		st.roundTrip(respHeaders("content-type", "text/event-stream"))
		got, ok := mutatedBody(t, st.roundTrip(respBody("event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":3,\"result\":"+toolsPage+"}\n\n", true)))
		if !ok || got != "event: message\ndata: "+want+"\n\n" {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("by shape on another stream", func(t *testing.T) {
		st := h.open(buffered, buffered)
		postRequest(t, st, `{"jsonrpc":"2.0","id":1,"method":"ping"}`)
		got, ok := mutatedBody(t, jsonResponse(t, st, `{"jsonrpc":"2.0","id":77,"result":`+toolsPage+`}`))
		if !ok || strings.Contains(got, "drop_db") {
			t.Fatalf("got %s", got)
		}
	})
	if n := counterValue(t, h, "mcp_extproc_list_items_hidden_total", map[string]string{"plugin": "hide", "code": "TEST_HIDDEN"}); n != 3 {
		t.Fatalf("hidden items counted %v times, want 3", n)
	}
}
