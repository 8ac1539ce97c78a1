package resourcefilter_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/extproc/extproctest"
)

// blockedCode returns data.code of a JSON-RPC error response (or of the
// SSE event carrying one), "" when the body holds no error.
func blockedCode(t *testing.T, body string) string {
	t.Helper()
	if i := strings.Index(body, "data: {"); i >= 0 {
		body = body[i+len("data: "):]
		body = body[:strings.IndexByte(body, '\n')]
	}
	var m struct {
		ID    json.RawMessage `json:"id"`
		Error *struct {
			Code int `json:"code"`
			Data struct {
				Code   string `json:"code"`
				Plugin string `json:"plugin"`
			} `json:"data"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &m); err != nil || m.Error == nil {
		return ""
	}
	if string(m.ID) != "1" || m.Error.Data.Plugin != "rf" || m.Error.Code != -32000 {
		t.Errorf("error response has id %s, plugin %q, code %d", m.ID, m.Error.Data.Plugin, m.Error.Code)
	}
	return m.Error.Data.Code
}

func readRequest(uri string) string {
	return `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"` + uri + `"}}`
}

func TestThroughServerDefaultRefusesFile(t *testing.T) {
	srv := extproctest.New(t, "plugins:\n  - name: rf\n    kind: resource_filter\n")
	out := srv.Call(t, readRequest("file:///etc/passwd"), extproctest.JSON(`{}`))
	if !out.Blocked || blockedCode(t, out.Client) != "PROTOCOL_BLOCKED" {
		t.Fatalf("file:// read not refused: %+v", out)
	}
	req := readRequest("https://example.com/doc")
	res := `{"jsonrpc":"2.0","id":1,"result":{"contents":[{"uri":"https://example.com/doc","text":"hi"}]}}`
	out = srv.Call(t, req, extproctest.JSON(res))
	if out.Blocked || out.Upstream != req || out.Client != res {
		t.Fatalf("allowed read changed: %+v", out)
	}
}

func TestThroughServer(t *testing.T) {
	srv := extproctest.New(t, `plugins:
  - name: rf
    kind: plugins.resource_filter.resource_filter.ResourceFilterPlugin
    config:
      blocked_domains: [evil.com]
      max_content_size: 64
      content_filters:
        - {pattern: 'api[_-]?key=\w+', replacement: 'api_key=[REDACTED]'}
`)
	if out := srv.Call(t, readRequest("HTTPS://CDN.EVIL.COM./x"), extproctest.JSON(`{}`)); !out.Blocked || blockedCode(t, out.Client) != "DOMAIN_BLOCKED" {
		t.Fatalf("blocked domain passed: %+v", out)
	}
	if out := srv.Call(t, readRequest("notes.txt"), extproctest.JSON(`{}`)); !out.Blocked || blockedCode(t, out.Client) != "INVALID_URI" {
		t.Fatalf("scheme-less URI passed: %+v", out)
	}
	req := readRequest("https://docs.example.com/cfg")
	res := `{"jsonrpc":"2.0","id":1,"result":{"contents":[{"uri":"https://docs.example.com/cfg","mimeType":"text/plain","text":"url=x API_KEY=abc123"}]}}`
	big := `{"jsonrpc":"2.0","id":1,"result":{"contents":[{"uri":"https://docs.example.com/cfg","text":"` + strings.Repeat("é", 40) + `"}]}}`
	for name, wrap := range map[string]func(string) extproctest.Response{
		"json": extproctest.JSON,
		"sse":  func(s string) extproctest.Response { return extproctest.SSE(s) },
	} {
		t.Run(name, func(t *testing.T) {
			out := srv.Call(t, req, wrap(res))
			if out.Blocked || out.Upstream != req {
				t.Fatalf("request changed: %+v", out)
			}
			if !strings.Contains(out.Client, `"text":"url=x api_key=[REDACTED]"`) || strings.Contains(out.Client, "abc123") {
				t.Fatalf("content not filtered: %s", out.Client)
			}
			if name == "sse" && !strings.HasPrefix(out.Client, "id: prime\ndata:\n\n") {
				t.Fatalf("priming event lost: %q", out.Client)
			}
			out = srv.Call(t, req, wrap(big))
			if got := blockedCode(t, out.Client); got != "CONTENT_SIZE_EXCEEDED" || strings.Contains(out.Client, "é") {
				t.Fatalf("oversized content passed: %+v", out)
			}
		})
	}
}

func toolCall(name string) string {
	return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + name + `","arguments":{}}}`
}

