package extproc

import (
	"strings"
	"testing"
)

// Tests for "read every response the way the client reads it": each case is
// a response a real MCP client (TypeScript, Go or Python SDK, or a browser's
// fetch) reads a result from, which the filter must therefore post-hook.
// The mask plugin of testPolicy replaces SECRET and blocks FORBIDDEN; a
// result still carrying SECRET after the filter is a bypass.

const secretResult = `{"content":[{"type":"text","text":"the SECRET result"}]}`

// playJSON posts a tools/call with the given id and answers it with body
// under the given response headers; it returns what the client receives:
// the rewritten body, the original, or an immediate response's body.
func playJSON(t *testing.T, h *harness, reqID, body string, respHdrs ...string) string {
	t.Helper()
	st := h.open(buffered, buffered)
	defer st.close()
	postRequest(t, st, toolCallBody(reqID, "read_notes", `{}`))
	if len(respHdrs) == 0 {
		respHdrs = []string{"content-type", "application/json"}
	}
	hr := st.roundTrip(respHeaders(respHdrs...))
	if hr.GetImmediateResponse() != nil {
		return string(hr.GetImmediateResponse().GetBody())
	}
	if mo := hr.GetModeOverride(); mo != nil && mo.GetResponseBodyMode() == 0 && hr.GetResponseHeaders() != nil && mo.ResponseHeaderMode != 0 {
		return body // body not requested: it reaches the client unread
	}
	r := st.roundTrip(respBody(body, true))
	if ir := r.GetImmediateResponse(); ir != nil {
		return string(ir.GetBody())
	}
	if got, ok := mutatedBody(t, r); ok {
		return got
	}
	return body
}

func TestResultIDsMatchByValue(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())
	for _, c := range []struct{ req, resp string }{
		{"7", `"7"`},        // TS SDK: Number("7")
		{"7", `7.0`},        // Go SDK: float64 → int64
		{"7", `7.9`},        // Go SDK truncates
		{"7", `" 7 "`},      // Number() trims
		{"7", `"0x7"`},      // Number() reads hex
		{"1000", `"1_000"`}, // Python int()
		{`"7"`, `7`},        // the other way round
		{"0", `""`},         // Number("") is 0, the TS SDK's first id
		{`"a"`, `"\u0061"`}, // escapes decoded
		{"9007199254740993", `9007199254740992`},
	} {
		body := `{"jsonrpc":"2.0","id":` + c.resp + `,"result":` + secretResult + `}`
		before := counterValue(t, h, "mcp_extproc_results_total", map[string]string{"matched": matchStream})
		if got := playJSON(t, h, c.req, body); strings.Contains(got, "SECRET") {
			t.Errorf("request id %s, response id %s: result reached the client unmasked: %s", c.req, c.resp, got)
		}
		// Matched to its own request (with its name and contexts), not
		// guessed from its shape.
		if after := counterValue(t, h, "mcp_extproc_results_total", map[string]string{"matched": matchStream}); after != before+1 {
			t.Errorf("request id %s, response id %s: not matched to its request", c.req, c.resp)
		}
	}
}

// Two requests of one batch whose ids a client would confuse cannot be
// told apart in the response: the answer to the unhooked one could be the
// one the client takes for the hooked one's.
func TestBatchIDsClientsConfuse(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())
	for _, other := range []string{`"7"`, `7.0`, `"0x7"`} {
		st := h.open(buffered, buffered)
		body := `[` + toolCallBody("7", "read_notes", `{}`) + `,{"jsonrpc":"2.0","id":` + other + `,"method":"ping"}]`
		r := postRequest(t, st, body)
		ir := r.GetImmediateResponse()
		if ir == nil || ir.GetStatus().GetCode() != 400 || !strings.Contains(string(ir.GetBody()), "duplicate request id") {
			t.Errorf("batch with ids 7 and %s: %v", other, r)
		}
		st.close()
	}
}

func TestStructuredContentOnlyResultClassified(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())
	// The result answers an id this stream does not know (another replica
	// saw the request): it is matched by its shape.
	body := `{"jsonrpc":"2.0","id":555,"result":{"structuredContent":{"note":"a SECRET"}}}`
	if got := playJSON(t, h, "1", body); strings.Contains(got, "SECRET") {
		t.Fatalf("structuredContent-only result passed unmasked: %s", got)
	}
}

