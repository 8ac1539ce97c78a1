package extproc

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// sseStream is a POST's SSE response: a priming event, progress
// notifications, a server-to-client request, and the result.
const sseStream = "id: ev-0\ndata:\n\n" +
	": keep-alive comment\n\n" +
	"event: message\nid: ev-1\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":\"p1\",\"progress\":1,\"message\":\"SECRET progress passes untouched\"}}\n\n" +
	"event: message\nid: ev-2\ndata: {\"jsonrpc\":\"2.0\",\"id\":\"s1\",\"method\":\"sampling/createMessage\",\"params\":{\"messages\":[]}}\n\n" +
	"id: ev-3\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":42,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"the SECRET result\"}]}}\n\n"

// playSSE sends the stream in the given chunks and returns what Envoy would
// forward to the client (the concatenated chunk answers).
func playSSE(t *testing.T, h *harness, chunks []string) string {
	t.Helper()
	st := h.open(buffered, buffered)
	postRequest(t, st, toolCallBody("42", "long_job", `{}`))
	hr := st.roundTrip(respHeaders("content-type", "text/event-stream", "content-length", "999"))
	if hr.ModeOverride == nil || hr.ModeOverride.ResponseBodyMode != streamed {
		t.Fatalf("SSE must switch to STREAMED: %v", hr.ModeOverride)
	}
	if !headerRemoved(commonOf(t, hr), "content-length") {
		t.Fatal("content-length must be removed from a streamed response")
	}
	var out strings.Builder
	for i, c := range chunks {
		r := st.roundTrip(respBody(c, i == len(chunks)-1))
		if got, replaced := mutatedBody(t, r); replaced {
			out.WriteString(got)
		} else {
			out.WriteString(c)
		}
	}
	st.close()
	return out.String()
}

func TestSSEResponseEveryByteBoundary(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())
	masked := strings.Replace(sseStream, "the SECRET result", "the ****** result", 1)
	whole := playSSE(t, h, []string{sseStream})
	if whole != masked {
		t.Fatalf("whole stream:\n%q\nwant\n%q", whole, masked)
	}
	for cut := 1; cut < len(sseStream); cut++ {
		got := playSSE(t, h, []string{sseStream[:cut], sseStream[cut:]})
		if got != masked {
			t.Fatalf("split at %d:\n%q\nwant\n%q", cut, got, masked)
		}
	}
	// And three-way splits around the result event.
	start := strings.Index(sseStream, "id: ev-3")
	for a := start; a < len(sseStream)-1; a += 7 {
		got := playSSE(t, h, []string{sseStream[:a], sseStream[a : a+1], sseStream[a+1:]})
		if got != masked {
			t.Fatalf("split at %d,%d: %q", a, a+1, got)
		}
	}
}

// Progress notifications reach the client as they come: a chunk that ends
// an event is answered with that event, not held until the result.
func TestSSEDoesNotBufferStream(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())
	st := h.open(buffered, buffered)
	postRequest(t, st, toolCallBody("42", "long_job", `{}`))
	st.roundTrip(respHeaders("content-type", "text/event-stream"))
	ev := "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":\"p1\",\"progress\":1}}\n\n"
	r := st.roundTrip(respBody(ev, false))
	if got, replaced := mutatedBody(t, r); replaced && got != ev {
		t.Fatalf("progress event held back or changed: %q", got)
	}
	half := ev[:20]
	r = st.roundTrip(respBody(half, false))
	if got, replaced := mutatedBody(t, r); !replaced || got != "" {
		t.Fatalf("a partial event must be held back, got %q (replaced %v)", got, replaced)
	}
	r = st.roundTrip(respBody(ev[20:], true))
	if got, _ := mutatedBody(t, r); got != ev {
		t.Fatalf("held-back event not released: %q", got)
	}
}

