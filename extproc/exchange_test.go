package extproc

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

const testPolicy = `
mcp:
  paths: [/mcp]
  identity:
    user_header: x-user-id
plugins:
  - name: deny
    kind: test_deny
    priority: 10
    config: {tools: [delete_everything], prompts: [secret_prompt], uri_prefixes: ["file://"]}
  - name: mask
    kind: test_mask
    priority: 20
    config: {word: SECRET, block_word: FORBIDDEN}
`

const (
	buffered = filterv3.ProcessingMode_BUFFERED
	streamed = filterv3.ProcessingMode_STREAMED
	fullDup  = filterv3.ProcessingMode_FULL_DUPLEX_STREAMED
)

func toolCallBody(id, name, args string) string {
	return `{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":{"name":"` + name + `","arguments":` + args + `,"_meta":{"progressToken":"p1"}}}`
}

// postRequest plays request headers and a BUFFERED body; it returns the body answer.
func postRequest(t *testing.T, st *stream, body string, extraHeaders ...string) *extprocv3.ProcessingResponse {
	t.Helper()
	hr := st.roundTrip(postHeaders(len(body), extraHeaders...))
	if hr.GetRequestHeaders() == nil {
		t.Fatalf("request headers answered with %T", hr.Response)
	}
	if hr.ModeOverride != nil {
		t.Fatalf("an MCP POST must keep its body: mode_override %v", hr.ModeOverride)
	}
	return st.roundTrip(reqBody(body, true))
}

func TestNonMCPRequestSkipsBodies(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())
	for _, tc := range []struct{ method, path string }{{"POST", "/other"}, {"DELETE", "/mcp"}, {"PUT", "/mcp"}} {
		st := h.open(buffered, buffered)
		r := st.roundTrip(reqHeaders(false, ":method", tc.method, ":path", tc.path))
		if r.GetRequestHeaders() == nil || r.ModeOverride == nil {
			t.Fatalf("%s %s: answer %v", tc.method, tc.path, r)
		}
		mo := r.ModeOverride
		if mo.RequestBodyMode != filterv3.ProcessingMode_NONE || mo.ResponseBodyMode != filterv3.ProcessingMode_NONE || mo.ResponseHeaderMode != filterv3.ProcessingMode_SKIP {
			t.Fatalf("%s %s: mode_override %v, want no bodies", tc.method, tc.path, mo)
		}
		st.close()
	}
}

func TestAllowedToolCallIsNotMutated(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())
	st := h.open(buffered, buffered)
	r := postRequest(t, st, toolCallBody("1", "get_weather", `{"city":"Paris"}`))
	if _, replaced := mutatedBody(t, r); replaced || commonOf(t, r).GetHeaderMutation() != nil {
		t.Fatalf("allowed call was mutated: %v", r)
	}
	if r.GetRequestBody() == nil {
		t.Fatalf("answer %T", r.Response)
	}
}

// A content type the client lies about does not skip inspection.
func TestContentTypeNotTrusted(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())
	st := h.open(buffered, buffered)
	body := toolCallBody("9", "delete_everything", `{}`)
	st.roundTrip(reqHeaders(false, ":method", "POST", ":path", "/mcp", "content-type", "text/plain", "content-length", strconv.Itoa(len(body))))
	r := st.roundTrip(reqBody(body, true))
	immediateOf(t, r)
}

func TestModifiedToolCall(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())
	st := h.open(buffered, buffered)
	body := toolCallBody(`"abc"`, "send_mail", `{"to":"x","body":"the SECRET plan", "n": 1.50}`)
	r := postRequest(t, st, body)
	got, replaced := mutatedBody(t, r)
	want := strings.Replace(body, "SECRET", "******", 1)
	if !replaced || got != want {
		t.Fatalf("body\n got %s\nwant %s", got, want)
	}
	if cl, ok := headerSet(commonOf(t, r), "content-length"); !ok || cl != strconv.Itoa(len(want)) {
		t.Fatalf("content-length %q (set %v), want %d", cl, ok, len(want))
	}
}

func TestBlockedToolCall(t *testing.T) {
	for _, style := range []string{"jsonrpc_error", "tool_error"} {
		t.Run(style, func(t *testing.T) {
			policy := strings.Replace(testPolicy, "  paths: [/mcp]\n", "  paths: [/mcp]\n  block_response: "+style+"\n", 1)
			h := newHarness(t, policy, testRegistry())
			st := h.open(buffered, buffered)
			r := postRequest(t, st, toolCallBody(`"req-77"`, "delete_everything", `{}`))
			ir := immediateOf(t, r)
			if ir.GetStatus().GetCode() != 200 {
				t.Fatalf("status %v", ir.GetStatus())
			}
			var resp map[string]any
			if err := json.Unmarshal(ir.Body, &resp); err != nil {
				t.Fatal(err)
			}
			if resp["id"] != "req-77" || resp["jsonrpc"] != "2.0" {
				t.Fatalf("response %s lacks the request's id", ir.Body)
			}
			if style == "jsonrpc_error" {
				e := resp["error"].(map[string]any)
				data := e["data"].(map[string]any)
				if e["code"] != -32000.0 || e["message"] != "denied by policy: tool delete_everything is not allowed" || data["code"] != "TEST_DENIED" ||
					data["plugin"] != "deny" || data["description"] != "tool delete_everything is not allowed" {
					t.Fatalf("error %s", ir.Body)
				}
			} else {
				res := resp["result"].(map[string]any)
				text := res["content"].([]any)[0].(map[string]any)["text"]
				if res["isError"] != true || text != "denied by policy: tool delete_everything is not allowed" {
					t.Fatalf("tool error %s", ir.Body)
				}
			}
		})
	}
}