func TestUnreadableJSONBodies(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())
	result := `{"jsonrpc":"2.0","id":7,"result":` + secretResult + `}`
	t.Run("BOM is read like fetch and Node read it", func(t *testing.T) {
		got := playJSON(t, h, "7", "\xEF\xBB\xBF"+result)
		if strings.Contains(got, "SECRET") || !strings.Contains(got, "******") {
			t.Fatalf("BOM body: %q", got)
		}
	})
	t.Run("repeated content-type read as SSE", func(t *testing.T) {
		sse := "event: message\ndata: " + result + "\n\n"
		for _, ct := range []string{"text/event-stream,application/json", "application/json, text/event-stream", "text/plain;x=1,text/event-stream"} {
			got := playJSON(t, h, "7", sse, "content-type", ct)
			if strings.Contains(got, "SECRET") {
				t.Errorf("content-type %q: %q", ct, got)
			}
		}
		// The same joined type with a JSON body is read as JSON.
		if got := playJSON(t, h, "7", result, "content-type", "text/event-stream,application/json"); strings.Contains(got, "SECRET") || !strings.Contains(got, "******") {
			t.Errorf("JSON body under a joined type: %q", got)
		}
	})
	t.Run("not JSON is withheld by default", func(t *testing.T) {
		for _, body := range []string{"the SECRET in plain text", "\f" + result, result + " trailing", `{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"SECRET"}]},"id":8}`} {
			got := playJSON(t, h, "7", body)
			if strings.Contains(got, "SECRET") || !strings.Contains(got, "UNINSPECTABLE_RESPONSE") || !strings.Contains(got, `"id":7`) {
				t.Errorf("body %q reached the client as %q", body, got)
			}
		}
	})
	t.Run("empty body passes", func(t *testing.T) {
		if got := playJSON(t, h, "7", " \r\n"); got != " \r\n" {
			t.Fatalf("empty body changed: %q", got)
		}
	})
	t.Run("allow passes it unread and counts it", func(t *testing.T) {
		ha := newHarness(t, strings.Replace(testPolicy, "mcp:\n", "mcp:\n  on_unreadable_response: allow\n", 1), testRegistry())
		if got := playJSON(t, ha, "7", "plain text"); got != "plain text" {
			t.Fatalf("allow: %q", got)
		}
		if n := counterValue(t, ha, "mcp_extproc_unreadable_responses_total", map[string]string{"action": "allow"}); n != 1 {
			t.Fatalf("allow counted %v times", n)
		}
	})
}

func TestErrorResponsesArePostHooked(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())
	t.Run("message and data masked", func(t *testing.T) {
		body := `{"jsonrpc":"2.0","id":7,"error":{"code":-32000,"message":"failed near SECRET","data":{"detail":"the SECRET again"}}}`
		got := playJSON(t, h, "7", body)
		want := `{"jsonrpc":"2.0","id":7,"error":{"code":-32000,"message":"failed near ******","data":{"detail":"the ****** again"}}}`
		if got != want {
			t.Fatalf("got %s\nwant %s", got, want)
		}
	})
	t.Run("blocked", func(t *testing.T) {
		body := `{"jsonrpc":"2.0","id":"7","error":{"code":-32000,"message":"FORBIDDEN"}}`
		got := playJSON(t, h, "7", body)
		if strings.Contains(got, "FORBIDDEN") || !strings.Contains(got, "TEST_RESULT_BLOCKED") {
			t.Fatalf("got %s", got)
		}
	})
	t.Run("not read by plugins that do not opt in", func(t *testing.T) {
		hr := newHarness(t, "mcp: {paths: [/mcp]}\nplugins:\n  - {name: rec, kind: test_recorder}\n", testRegistry())
		body := `{"jsonrpc":"2.0","id":7,"error":{"code":-32000,"message":"m"}}`
		if got := playJSON(t, hr, "7", body); got != body {
			t.Fatalf("got %s", got)
		}
	})
}