func TestRejectedBadInput(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())
	gz := func(s string) string {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		_, _ = w.Write([]byte(s))
		_ = w.Close()
		return b.String()
	}
	big := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"a":"` + strings.Repeat("x", 4<<20) + `"}}}`
	tests := []struct {
		name     string
		body     string
		headers  []string
		status   int
		code     int
		reason   string
		wantID   string
		atHeader bool
	}{
		{name: "not JSON", body: `hello`, status: 400, code: -32700, reason: "parse_error", wantID: "null"},
		{name: "trailing data", body: toolCallBody("1", "x", `{}`) + `{}`, status: 400, code: -32700, reason: "parse_error"},
		{name: "invalid UTF-8", body: "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"x\xff\"}}", status: 400, code: -32700, reason: "parse_error"},
		{name: "duplicate key", body: `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"get_weather","name":"delete_everything"}}`, status: 400, code: -32600, reason: "invalid_request", wantID: "4"},
		{name: "case-variant key", body: `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"get_weather","Name":"delete_everything"}}`, status: 400, code: -32600, reason: "invalid_request", wantID: "5"},
		{name: "case-variant method", body: `{"jsonrpc":"2.0","id":6,"method":"tools/list","Method":"tools/call","params":{"name":"delete_everything"}}`, status: 400, code: -32600, reason: "invalid_request"},
		{name: "too large", body: big, status: 413, code: -32600, reason: "body_too_large", atHeader: true},
		{name: "unsupported encoding", body: "xx", headers: []string{"content-encoding", "br"}, status: 415, code: -32600, reason: "unsupported_encoding", atHeader: true},
		{name: "header mismatch", body: toolCallBody("8", "delete_everything", `{}`), headers: []string{"mcp-method", "tools/call", "mcp-name", "get_weather"}, status: 400, code: -32600, reason: "header_mismatch", wantID: "8"},
		{name: "method header mismatch", body: toolCallBody("9", "x", `{}`), headers: []string{"mcp-method", "tools/list"}, status: 400, code: -32600, reason: "header_mismatch", wantID: "9"},
		{name: "gzip bomb", body: gz(big), headers: []string{"content-encoding", "gzip"}, status: 413, code: -32600, reason: "body_too_large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := h.open(buffered, buffered)
			r := st.roundTrip(postHeaders(len(tc.body), tc.headers...))
			if !tc.atHeader {
				if r.GetRequestHeaders() == nil {
					t.Fatalf("headers answered with %T", r.Response)
				}
				r = st.roundTrip(reqBody(tc.body, true))
			}
			ir := immediateOf(t, r)
			if int(ir.GetStatus().GetCode()) != tc.status {
				t.Fatalf("status %d, want %d (%s)", ir.GetStatus().GetCode(), tc.status, ir.Body)
			}
			if !strings.Contains(string(ir.Body), fmt.Sprintf(`"error":{"code":%d`, tc.code)) {
				t.Fatalf("body %s, want code %d", ir.Body, tc.code)
			}
			if tc.wantID != "" && !strings.Contains(string(ir.Body), `"id":`+tc.wantID+`,`) {
				t.Fatalf("body %s, want id %s", ir.Body, tc.wantID)
			}
			if v := counterValue(t, h, "mcp_extproc_rejections_total", map[string]string{"reason": tc.reason}); v < 1 {
				t.Fatalf("rejection %s not counted", tc.reason)
			}
		})
	}
}

// A gzip-compressed request is decoded and inspected; when it is rewritten
// it is forwarded uncompressed, without content-encoding.
func TestCompressedRequestInspected(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = w.Write([]byte(toolCallBody("1", "delete_everything", `{}`)))
	_ = w.Close()
	st := h.open(buffered, buffered)
	st.roundTrip(postHeaders(b.Len(), "content-encoding", "gzip"))
	immediateOf(t, st.roundTrip(reqBody(b.String(), true)))

	b.Reset()
	w = gzip.NewWriter(&b)
	_, _ = w.Write([]byte(toolCallBody("2", "x", `{"q":"SECRET"}`)))
	_ = w.Close()
	st = h.open(buffered, buffered)
	st.roundTrip(postHeaders(b.Len(), "content-encoding", "gzip"))
	r := st.roundTrip(reqBody(b.String(), true))
	got, ok := mutatedBody(t, r)
	if !ok || !strings.Contains(got, `"q":"******"`) || !headerRemoved(commonOf(t, r), "content-encoding") {
		t.Fatalf("compressed request not rewritten plainly: %q", got)
	}
}

func TestBatchElementBlocked(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())
	st := h.open(buffered, buffered)
	body := `[` + toolCallBody("1", "get_weather", `{}`) + `,` + toolCallBody("2", "delete_everything", `{}`) + `]`
	r := postRequest(t, st, body)
	got, ok := mutatedBody(t, r)
	if !ok || got != `[`+toolCallBody("1", "get_weather", `{}`)+`]` {
		t.Fatalf("forwarded batch %s", got)
	}
	resp := jsonResponse(t, st, `[{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"a SECRET"}]}}]`)
	out, _ := mutatedBody(t, resp)
	if !strings.HasPrefix(out, `[{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"a ******"}]}},{"jsonrpc":"2.0","id":2,"error":{"code":-32000`) {
		t.Fatalf("batch response %s", out)
	}

	st = h.open(buffered, buffered)
	all := `[` + toolCallBody("3", "delete_everything", `{}`) + `]`
	ir := immediateOf(t, postRequest(t, st, all))
	if !strings.HasPrefix(string(ir.Body), `[{"jsonrpc":"2.0","id":3,"error"`) {
		t.Fatalf("all blocked: %s", ir.Body)
	}

	policy := strings.Replace(testPolicy, "  paths: [/mcp]\n", "  paths: [/mcp]\n  batches: reject\n", 1)
	h2 := newHarness(t, policy, testRegistry())
	st = h2.open(buffered, buffered)
	immediateOf(t, postRequest(t, st, `[`+toolCallBody("1", "get_weather", `{}`)+`]`))
}

// A result fetched again on a GET stream resumed with Last-Event-ID is
// masked as it was on its POST: the session table remembers the request.
func TestResumedGETStreamMasked(t *testing.T) {
	h := recorderHarness(t)
	st := h.open(buffered, buffered)
	postRequest(t, st, toolCallBody("42", "read_diary", `{}`), "mcp-session-id", "sess-A")
	st.close() // the POST's stream broke before the result arrived

	event := "id: ev-9\ndata: {\"jsonrpc\":\"2.0\",\"id\":42,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"my SECRET\"}]}}\n\n"
	get := h.open(buffered, buffered)
	r := get.roundTrip(reqHeaders(true, ":method", "GET", ":path", "/mcp", "accept", "text/event-stream", "mcp-session-id", "sess-A", "last-event-id", "ev-3"))
	if r.ModeOverride != nil {
		t.Fatalf("a GET stream on an MCP path must be inspected: %v", r.ModeOverride)
	}
	hr := get.roundTrip(respHeaders("content-type", "text/event-stream"))
	if hr.ModeOverride.GetResponseBodyMode() != streamed {
		t.Fatal("GET SSE must be STREAMED")
	}
	out, _ := mutatedBody(t, get.roundTrip(respBody(event, false)))
	if out != strings.Replace(event, "SECRET", "******", 1) {
		t.Fatalf("resumed result not masked: %q", out)
	}
	if got := <-recorded; got != "read_diary|read_diary" {
		t.Fatalf("post hook saw %q: want the tool name and the pre hook's state", got)
	}
	if v := counterValue(t, h, "mcp_extproc_results_total", map[string]string{"matched": "session", "outcome": "modified"}); v != 1 {
		t.Fatalf("session match not counted: %v", v)
	}

	// Another session's GET cannot find it, but shape matching still masks it.
	other := h.open(buffered, buffered)
	other.roundTrip(reqHeaders(true, ":method", "GET", ":path", "/mcp", "mcp-session-id", "sess-B"))
	other.roundTrip(respHeaders("content-type", "text/event-stream"))
	out, _ = mutatedBody(t, other.roundTrip(respBody(event, false)))
	if !strings.Contains(out, "my ******") {
		t.Fatalf("unmatched result not masked by shape: %q", out)
	}
	if got := <-recorded; got != "|" {
		t.Fatalf("shape-matched result should have an unknown name, got %q", got)
	}
}

func TestStreamedRequestBody(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())
	body := toolCallBody("1", "send", `{"text":"a SECRET b"}`)
	want := strings.Replace(body, "SECRET", "******", 1)
	for _, mode := range []filterv3.ProcessingMode_BodySendMode{streamed, fullDup} {
		t.Run(mode.String(), func(t *testing.T) {
			st := h.open(mode, buffered)
			st.roundTrip(postHeaders(len(body)))
			chunks := []string{body[:10], body[10:30], body[30:]}
			var got strings.Builder
			for i, c := range chunks {
				last := i == len(chunks)-1
				st.send(reqBody(c, last))
				if mode == fullDup && !last {
					continue // full duplex: nothing is answered until the body is whole
				}
				r := st.recv()
				b, replaced := mutatedBody(t, r)
				if !replaced {
					t.Fatalf("chunk %d passed unmodified: it would reach the server uninspected", i)
				}
				got.WriteString(b)
				if mode == fullDup {
					if sr := commonOf(t, r).GetBodyMutation().GetStreamedResponse(); sr == nil || !sr.EndOfStream {
						t.Fatal("full duplex answer must be a streamed_response with end_of_stream")
					}
				}
			}
			if got.String() != want {
				t.Fatalf("forwarded %q, want %q", got.String(), want)
			}
		})
	}
	// A blocked call in full duplex mode gets its immediate response.
	st := h.open(fullDup, buffered)
	b := toolCallBody("2", "delete_everything", `{}`)
	st.roundTrip(postHeaders(len(b)))
	st.send(reqBody(b[:5], false))
	immediateOf(t, st.roundTrip(reqBody(b[5:], true)))
}

// A reload changes the verdict for new streams; a stream already running
// finishes on the policy it started with.
func TestReloadKeepsInFlightStream(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())
	inflight := h.open(buffered, buffered)
	inflight.roundTrip(postHeaders(10)) // the stream has started on the old policy

	newPolicy := strings.Replace(testPolicy, "tools: [delete_everything]", "tools: [delete_everything, get_weather]", 1)
	cfg, _, err := framework.Parse([]byte(newPolicy), "new.yaml", framework.LoadOptions{Registry: testRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.srv.Reload(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	body := toolCallBody("1", "get_weather", `{}`)
	r := inflight.roundTrip(reqBody(body, true))
	if r.GetImmediateResponse() != nil {
		t.Fatal("the in-flight stream switched policy")
	}
	fresh := h.open(buffered, buffered)
	immediateOf(t, postRequest(t, fresh, body))

	bad, _, _ := framework.Parse([]byte("plugins: []\n"), "bad.yaml", framework.LoadOptions{Registry: testRegistry()})
	bad.Plugins = []framework.PluginConfig{{Name: "x", Kind: "no_such_kind", Mode: framework.ModeEnforce}}
	if err := h.srv.Reload(context.Background(), bad); err == nil {
		t.Fatal("a config that does not build was accepted")
	}
	immediateOf(t, postRequest(t, h.open(buffered, buffered), body)) // old (second) policy still serves
	if counterValue(t, h, "mcp_extproc_config_reloads_total", map[string]string{"result": "failure"}) != 1 ||
		counterValue(t, h, "mcp_extproc_config_reloads_total", map[string]string{"result": "success"}) != 1 {
		t.Fatal("reloads not counted")
	}
}

func TestMetricsEndpoint(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())
	postRequest(t, h.open(buffered, buffered), toolCallBody("1", "get_weather", `{}`))
	postRequest(t, h.open(buffered, buffered), toolCallBody("2", "delete_everything", `{}`))
	postRequest(t, h.open(buffered, buffered), toolCallBody("3", "x", `{"a":"SECRET"}`))
	postRequest(t, h.open(buffered, buffered), `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","name":"b"}}`)
	srv := httptest.NewServer(h.srv.OpsHandler(h.reg))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(b)
	for _, want := range []string{
		`mcp_extproc_requests_total{method="tools/call",outcome="allowed"} 1`,
		`mcp_extproc_requests_total{method="tools/call",outcome="blocked"} 1`,
		`mcp_extproc_requests_total{method="tools/call",outcome="modified"} 1`,
		`mcp_extproc_rejections_total{reason="invalid_request"} 1`,
		`mcp_extproc_violations_total{code="TEST_DENIED",plugin="deny"} 1`,
		`mcp_extproc_plugin_duration_seconds_count{hook="tool_pre_invoke",plugin="mask"} 2`,
		`mcp_extproc_hook_duration_seconds_count{hook="tool_pre_invoke"} 3`,
		`mcp_extproc_active_streams`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", path, err, resp.Status)
		}
		resp.Body.Close()
	}
}

func counterValue(t *testing.T, h *harness, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue metric
				}
			}
			total += m.GetCounter().GetValue()
		}
	}
	return total
}

