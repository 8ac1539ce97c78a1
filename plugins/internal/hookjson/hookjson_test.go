package hookjson_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/hookjson"
)

// call is what an Inspect was given.
type call struct {
	hook  framework.HookType
	where string
	raw   string
	pc    *framework.PluginContext
}

// inspector returns an Inspect that records its call in got and answers
// with out, v, meta and err.
func inspector(got *call, out json.RawMessage, v *framework.Violation, meta map[string]any, err error) hookjson.Inspect {
	return func(_ context.Context, hook framework.HookType, where string, raw json.RawMessage, pc *framework.PluginContext) (json.RawMessage, *framework.Violation, map[string]any, error) {
		*got = call{hook, where, string(raw), pc}
		return out, v, meta, err
	}
}

var (
	pc  = &framework.PluginContext{Global: &framework.GlobalContext{RequestID: "r1"}}
	in  = json.RawMessage(`{"in":1}`)
	out = json.RawMessage(`{"out":2}`)
)

// hookCase is one hook of the package, run on a payload whose JSON value is
// in.
type hookCase struct {
	hook  framework.HookType
	where string
	// payload builds the payload the hook is given, a fresh one each time.
	payload func() any
	// run calls the hook and returns its result's fields (mod as a typed
	// pointer, nil or not).
	run func(pl any, f hookjson.Inspect) (mod any, v *framework.Violation, meta map[string]any, err error)
	// rewritten is the modified payload expected when the Inspect returns out.
	rewritten any
}

func hookCases() []hookCase {
	ctx := context.Background()
	return []hookCase{
		{
			framework.PromptPreFetch, "the prompt arguments",
			func() any { return &framework.PromptPreFetchPayload{PromptID: "p", Args: in} },
			func(pl any, f hookjson.Inspect) (any, *framework.Violation, map[string]any, error) {
				res, err := hookjson.PromptPreFetch(ctx, pl.(*framework.PromptPreFetchPayload), pc, f)
				return res.ModifiedPayload, res.Violation, res.Metadata, err
			},
			&framework.PromptPreFetchPayload{PromptID: "p", Args: out},
		},
		{
			framework.PromptPostFetch, "the prompt result",
			func() any { return &framework.PromptPostFetchPayload{PromptID: "p", Result: in} },
			func(pl any, f hookjson.Inspect) (any, *framework.Violation, map[string]any, error) {
				res, err := hookjson.PromptPostFetch(ctx, pl.(*framework.PromptPostFetchPayload), pc, f)
				return res.ModifiedPayload, res.Violation, res.Metadata, err
			},
			&framework.PromptPostFetchPayload{PromptID: "p", Result: out},
		},
		{
			framework.ToolPreInvoke, "the tool arguments",
			func() any {
				return &framework.ToolPreInvokePayload{Name: "t", Args: in, Headers: map[string]string{"x-tenant": "a"}}
			},
			func(pl any, f hookjson.Inspect) (any, *framework.Violation, map[string]any, error) {
				res, err := hookjson.ToolPreInvoke(ctx, pl.(*framework.ToolPreInvokePayload), pc, f)
				return res.ModifiedPayload, res.Violation, res.Metadata, err
			},
			&framework.ToolPreInvokePayload{Name: "t", Args: out, Headers: map[string]string{"x-tenant": "a"}},
		},
		{
			framework.ToolPostInvoke, "the tool result",
			func() any { return &framework.ToolPostInvokePayload{Name: "t", Result: in} },
			func(pl any, f hookjson.Inspect) (any, *framework.Violation, map[string]any, error) {
				res, err := hookjson.ToolPostInvoke(ctx, pl.(*framework.ToolPostInvokePayload), pc, f)
				return res.ModifiedPayload, res.Violation, res.Metadata, err
			},
			&framework.ToolPostInvokePayload{Name: "t", Result: out},
		},
		{
			framework.ResourcePostFetch, "the resource content",
			func() any { return &framework.ResourcePostFetchPayload{URI: "file:///a", Content: in} },
			func(pl any, f hookjson.Inspect) (any, *framework.Violation, map[string]any, error) {
				res, err := hookjson.ResourcePostFetch(ctx, pl.(*framework.ResourcePostFetchPayload), pc, f)
				return res.ModifiedPayload, res.Violation, res.Metadata, err
			},
			&framework.ResourcePostFetchPayload{URI: "file:///a", Content: out},
		},
	}
}

// TestRewrite checks that the Inspect sees the payload's JSON value, and
// that the value it returns replaces it in a copy of the payload that keeps
// the other fields, the given payload left as it was.
func TestRewrite(t *testing.T) {
	for _, tc := range hookCases() {
		t.Run(string(tc.hook), func(t *testing.T) {
			var got call
			meta := map[string]any{"n": 1}
			pl := tc.payload()
			mod, v, gotMeta, err := tc.run(pl, inspector(&got, out, nil, meta, nil))
			if want := (call{tc.hook, tc.where, string(in), pc}); got != want {
				t.Fatalf("inspect got %+v, want %+v", got, want)
			}
			if err != nil || v != nil || !reflect.DeepEqual(gotMeta, meta) {
				t.Fatalf("result: err %v, violation %v, metadata %v", err, v, gotMeta)
			}
			if !reflect.DeepEqual(mod, tc.rewritten) {
				t.Fatalf("modified payload = %+v, want %+v", mod, tc.rewritten)
			}
			if !reflect.DeepEqual(pl, tc.payload()) {
				t.Fatalf("the given payload changed: %+v", pl)
			}
		})
	}
}

// TestNoRewrite checks that a nil value leaves the payload alone and that
// the violation, metadata and error reach the Result.
func TestNoRewrite(t *testing.T) {
	block := &framework.Violation{Code: "X"}
	boom := errors.New("boom")
	for _, tc := range hookCases() {
		t.Run(string(tc.hook), func(t *testing.T) {
			var got call
			mod, v, meta, err := tc.run(tc.payload(), inspector(&got, nil, block, map[string]any{"k": "v"}, nil))
			if !reflect.ValueOf(mod).IsNil() || v != block || meta["k"] != "v" || err != nil {
				t.Fatalf("violation: modified %+v, violation %v, metadata %v, err %v", mod, v, meta, err)
			}
			mod, v, meta, err = tc.run(tc.payload(), inspector(&got, nil, nil, nil, boom))
			if !reflect.ValueOf(mod).IsNil() || v != nil || meta != nil || !errors.Is(err, boom) {
				t.Fatalf("error: modified %+v, violation %v, metadata %v, err %v", mod, v, meta, err)
			}
		})
	}
}
