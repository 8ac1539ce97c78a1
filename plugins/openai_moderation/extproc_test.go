package openaimoderation_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcp-extproc/mcp-extproc/extproc/extproctest"
	"github.com/mcp-extproc/mcp-extproc/plugins/openai_moderation/moderationtest"
)

func TestThroughServer(t *testing.T) {
	srv := standIn(t)
	t.Setenv("MODERATION_TEST_KEY", apiKey)
	ep := extproctest.New(t, `plugins:
  - name: moderation
    kind: openai_moderation
    config:
      base_url: `+srv.URL+`
      api_key_env: MODERATION_TEST_KEY
      block_categories: [violence, hate, self-harm]
`)
	result := func(text string) string {
		return `{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"` + text + `"}]}}`
	}
	for _, tc := range []struct {
		name, args, result string
		blocked            bool
		categories         []string
	}{
		{"flagged arguments", `"I will kill you"`, result("ok"), true, []string{"violence"}},
		{"clean exchange", `"good morning"`, result("posted"), false, nil},
		{"flagged result", `"post it"`, result("I hate all of them"), false, []string{"hate"}},
		{"flagged outside block_categories", `"you are worthless"`, result("ok"), false, nil},
	} {
		for rname, resp := range map[string]extproctest.Response{"json": extproctest.JSON(tc.result), "sse": extproctest.SSE(tc.result)} {
			t.Run(tc.name+"/"+rname, func(t *testing.T) {
				req := `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"post","arguments":{"text":` + tc.args + `}}}`
				out := ep.Call(t, req, resp)
				if out.Blocked != tc.blocked {
					t.Fatalf("blocked = %v: %+v", out.Blocked, out)
				}
				if tc.categories == nil {
					if out.Client != resp.Body {
						t.Fatalf("a clean exchange was changed: %q", out.Client)
					}
					return
				}
				body := out.Client
				if rname == "sse" && !tc.blocked {
					body = sseData(t, body)
				}
				var m struct {
					ID    int `json:"id"`
					Error struct {
						Data struct {
							Code    string `json:"code"`
							Plugin  string `json:"plugin"`
							Details struct {
								Categories []string `json:"categories"`
							} `json:"details"`
						} `json:"data"`
					} `json:"error"`
				}
				if err := json.Unmarshal([]byte(body), &m); err != nil {
					t.Fatalf("%v: %s", err, body)
				}
				d := m.Error.Data
				if m.ID != 3 || d.Code != "CONTENT_MODERATION" || d.Plugin != "moderation" || !slices.Equal(d.Details.Categories, tc.categories) {
					t.Fatalf("client got %s", body)
				}
			})
		}
	}
	// A failing service blocks by default (text not seen before: a cached
	// verdict would still serve).
	srv.SetFault(moderationtest.Fault{Status: 503})
	out := ep.Call(t, `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"post","arguments":{"text":"a new text"}}}`, extproctest.JSON(result("x")))
	if !out.Blocked || !json.Valid([]byte(out.Client)) || !strings.Contains(out.Client, `"code":"MODERATION_ERROR"`) {
		t.Fatalf("service down: %+v", out)
	}
}

// sseData returns the data of the stream's event that carries a JSON-RPC
// response (one with an id).
func sseData(t *testing.T, stream string) string {
	t.Helper()
	for _, ev := range strings.Split(stream, "\n\n") {
		for _, line := range strings.Split(ev, "\n") {
			if d, ok := strings.CutPrefix(line, "data: "); ok && strings.Contains(d, `"id":`) {
				return d
			}
		}
	}
	t.Fatalf("no response event in %q", stream)
	return ""
}

// A service slower than the plugin's timeout: the client gives up just
// before the deadline, so on_service_error: allow is honoured rather than
// the executor's PLUGIN_TIMEOUT.
func TestSlowServiceWithAllowPasses(t *testing.T) {
	srv := standIn(t)
	srv.SetFault(moderationtest.Fault{Delay: 3 * time.Second})
	t.Setenv("MODERATION_TEST_KEY", apiKey)
	ep := extproctest.New(t, `plugins:
  - name: moderation
    kind: openai_moderation
    timeout: 1s
    config:
      base_url: `+srv.URL+`
      api_key_env: MODERATION_TEST_KEY
      on_service_error: allow
      http: {timeout: 5s}
`)
	req := `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"post","arguments":{"text":"hello"}}}`
	start := time.Now()
	out := ep.Call(t, req, extproctest.JSON(`{"jsonrpc":"2.0","id":5,"result":{"content":[]}}`))
	if out.Blocked || out.Upstream != req {
		t.Fatalf("allow on a slow service: %+v", out)
	}
	if el := time.Since(start); el > 2500*time.Millisecond {
		t.Fatalf("took %v", el)
	}
}
