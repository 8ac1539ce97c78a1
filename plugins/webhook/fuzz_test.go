package webhook

import (
	"encoding/json"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// FuzzDecode: whatever the service answers, decoding does not panic, a
// halt is never read as a pass, and a modified payload applied keeps the
// tool and is a JSON object.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"continue_processing":true}`, `{"continue_processing":false}`, `null`, `[]`, ``,
		`{"continue_processing":true,"modified_payload":{"name":"t","args":{"a":1}}}`,
		`{"modified_payload":{"name":"x","args":{}}}`, `{"violation":{"code":"X"},"continue_processing":false}`} {
		f.Add(200, s)
	}
	f.Add(204, "")
	f.Add(500, `{"continue_processing":true}`)
	accept := func(m *framework.ToolPreInvokePayload) (*framework.ToolPreInvokePayload, error) {
		if m.Name != "t" {
			return nil, errRenamed
		}
		return &framework.ToolPreInvokePayload{Name: "t", Args: m.Args}, object(m.Args, "args")
	}
	f.Fuzz(func(t *testing.T, status int, body string) {
		res, err := decode(status, []byte(body), accept)
		if err != nil {
			return
		}
		var w struct {
			Continue *bool `json:"continue_processing"`
		}
		if json.Unmarshal([]byte(body), &w) == nil && w.Continue != nil && !*w.Continue && res.Violation == nil {
			t.Fatalf("%q: a halt read as a pass", body)
		}
		if m := res.ModifiedPayload; m != nil && (m.Name != "t" || object(m.Args, "args") != nil) {
			t.Fatalf("%q: modified payload %+v applied", body, m)
		}
		if status != 200 && status != 204 {
			t.Fatalf("status %d accepted", status)
		}
	})
}