func TestBlockedPromptAndResource(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())
	for _, body := range []string{
		`{"jsonrpc":"2.0","id":3,"method":"prompts/get","params":{"name":"secret_prompt"}}`,
		`{"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"uri":"file:///etc/passwd"}}`,
	} {
		st := h.open(buffered, buffered)
		ir := immediateOf(t, postRequest(t, st, body))
		if !strings.Contains(string(ir.Body), `"id":3,"error":{"code":-32000`) {
			t.Fatalf("%s → %s", body, ir.Body)
		}
	}
}

// jsonResponse plays response headers and a BUFFERED JSON body.
func jsonResponse(t *testing.T, st *stream, body string) *extprocv3.ProcessingResponse {
	t.Helper()
	hr := st.roundTrip(respHeaders("content-type", "application/json", "content-length", strconv.Itoa(len(body))))
	if hr.GetResponseHeaders() == nil || (hr.ModeOverride != nil && hr.ModeOverride.ResponseBodyMode == filterv3.ProcessingMode_NONE) {
		t.Fatalf("hooked JSON response must stay BUFFERED: %v", hr)
	}
	return st.roundTrip(respBody(body, true))
}

func TestPostHookJSON(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())
	t.Run("modified", func(t *testing.T) {
		st := h.open(buffered, buffered)
		postRequest(t, st, toolCallBody("5", "read_notes", `{}`))
		body := `{"jsonrpc":"2.0","id":5,"result":{"content":[{"type":"text","text":"the SECRET is out"}],"isError":false}}`
		r := jsonResponse(t, st, body)
		got, ok := mutatedBody(t, r)
		if !ok || got != strings.Replace(body, "SECRET", "******", 1) {
			t.Fatalf("got %s", got)
		}
		if cl, _ := headerSet(commonOf(t, r), "content-length"); cl != strconv.Itoa(len(got)) {
			t.Fatalf("content-length %s", cl)
		}
	})
	t.Run("blocked", func(t *testing.T) {
		st := h.open(buffered, buffered)
		postRequest(t, st, toolCallBody("6", "read_notes", `{}`))
		r := jsonResponse(t, st, `{"jsonrpc":"2.0","id":6,"result":{"content":[{"type":"text","text":"FORBIDDEN data"}]}}`)
		got, ok := mutatedBody(t, r)
		if !ok || !strings.HasPrefix(got, `{"jsonrpc":"2.0","id":6,"error":{"code":-32000,"message":"result withheld: the result contains forbidden content","data":{"code":"TEST_RESULT_BLOCKED"`) || strings.Contains(got, "FORBIDDEN") {
			t.Fatalf("got %s", got)
		}
	})
	t.Run("untouched", func(t *testing.T) {
		st := h.open(buffered, buffered)
		postRequest(t, st, toolCallBody("7", "read_notes", `{}`))
		r := jsonResponse(t, st, `{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"fine"}]}}`)
		if _, ok := mutatedBody(t, r); ok {
			t.Fatal("unchanged result was rewritten")
		}
	})
}

// Without a post hook in the policy, a request no hook wraps gets no
// response inspection at all. With one, its response is read: a server may
// answer a hooked request of another stream there.
func TestUnhookedResponse(t *testing.T) {
	t.Run("no post hook: skipped", func(t *testing.T) {
		h := newHarness(t, "mcp: {paths: [/mcp]}\nplugins:\n  - {name: deny, kind: test_deny, config: {tools: [x]}}\n", testRegistry())
		st := h.open(buffered, buffered)
		postRequest(t, st, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
		hr := st.roundTrip(respHeaders("content-type", "application/json"))
		if hr.ModeOverride == nil || hr.ModeOverride.ResponseBodyMode != filterv3.ProcessingMode_NONE {
			t.Fatalf("want response body NONE, got %v", hr.ModeOverride)
		}
	})
	t.Run("post hook: read", func(t *testing.T) {
		h := newHarness(t, testPolicy, testRegistry())
		st := h.open(buffered, buffered)
		postRequest(t, st, `{"jsonrpc":"2.0","id":1,"method":"ping"}`)
		// The answer of the ping, and a tool result of another stream.
		r := jsonResponse(t, st, `[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":99,"result":{"content":[{"type":"text","text":"a SECRET"}]}}]`)
		got, ok := mutatedBody(t, r)
		if !ok || strings.Contains(got, "SECRET") || !strings.Contains(got, `"id":1,"result":{}`) {
			t.Fatalf("got %q (mutated %v)", got, ok)
		}
	})
}