// sseChunks plays a tools/call answered with an event stream, and returns
// what the client receives.
func sseChunks(t *testing.T, h *harness, chunks ...string) string {
	t.Helper()
	return playSSE(t, h, chunks)
}

func TestSSEReadAsEveryClientReadsIt(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())
	res := `{"jsonrpc":"2.0","id":42,"result":` + secretResult + `}`
	for _, c := range []struct{ name, stream string }{
		{"form feed before data (Go SDK trims it)", "data:\f" + res + "\n\n"},
		{"no-break space before data", "data:\u00a0" + res + "\n\n"},
		{"tab and spaces", "data: \t  " + res + "  \n\n"},
		{"bare CR hides data from WHATWG readers", "data:\r" + res + "\n\n"},
		{"bare CR, then more", "data: x\rdata: " + res + "\n\n"},
		{"CR-only line endings", "event: message\rdata: " + res + "\r\r"},
		{"event type with spaces", "event: message \ndata:" + res + "\n\n"},
		{"BOM at stream start", "\xEF\xBB\xBFdata: " + res + "\n\n"},
	} {
		got := sseChunks(t, h, c.stream)
		if strings.Contains(got, "SECRET") {
			t.Errorf("%s: the client receives %q", c.name, got)
		}
		if got := strings.Join(goSDKEvents(got), "\n"); strings.Contains(got, "SECRET") {
			t.Errorf("%s: a Go SDK client reads %q", c.name, got)
		}
	}
}

func TestSSEUnreadableEventEndsStream(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())
	st := h.open(buffered, buffered)
	postRequest(t, st, toolCallBody("42", "long_job", `{}`))
	st.roundTrip(respHeaders("content-type", "text/event-stream"))
	r := st.roundTrip(respBody("data: {not json SECRET\n\n", false))
	got, _ := mutatedBody(t, r)
	if strings.Contains(got, "SECRET") || !strings.Contains(got, "UNINSPECTABLE_RESPONSE") || !strings.Contains(got, `"id":42`) {
		t.Fatalf("unreadable event became %q", got)
	}
	// Everything after the error event is dropped.
	r = st.roundTrip(respBody("data: {\"jsonrpc\":\"2.0\",\"id\":42,\"result\":"+secretResult+"}\n\n", true))
	if c := commonOf(t, r); c.GetBodyMutation().GetClearBody() != true {
		t.Fatalf("the stream went on after its error event: %v", c.GetBodyMutation())
	}
	// The legacy SSE transport's endpoint event is not JSON and passes.
	if got := sseChunks(t, h, "event: endpoint\ndata: /messages?session=1\n\n"); got != "event: endpoint\ndata: /messages?session=1\n\n" {
		t.Fatalf("endpoint event changed: %q", got)
	}
}

func TestSSEOversizedEventEndsStream(t *testing.T) {
	h := newHarness(t, "server: {max_message_bytes: 1024}\n"+strings.Replace(testPolicy, "mcp:\n", "mcp:\n  max_body_bytes: 1024\n", 1), testRegistry())
	st := h.open(buffered, buffered)
	postRequest(t, st, toolCallBody("42", "long_job", `{}`))
	st.roundTrip(respHeaders("content-type", "text/event-stream"))
	chunk := "data: " + strings.Repeat("x", 600)
	r := st.roundTrip(respBody(chunk, false))
	if got, _ := mutatedBody(t, r); got != "" {
		t.Fatalf("partial event forwarded: %q", got)
	}
	r = st.roundTrip(respBody(strings.Repeat("y", 600), false))
	got, _ := mutatedBody(t, r)
	if !strings.Contains(got, "UNINSPECTABLE_RESPONSE") {
		t.Fatalf("oversized event: %q", got)
	}
	for i := 0; i < 50; i++ { // the server keeps sending; nothing is buffered
		r = st.roundTrip(respBody(strings.Repeat("z", 1000), false))
		if c := commonOf(t, r); !c.GetBodyMutation().GetClearBody() {
			t.Fatalf("chunk %d after the end passed: %v", i, c.GetBodyMutation())
		}
	}
}