var _ = mcpparse.NullID
var _ = extprocv3.ProcessingRequest{}

func TestAttackerShapedInputs(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())
	t.Run("duplicate ids in a batch", func(t *testing.T) {
		st := h.open(buffered, buffered)
		body := `[` + toolCallBody("1", "secret_tool", `{}`) + `,` + toolCallBody("1", "harmless", `{}`) + `]`
		ir := immediateOf(t, postRequest(t, st, body))
		if !strings.Contains(string(ir.Body), "duplicate request id 1") {
			t.Fatalf("%s", ir.Body)
		}
	})
	t.Run("GET with a body", func(t *testing.T) {
		st := h.open(buffered, buffered)
		st.roundTrip(reqHeaders(false, ":method", "GET", ":path", "/mcp"))
		immediateOf(t, st.roundTrip(reqBody(toolCallBody("1", "delete_everything", `{}`), true)))
	})
	t.Run("escaped method and name", func(t *testing.T) {
		st := h.open(buffered, buffered)
		body := `{"jsonrpc":"2.0","id":1,"method":"tools\u002fcall","params":{"name":"delete\u005feverything"}}`
		immediateOf(t, postRequest(t, st, body))
	})
	t.Run("notification with a hooked method", func(t *testing.T) {
		st := h.open(buffered, buffered)
		body := `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"delete_everything"}}`
		ir := immediateOf(t, postRequest(t, st, body))
		if !strings.Contains(string(ir.Body), `"id":null`) {
			t.Fatalf("%s", ir.Body)
		}
	})
	t.Run("result in a text/plain response", func(t *testing.T) {
		st := h.open(buffered, buffered)
		postRequest(t, st, toolCallBody("3", "read", `{}`))
		hr := st.roundTrip(respHeaders("content-type", "text/plain"))
		if hr.ModeOverride != nil {
			t.Fatal("a hooked response must be read whatever its content type")
		}
		out, _ := mutatedBody(t, st.roundTrip(respBody(`{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"SECRET"}]}}`, true)))
		if strings.Contains(out, "SECRET") || out == "" {
			t.Fatalf("got %q", out)
		}
	})
	t.Run("duplicate keys in a hooked response", func(t *testing.T) {
		st := h.open(buffered, buffered)
		postRequest(t, st, toolCallBody(`"req-9"`, "read", `{}`))
		ir := immediateOf(t, jsonResponse(t, st, `{"jsonrpc":"2.0","id":"req-9","result":{"content":[{"type":"text","text":"x","text":"SECRET"}]}}`))
		if ir.GetStatus().GetCode() != 502 || strings.Contains(string(ir.Body), "SECRET") || !strings.Contains(string(ir.Body), `"id":"req-9"`) {
			t.Fatalf("%d %s", ir.GetStatus().GetCode(), ir.Body)
		}
	})
	t.Run("id reused across requests of one session", func(t *testing.T) {
		h := recorderHarness(t)
		for _, name := range []string{"secret_tool", "harmless"} {
			st := h.open(buffered, buffered)
			postRequest(t, st, toolCallBody("7", name, `{}`), "mcp-session-id", "s")
			st.close()
			waitFor(t, func() bool { return h.srv.sessions.Len() > 0 })
		}
		get := h.open(buffered, buffered)
		get.roundTrip(reqHeaders(true, ":method", "GET", ":path", "/mcp", "mcp-session-id", "s"))
		get.roundTrip(respHeaders("content-type", "text/event-stream"))
		get.roundTrip(respBody("data: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"content\":[]}}\n\n", false))
		if got := <-recorded; !strings.HasPrefix(got, "|") {
			t.Fatalf("an ambiguous id must be matched with an unknown name, got %q", got)
		}
	})
	t.Run("plugin rewrites arguments into garbage", func(t *testing.T) {
		h := newHarness(t, "plugins:\n  - {name: c, kind: test_corrupt}\n", testRegistry())
		ir := immediateOf(t, postRequest(t, h.open(buffered, buffered), toolCallBody("1", "x", `{}`)))
		if !strings.Contains(string(ir.Body), "could not be rewritten") {
			t.Fatalf("%s", ir.Body)
		}
	})
}

// recorderHarness serves the test policy plus a recorder of post-hook names.
func recorderHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t, testPolicy+"  - {name: rec, kind: test_recorder, priority: 30}\n", testRegistry())
	for len(recorded) > 0 {
		<-recorded
	}
	return h
}

// A path the server might route to MCP is inspected whatever its spelling.
func TestMCPPathVariantsInspected(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())
	for _, p := range []string{"/mcp", "/mcp/", "//mcp", "/MCP", "/%6Dcp", "/x/../mcp", "/mcp/sub", "/mcp?session=1"} {
		st := h.open(buffered, buffered)
		r := st.roundTrip(reqHeaders(false, ":method", "POST", ":path", p))
		if r.ModeOverride != nil {
			t.Errorf("%s: not inspected", p)
		}
		st.close()
	}
	for _, p := range []string{"/mcpx", "/other", "/healthz"} {
		st := h.open(buffered, buffered)
		if r := st.roundTrip(reqHeaders(false, ":method", "POST", ":path", p)); r.ModeOverride == nil {
			t.Errorf("%s: inspected, but it is not an MCP path", p)
		}
		st.close()
	}
}
