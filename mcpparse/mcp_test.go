package mcpparse

import (
	"errors"
	"testing"
)

func parseOne(t *testing.T, body string) *Message {
	t.Helper()
	b, err := Parse([]byte(body), Options{})
	if err != nil {
		t.Fatalf("Parse(%s): %v", body, err)
	}
	return &b.Messages[0]
}

func TestTargets(t *testing.T) {
	m := parseOne(t, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"progressToken":1},"name":"get_\u0077eather","arguments":{"city":"Paris","n":1.50}}}`)
	name, args, err := m.ToolCall()
	if err != nil || name != "get_weather" || string(args.Bytes) != `{"city":"Paris","n":1.50}` {
		t.Fatalf("ToolCall = %q, %q, %v", name, args.Bytes, err)
	}
	if _, _, err := m.PromptGet(); !errors.Is(err, ErrWrongFamily) {
		t.Errorf("PromptGet on a tool call: %v", err)
	}
	tg, _ := m.Target()
	if string(tg.NameRaw.Bytes) != `"get_\u0077eather"` {
		t.Errorf("NameRaw = %q", tg.NameRaw.Bytes)
	}

	m = parseOne(t, `{"jsonrpc":"2.0","id":2,"method":"prompts/get","params":{"name":"greet","arguments":{"who":"Bob"}}}`)
	if name, args, err := m.PromptGet(); err != nil || name != "greet" || string(args.Bytes) != `{"who":"Bob"}` {
		t.Errorf("PromptGet = %q, %q, %v", name, args.Bytes, err)
	}

	m = parseOne(t, `{"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"uri":"file:///etc/hosts","_meta":{"trace":"x"}}}`)
	if uri, meta, err := m.ResourceRead(); err != nil || uri != "file:///etc/hosts" || string(meta.Bytes) != `{"trace":"x"}` {
		t.Errorf("ResourceRead = %q, %q, %v", uri, meta.Bytes, err)
	}

	m = parseOne(t, `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"noargs"}}`)
	if name, args, err := m.ToolCall(); err != nil || name != "noargs" || args.Present() {
		t.Errorf("ToolCall without arguments = %q, %v, %v", name, args, err)
	}

	m = parseOne(t, `{"jsonrpc":"2.0","id":5,"method":"tools/list"}`)
	if _, err := m.Target(); !errors.Is(err, ErrWrongFamily) {
		t.Errorf("Target of tools/list: %v", err)
	}

	b, _ := Parse([]byte(`{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"a","name":"b"}}`), Options{})
	if _, _, err := b.Messages[0].ToolCall(); !errors.Is(err, ReasonDuplicateKey) {
		t.Errorf("ToolCall on an invalid message: %v", err)
	}
}

func TestFamilyOf(t *testing.T) {
	for method, want := range map[string]Family{
		"tools/call": FamilyTool, "prompts/get": FamilyPrompt, "resources/read": FamilyResource,
		"tools/list": FamilyNone, "Tools/call": FamilyNone, "tools/call ": FamilyNone, "": FamilyNone,
	} {
		if got := FamilyOf(method); got != want {
			t.Errorf("FamilyOf(%q) = %v, want %v", method, got, want)
		}
	}
}

func TestClassifyResult(t *testing.T) {
	for _, tt := range []struct {
		result string
		want   Family
	}{
		{`{"content":[{"type":"text","text":"x"}],"isError":false}`, FamilyTool},
		{`{"contents":[{"uri":"file:///a","text":"x"}]}`, FamilyResource},
		{`{"description":"d","messages":[{"role":"user","content":{"type":"text","text":"x"}}]}`, FamilyPrompt},
		{`{"content":"not an array"}`, FamilyNone},
		{`{"tools":[]}`, FamilyNone},
		{`{}`, FamilyNone},
		{`[]`, FamilyNone},
		{`"content"`, FamilyNone},
		{`{"a":{"content":[]}}`, FamilyNone}, // only top-level keys count
	} {
		if got := ClassifyResult([]byte(tt.result)); got != tt.want {
			t.Errorf("ClassifyResult(%s) = %v, want %v", tt.result, got, tt.want)
		}
	}
}

func TestFindResponse(t *testing.T) {
	body := `[{"jsonrpc":"2.0","id":"1","result":{"a":1}},
	          {"jsonrpc":"2.0","id":1,"result":{"b":2}},
	          {"jsonrpc":"2.0","id":"x\u0079","error":{"code":1,"message":"m"}},
	          {"jsonrpc":"2.0","id":9,"method":"ping"}]`
	b, err := Parse([]byte(body), Options{})
	if err != nil {
		t.Fatal(err)
	}
	find := func(raw string) *Message {
		id, err := IDFromRaw([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		return b.FindResponse(id)
	}
	if m := find(`1`); m == nil || string(m.Result.Bytes) != `{"b":2}` {
		t.Errorf("number 1 found %+v", m)
	}
	if m := find(`"1"`); m == nil || string(m.Result.Bytes) != `{"a":1}` {
		t.Errorf(`string "1" found %+v`, m)
	}
	if m := find(`"xy"`); m == nil || m.Kind != KindError {
		t.Errorf(`"xy" found %+v`, m)
	}
	if m := find(`9`); m != nil {
		t.Errorf("a request matched as response")
	}
	if m := find(`1.0`); m != nil {
		t.Errorf("1.0 matched 1")
	}
	if b.FindResponse(ID{}) != nil {
		t.Errorf("zero id matched")
	}
}

func TestDecodeArguments(t *testing.T) {
	raw := []byte(`{"big":123456789012345678901234567890,"f":1.50,"e":1e400,"s":"x","a":[1,{"b":null}]}`)
	m, err := DecodeArguments(raw)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	// Keys come back sorted, numbers exactly as written.
	want := `{"a":[1,{"b":null}],"big":123456789012345678901234567890,"e":1e400,"f":1.50,"s":"x"}`
	if string(out) != want {
		t.Errorf("round trip = %s, want %s", out, want)
	}
	for _, raw := range []string{``, `null`, ` `} {
		if m, err := DecodeArguments([]byte(raw)); err != nil || m == nil || len(m) != 0 {
			t.Errorf("DecodeArguments(%q) = %v, %v; want empty map", raw, m, err)
		}
	}
	for _, raw := range []string{`[]`, `{"a":1} {}`, `{"a":`} {
		if _, err := DecodeArguments([]byte(raw)); err == nil {
			t.Errorf("DecodeArguments(%q) accepted", raw)
		}
	}
	if out, _ := Marshal(map[string]any{"h": "<a&b>"}); string(out) != `{"h":"<a&b>"}` {
		t.Errorf("Marshal escaped HTML: %s", out)
	}
}
