package denylist_test

import (
	"encoding/json"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/extproc/extproctest"
)

func TestThroughServer(t *testing.T) {
	// A ContextForge entry, as written in its plugins/config.yaml.
	srv := extproctest.New(t, `plugins:
  - name: "DenyListPlugin"
    kind: "plugins.deny_filter.deny.DenyListPlugin"
    hooks: ["prompt_pre_fetch", "tool_pre_invoke"]
    mode: "sequential"
    config:
      words: [innovative, "rm -rf"]
      match: word
`)
	toolRes := `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"innovative"}]}}`
	for _, tc := range []struct {
		name, req string
		blocked   bool
		path      string
	}{
		{"tool blocked", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"shell","arguments":{"cmd":{"argv":["sh","-c","RM -RF /"]}}}}`, true, "$.cmd.argv[2]"},
		{"tool passes", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"shell","arguments":{"cmd":"ls -la innovatively"}}}`, false, ""},
		{"prompt blocked", `{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"pitch","arguments":{"topic":"Innovative widgets"}}}`, true, "$.topic"},
		{"prompt passes", `{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"pitch","arguments":{"topic":"widgets"}}}`, false, ""},
	} {
		for rname, resp := range map[string]extproctest.Response{"json": extproctest.JSON(toolRes), "sse": extproctest.SSE(toolRes)} {
			t.Run(tc.name+"/"+rname, func(t *testing.T) {
				out := srv.Call(t, tc.req, resp)
				if out.Blocked != tc.blocked {
					t.Fatalf("blocked = %v: %+v", out.Blocked, out)
				}
				if !tc.blocked {
					// A pre-hook plugin leaves the request and the result alone,
					// even when the result holds a denied word.
					if out.Upstream != tc.req || out.Client != resp.Body {
						t.Fatalf("passed exchange changed: %+v", out)
					}
					return
				}
				var m struct {
					ID    int `json:"id"`
					Error struct {
						Code int `json:"code"`
						Data struct {
							Code    string         `json:"code"`
							Plugin  string         `json:"plugin"`
							Details map[string]any `json:"details"`
						} `json:"data"`
					} `json:"error"`
				}
				if err := json.Unmarshal([]byte(out.Client), &m); err != nil {
					t.Fatalf("%v: %s", err, out.Client)
				}
				d := m.Error.Data
				if m.ID != 1 || m.Error.Code != -32000 || d.Code != "DENY_LIST_MATCH" || d.Plugin != "DenyListPlugin" || d.Details["path"] != tc.path {
					t.Fatalf("error response: %s", out.Client)
				}
			})
		}
	}
}
