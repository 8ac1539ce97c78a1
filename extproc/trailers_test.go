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
