package extproc

import (
	"strconv"
	"strings"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// metadataOf returns the mcp_extproc namespace of an answer's dynamic
// metadata, as Envoy would store it.
func metadataOf(r *extprocv3.ProcessingResponse) map[string]string {
	ns := r.GetDynamicMetadata().GetFields()[MetadataNamespace].GetStructValue()
	if ns == nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range ns.GetFields() {
		out[k] = v.GetStringValue()
	}
	return out
}

func wantMetadata(t *testing.T, what string, got map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: metadata %s = %q, want %q (all: %v)", what, k, got[k], v, got)
		}
	}
}

func TestDynamicMetadataOfABlock(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())
	st := h.open(buffered, buffered)
	r := postRequest(t, st, toolCallBody("7", "delete_everything", `{"target":"customer-db-password-hunter2"}`))
	immediateOf(t, r)
	md := metadataOf(r)
	wantMetadata(t, "blocked tools/call", md, map[string]string{
		"method": "tools/call", "tool": "delete_everything", "verdict": "blocked",
		"plugin": "deny", "violation_code": "TEST_DENIED", "request_id": "req-1",
	})
	for k, v := range md {
		if strings.Contains(v, "hunter2") {
			t.Errorf("metadata %s carries payload contents: %q", k, v)
		}
	}
}

func TestDynamicMetadataFollowsTheExchange(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())
	st := h.open(buffered, buffered)
	r := postRequest(t, st, toolCallBody("3", "lookup", `{"q":"x"}`))
	wantMetadata(t, "request", metadataOf(r), map[string]string{"method": "tools/call", "tool": "lookup", "verdict": "allowed"})
	if _, ok := metadataOf(r)["plugin"]; ok {
		t.Errorf("no violation, yet plugin is set: %v", metadataOf(r))
	}
	body := `{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"the SECRET plan"}]}}`
	hr := st.roundTrip(respHeaders("content-type", "application/json", "content-length", strconv.Itoa(len(body))))
	if md := metadataOf(hr); md != nil {
		t.Errorf("response headers changed nothing but carry metadata %v", md)
	}
	br := st.roundTrip(respBody(body, true))
	if body, ok := mutatedBody(t, br); !ok || strings.Contains(body, "SECRET") {
		t.Fatalf("result not masked: %q", body)
	}
	wantMetadata(t, "masked result", metadataOf(br), map[string]string{"method": "tools/call", "tool": "lookup", "verdict": "modified"})
}

func TestDynamicMetadataOfARejection(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())
	st := h.open(buffered, buffered)
	r := postRequest(t, st, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","name":"b"}}`)
	immediateOf(t, r)
	wantMetadata(t, "duplicate keys", metadataOf(r), map[string]string{"verdict": "rejected", "reject_reason": rejectInvalid})
}

func TestNoDynamicMetadataWithoutHooks(t *testing.T) {
	h := newHarness(t, testPolicy, testRegistry())
	st := h.open(buffered, buffered)
	r := st.roundTrip(reqHeaders(false, ":method", "POST", ":path", "/other"))
	if md := metadataOf(r); md != nil {
		t.Errorf("a non-MCP exchange carries metadata %v", md)
	}
	st2 := h.open(buffered, buffered)
	r = postRequest(t, st2, `{"jsonrpc":"2.0","id":1,"method":"ping"}`)
	if md := metadataOf(r); md != nil {
		t.Errorf("ping carries metadata %v", md)
	}
}

func TestMetadataValuesAreBounded(t *testing.T) {
	long := strings.Repeat("é", 400)
	if got := bounded(long); len(got) > maxMetadataValue || !strings.HasPrefix(long, got) || len(got) == 0 {
		t.Fatalf("bounded: %d bytes", len(got))
	}
}
