package extproc

import (
	"slices"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// The header view reads a header map as a map of joined values would:
// names lower-cased, repeated headers joined with "," in order, value or
// raw_value, presence apart from emptiness, and names listed once.
func TestHeadersView(t *testing.T) {
	hm := hdrs(":path", "/mcp", "Accept", "application/json", "x-a", "1", "accept", "text/event-stream", "x-empty", "", "X-A", "2")
	hm.Headers = append(hm.Headers, &corev3.HeaderValue{Key: "x-old", Value: "from value"})
	{
		h := headersFrom(hm)
		for name, want := range map[string]string{
			":path": "/mcp", "accept": "application/json,text/event-stream", "x-a": "1,2",
			"x-empty": "", "x-old": "from value", "x-missing": "", "": "",
		} {
			if got := h.get(name); got != want {
				t.Errorf("get(%q) = %q, want %q", name, got, want)
			}
		}
		if _, ok := h.lookup("x-empty"); !ok {
			t.Error("an empty header is reported absent")
		}
		if _, ok := h.lookup("x-missing"); ok {
			t.Error("a missing header is reported present")
		}
		if got, want := h.names(), []string{":path", "accept", "x-a", "x-empty", "x-old"}; !slices.Equal(got, want) {
			t.Errorf("names() = %q, want %q", got, want)
		}
		if !h.read || (headers{}).read {
			t.Error("read does not tell headers received from none")
		}
	}
	if got := headersFrom(hdrs("Content-Type", "Text/Event-Stream; charset=utf-8")).mediaType(); got != "text/event-stream" {
		t.Errorf("mediaType() = %q", got)
	}
}
