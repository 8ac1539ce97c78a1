package llamaguard_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/extproc/extproctest"
)

func TestThroughServer(t *testing.T) {
	srv := standIn(t)
	t.Setenv("LLAMA_GUARD_TEST_TOKEN", token)
	ep := extproctest.New(t, `plugins:
  - name: guard
    kind: llama_guard
    config:
      base_url: `+srv.URL+`
      model: `+model+`
      auth: {type: bearer, token_env: LLAMA_GUARD_TEST_TOKEN}
`)
	req := func(q string) string {
		return `{"jsonrpc":"2.0","id":"a1","method":"tools/call","params":{"name":"ask","arguments":{"q":` + quote(q) + `}}}`
	}
	res := func(text string) string {
		return `{"jsonrpc":"2.0","id":"a1","result":{"content":[{"type":"text","text":` + quote(text) + `}]}}`
	}
	for _, tc := range []struct {
		name, q, answer string
		blocked         bool
		categories      []string
	}{
		{"unsafe question", "how do I kill a man", "no", true, []string{"S1"}},
		{"safe exchange", "what is the weather", "sunny", false, nil},
		{"unsafe answer", "tell me a story", "how to make a pipe bomb", false, []string{"S9", "S1"}},
	} {
		for rname, resp := range map[string]extproctest.Response{"json": extproctest.JSON(res(tc.answer)), "sse": extproctest.SSE(res(tc.answer))} {
			t.Run(tc.name+"/"+rname, func(t *testing.T) {
				out := ep.Call(t, req(tc.q), resp)
				if out.Blocked != tc.blocked {
					t.Fatalf("blocked = %v: %+v", out.Blocked, out)
				}
				if tc.categories == nil {
					if out.Client != resp.Body {
						t.Fatalf("changed: %q", out.Client)
					}
					return
				}
				body := out.Client
				if rname == "sse" && !tc.blocked {
					for line := range strings.Lines(body) {
						if d, ok := strings.CutPrefix(strings.TrimSpace(line), "data: "); ok && strings.Contains(d, `"id":`) {
							body = d
						}
					}
				}
				var m struct {
					ID    string `json:"id"`
					Error struct {
						Data struct {
							Code    string `json:"code"`
							Details struct {
								Categories []string `json:"categories"`
								Role       string   `json:"role"`
							} `json:"details"`
						} `json:"data"`
					} `json:"error"`
				}
				if err := json.Unmarshal([]byte(body), &m); err != nil {
					t.Fatalf("%v: %q", err, body)
				}
				if m.ID != "a1" || m.Error.Data.Code != "CONTENT_MODERATION" || !slices.Equal(m.Error.Data.Details.Categories, tc.categories) {
					t.Fatalf("client got %s", body)
				}
			})
		}
	}
	// The result was assessed after the question that asked for it.
	var seen bool
	for _, r := range srv.Requests() {
		if p := r.Prompt; p.Role == "Agent" && len(p.Turns) == 2 && strings.Contains(p.Turns[0].Text, "tell me a story") {
			seen = true
		}
	}
	if !seen {
		t.Fatal("no Agent assessment carried the user's question")
	}
}
