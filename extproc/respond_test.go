package extproc

import "testing"

// A violation's headers reach the blocking response; they cannot replace
// the body's content type or length, nor smuggle invalid names or values.
func TestImmediateHeaders(t *testing.T) {
	r := immediate(429, []byte(`{}`), "d", map[string]string{
		"Retry-After": "30", "content-type": "text/html", "Content-Length": "1",
		":status": "200", "bad name": "x", "x-ok": "a\r\nset-cookie: evil",
	})
	got := map[string]string{}
	for _, h := range r.GetImmediateResponse().GetHeaders().GetSetHeaders() {
		got[h.GetHeader().GetKey()] = string(h.GetHeader().GetRawValue())
	}
	if len(got) != 2 || got["retry-after"] != "30" || got["content-type"] != "application/json" {
		t.Fatalf("headers = %v", got)
	}
	if r.GetImmediateResponse().GetStatus().GetCode() != 429 {
		t.Fatal("status lost")
	}
}
