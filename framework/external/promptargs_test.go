package external

import (
	"context"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// phoneMasker masks "555" in prompt arguments.
type phoneMasker struct{}

func (phoneMasker) PromptPreFetch(_ context.Context, p *framework.PromptPreFetchPayload, _ *framework.PluginContext) (framework.Result[framework.PromptPreFetchPayload], error) {
	if !strings.Contains(string(p.Args), "555") {
		return framework.Result[framework.PromptPreFetchPayload]{}, nil
	}
	return framework.Result[framework.PromptPreFetchPayload]{ModifiedPayload: &framework.PromptPreFetchPayload{PromptID: p.PromptID,
		Args: []byte(strings.ReplaceAll(string(p.Args), "555", "XXX"))}}, nil
}

// Prompt arguments reach the server as cpex's dict[str, str]: a number is
// sent as its JSON text; what the plugin hands back unchanged gets its
// original value again, and what it changed is taken as it is.
func TestPromptArgsCrossAsStrings(t *testing.T) {
	m, wire := servedOverHTTP(t, framework.Kind{Name: "phones", Hooks: []framework.HookType{framework.PromptPreFetch},
		New: func(*framework.PluginConfig) (framework.Plugin, error) { return phoneMasker{}, nil }}, "params.arguments.payload.args")
	tbl := func() *framework.ContextTable {
		return framework.NewContextTable(framework.GlobalContext{RequestID: "r"})
	}
	out := m.PromptPreFetch(context.Background(), &framework.PromptPreFetchPayload{PromptID: "p",
		Args: []byte(`{"n":5,"flag":true,"obj":{"a":[1,2]},"text":"call 555-1234","id":12345678901234567890}`)}, tbl())
	if out.Blocked() || !out.Modified {
		t.Fatalf("%+v %v", out.Violation, out.Modified)
	}
	got := gjson.ParseBytes(out.Payload.Args)
	if got.Get("text").String() != "call XXX-1234" || got.Get("n").Raw != "5" || got.Get("flag").Raw != "true" ||
		got.Get("obj").Raw != `{"a":[1,2]}` || got.Get("id").Raw != "12345678901234567890" {
		t.Fatalf("arguments: %s", out.Payload.Args)
	}
	w := gjson.Parse(wire()[0])
	w.ForEach(func(k, v gjson.Result) bool {
		if v.Type != gjson.String {
			t.Errorf("argument %s sent as %s, not a string", k, v.Raw)
		}
		return true
	})
	if w.Get("n").String() != "5" || w.Get("obj").String() != `{"a":[1,2]}` {
		t.Errorf("wire args %s", w.Raw)
	}
	// Nothing changed: no modification, even though the values were converted.
	if o := m.PromptPreFetch(context.Background(), &framework.PromptPreFetchPayload{PromptID: "p", Args: []byte(`{"n":5}`)}, tbl()); o.Modified || o.Blocked() {
		t.Fatalf("unchanged arguments reported modified: %s", o.Payload.Args)
	}
}
