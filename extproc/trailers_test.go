package extproc

import (
	"strings"
	"testing"
)

// Envoy sends a BUFFERED body as one message; when the body was ended by
// trailers (HTTP/2, or chunked HTTP/1.1 with trailers) that message has
// end_of_stream false, whatever the trailer mode. It is still the whole
// body and must be inspected: answering it with CONTINUE would forward a
// request, or a result, no plugin saw.
func TestBufferedBodyEndedByTrailersIsInspected(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())

	st := h.open(buffered, buffered)
	body := toolCallBody("1", "delete_everything", `{}`)
	st.roundTrip(postHeaders(len(body)))
	immediateOf(t, st.roundTrip(reqBody(body, false)))
	st.close()

	st = h.open(buffered, buffered)
	postRequest(t, st, toolCallBody("2", "read_notes", `{}`))
	st.roundTrip(respHeaders("content-type", "application/json"))
	r := st.roundTrip(respBody(`{"jsonrpc":"2.0","id":2,"result":`+secretResult+`}`, false))
	if got, _ := mutatedBody(t, r); !strings.Contains(got, "the ****** result") {
		t.Fatalf("a result ended by trailers reached the client as %q", got)
	}
	st.close()
}

// An Envoy whose processing_mode skips headers but sends bodies must not
// get bodies through unread. A request body without its headers cannot be
// judged (no path, session or identity): it is refused with a message that
// names the setting. A response body without its headers is read without
// its content type, as JSON or else as an event stream, and post-hooked.
func TestBodiesWithoutTheirHeadersAreNotPassedUnread(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())

	st := h.open(buffered, buffered)
	ir := immediateOf(t, st.roundTrip(reqBody(toolCallBody("1", "read_notes", `{}`), true)))
	if ir.GetStatus().GetCode() != 500 || !strings.Contains(string(ir.GetBody()), "request_header_mode: SKIP") {
		t.Fatalf("request body without headers answered %d %s", ir.GetStatus().GetCode(), ir.GetBody())
	}
	st.close()

	for name, body := range map[string]string{
		"json":         `{"jsonrpc":"2.0","id":2,"result":` + secretResult + `}`,
		"event stream": "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":" + secretResult + "}\n\n",
	} {
		t.Run(name, func(t *testing.T) {
			st := h.open(buffered, buffered)
			postRequest(t, st, toolCallBody("2", "read_notes", `{}`))
			// No response headers: straight to the body.
			got, ok := mutatedBody(t, st.roundTrip(respBody(body, true)))
			if !ok || strings.Contains(got, "SECRET") || !strings.Contains(got, "the ****** result") {
				t.Fatalf("a result without its response headers reached the client as %q (rewritten: %v)", got, ok)
			}
			st.close()
		})
	}
}