func promptGet(name string) string {
	return `{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"` + name + `"}}`
}

// The URI rules hold for resources that arrive inside tool and prompt
// results too (embedded: block, the default): an embedded resource or a
// resource link that resources/read would refuse refuses the whole result,
// in JSON and in SSE; allowed ones pass byte for byte.
func TestThroughServerEmbeddedResources(t *testing.T) {
	srv := extproctest.New(t, `plugins:
  - name: rf
    kind: resource_filter
    config:
      blocked_domains: [evil.com]
`)
	toolResult := func(block string) string {
		return `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"here"},` + block + `]}}`
	}
	promptResult := func(content string) string {
		return `{"jsonrpc":"2.0","id":1,"result":{"messages":[{"role":"user","content":{"type":"text","text":"hi"}},{"role":"user","content":` + content + `}]}}`
	}
	for _, tc := range []struct {
		name, req, res, code string
	}{
		{"tool embeds file", toolCall("read"), toolResult(`{"type":"resource","resource":{"uri":"file:///etc/passwd","text":"root:x:0:0"}}`), "PROTOCOL_BLOCKED"},
		{"tool links demo", toolCall("read"), toolResult(`{"type":"resource_link","uri":"demo://secret/1","name":"s"}`), "PROTOCOL_BLOCKED"},
		{"tool links blocked domain", toolCall("read"), toolResult(`{"type":"resource_link","uri":"https://cdn.EVIL.com./x","name":"s"}`), "DOMAIN_BLOCKED"},
		{"tool link with escaped type", toolCall("read"), toolResult(`{"type":"resourc\u0065_link","uri":"file:///etc/shadow","name":"s"}`), "PROTOCOL_BLOCKED"},
		{"prompt embeds file", promptGet("p"), promptResult(`{"type":"resource","resource":{"uri":"file:///etc/passwd","text":"root"}}`), "PROTOCOL_BLOCKED"},
		{"prompt content list links demo", promptGet("p"), promptResult(`[{"type":"resource_link","uri":"demo://x","name":"x"}]`), "PROTOCOL_BLOCKED"},
		{"tool embeds https", toolCall("read"), toolResult(`{"type":"resource","resource":{"uri":"https://docs.example.com/a","text":"ok"}}`), ""},
		{"tool text mentions file", toolCall("read"), toolResult(`{"type":"text","text":"see file:///etc/passwd","uri":"file:///x"}`), ""},
		{"prompt links https", promptGet("p"), promptResult(`{"type":"resource_link","uri":"https://docs.example.com/a","name":"a"}`), ""},
	} {
		for name, wrap := range map[string]func(string) extproctest.Response{
			"json": extproctest.JSON,
			"sse":  func(s string) extproctest.Response { return extproctest.SSE(s) },
		} {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				out := srv.Call(t, tc.req, wrap(tc.res))
				if tc.code == "" {
					if out.Blocked || !strings.Contains(out.Client, tc.res) {
						t.Fatalf("allowed result changed: %+v", out)
					}
					return
				}
				if got := blockedCode(t, out.Client); got != tc.code || strings.Contains(out.Client, "root") {
					t.Fatalf("code %q, want %q: %s", got, tc.code, out.Client)
				}
				if !strings.Contains(out.Client, `"embedded":"resource`) || !strings.Contains(out.Client, "result: protocol") && tc.code == "PROTOCOL_BLOCKED" {
					t.Fatalf("the error does not say where: %s", out.Client)
				}
			})
		}
	}

	allow := extproctest.New(t, "plugins:\n  - name: rf\n    kind: resource_filter\n    config: {embedded: allow}\n")
	res := toolResult(`{"type":"resource","resource":{"uri":"file:///etc/passwd","text":"root"}}`)
	if out := allow.Call(t, toolCall("read"), extproctest.JSON(res)); out.Blocked || out.Client != res {
		t.Fatalf("embedded: allow refused a tool result: %+v", out)
	}
	if out := allow.Call(t, readRequest("file:///etc/passwd"), extproctest.JSON(`{}`)); blockedCode(t, out.Client) != "PROTOCOL_BLOCKED" {
		t.Fatalf("embedded: allow stopped checking resources/read: %+v", out)
	}
}
