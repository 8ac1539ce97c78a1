package extproc

import (
	"strconv"
	"strings"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
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

// The hand-written wire format decodes to exactly the Struct the protobuf
// library would have written, whatever the values hold.
func TestDynamicMetadataWireFormat(t *testing.T) {
	fields := [][2]string{{"method", "tools/call"}, {"tool", "ünïcødé ✓ " + strings.Repeat("x", 300)}, {"verdict", "blocked"}, {"request_id", ""}}
	var ns []byte
	want := map[string]*structpb.Value{}
	for _, f := range fields {
		ns = appendStringField(ns, f[0], f[1])
		want[f[0]] = structpb.NewStringValue(f[1])
	}
	r := continueBody(true)
	setDynamicMetadata(r, ns)
	wire, err := proto.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got extprocv3.ProcessingResponse
	if err := proto.Unmarshal(wire, &got); err != nil {
		t.Fatal(err)
	}
	exp := &structpb.Struct{Fields: map[string]*structpb.Value{MetadataNamespace: structpb.NewStructValue(&structpb.Struct{Fields: want})}}
	if !proto.Equal(got.GetDynamicMetadata(), exp) || len(got.ProtoReflect().GetUnknown()) != 0 {
		t.Fatalf("decoded %v, want %v", got.GetDynamicMetadata(), exp)
	}
	if got.GetRequestBody() == nil {
		t.Fatal("the answer itself was lost")
	}
}
