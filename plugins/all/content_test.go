package all_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// The content plugins share one decoding of a payload per hook run, and
// what they write back is byte-exact: a payload none of them changes
// passes as the very bytes that came in, and a masked string is the only
// change, whatever the JSON's spacing and escapes.
func TestContentPipelineByteExact(t *testing.T) {
	ctx := context.Background()
	mgr := contentManager(t)

	// Spacing, escapes (\u00e9, \/, \n) and key order as a server might
	// write them; re-encoding any of it would show. Only the edited string
	// is re-encoded.
	const clean = "{ \"content\" : [ {\"type\":\"text\", \"text\":\"caf\\u00e9 at 10\\/12,\\n\"}, {\"type\":\"text\",\"text\":\"see you\"},\n" +
		"  {\"type\":\"image\",\"data\":\"aGVsbG8=\",\"mimeType\":\"image/png\"} ],\n \"structuredContent\":{\"z\":1,\"a\":\"ok\"} }"
	for _, tc := range []struct {
		name, in, want string
	}{
		{"nothing to change", clean, clean},
		{"a crap word and an e-mail address", strings.Replace(clean, `see you`, `crap: mail ann@example.com`, 1),
			strings.Replace(clean, `see you`, `crud: mail [REDACTED]`, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !json.Valid([]byte(tc.in)) {
				t.Fatal("bad test input")
			}
			in := json.RawMessage(tc.in)
			o := mgr.ToolPostInvoke(ctx, &framework.ToolPostInvokePayload{Name: "t", Result: in}, framework.NewContextTable(framework.GlobalContext{}))
			if o.Violation != nil || o.Ran != 4 {
				t.Fatalf("outcome %+v", o)
			}
			got := o.Payload.Result
			if tc.in == tc.want {
				if o.Modified || !bytes.Equal(got, in) || &got[0] != &in[0] {
					t.Fatalf("unchanged payload not passed as it came: modified %v, %s", o.Modified, got)
				}
				return
			}
			if !o.Modified || string(got) != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
