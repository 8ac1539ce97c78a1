package mcpparse

import (
	"errors"
	"strings"
	"testing"
)

const toolCall = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`

// req wraps params in a tools/call request.
func req(params string) string {
	return `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":` + params + `}`
}

func TestParseRejects(t *testing.T) {
	deep := strings.Repeat("[", 64) + strings.Repeat("]", 64) // 64 levels inside params: 66 in all
	tests := []struct {
		name   string
		body   string
		opts   Options
		reason Reason
		whole  bool   // the body as a whole is rejected (nil Body)
		id     string // the id the error carries ("" = none)
	}{
		// not JSON
		{"empty body", ``, Options{}, ReasonInvalidJSON, true, ""},
		{"only whitespace", " \n\t", Options{}, ReasonInvalidJSON, true, ""},
		{"trailing comma", `{"jsonrpc":"2.0","method":"ping",}`, Options{}, ReasonInvalidJSON, true, ""},
		{"unterminated", `{"jsonrpc":"2.0"`, Options{}, ReasonInvalidJSON, true, ""},
		{"single quotes", `{'jsonrpc':'2.0'}`, Options{}, ReasonInvalidJSON, true, ""},
		{"leading zero", req(`{"name":"a","arguments":{"n":01}}`), Options{}, ReasonInvalidJSON, true, ""},
		{"bare dot", req(`{"name":"a","arguments":{"n":1.}}`), Options{}, ReasonInvalidJSON, true, ""},
		{"plus sign", req(`{"name":"a","arguments":{"n":+1}}`), Options{}, ReasonInvalidJSON, true, ""},
		{"NaN", req(`{"name":"a","arguments":{"n":NaN}}`), Options{}, ReasonInvalidJSON, true, ""},
		{"bad literal", req(`{"name":"a","arguments":{"n":tru}}`), Options{}, ReasonInvalidJSON, true, ""},
		{"raw control char in string", req("{\"name\":\"a\x01\"}"), Options{}, ReasonInvalidJSON, true, ""},
		{"raw newline in string", req("{\"name\":\"a\nb\"}"), Options{}, ReasonInvalidJSON, true, ""},
		{"bad escape", req(`{"name":"a\q"}`), Options{}, ReasonInvalidJSON, true, ""},
		{"short unicode escape", req(`{"name":"\u12"}`), Options{}, ReasonInvalidJSON, true, ""},
		{"array trailing comma", `[{"jsonrpc":"2.0","method":"ping"},]`, Options{}, ReasonInvalidJSON, true, ""},
		{"comment", `{"jsonrpc":"2.0",/*x*/"method":"ping"}`, Options{}, ReasonInvalidJSON, true, ""},
		{"non-breaking space as whitespace", "{\u00a0\"jsonrpc\":\"2.0\",\"method\":\"ping\"}", Options{}, ReasonInvalidJSON, true, ""},
		// trailing data
		{"trailing garbage", toolCall + ` x`, Options{}, ReasonTrailingData, true, ""},
		{"two objects", toolCall + toolCall, Options{}, ReasonTrailingData, true, ""},
		{"trailing NUL", toolCall + "\x00", Options{}, ReasonTrailingData, true, ""},
		{"trailing after batch", `[` + toolCall + `]]`, Options{}, ReasonTrailingData, true, ""},
		// invalid UTF-8 and surrogates
		{"invalid byte in value", req("{\"name\":\"a\xffb\"}"), Options{}, ReasonInvalidUTF8, true, ""},
		{"invalid byte in key", req("{\"na\xffme\":\"a\"}"), Options{}, ReasonInvalidUTF8, true, ""},
		{"overlong slash", req("{\"name\":\"\xc0\xaf\"}"), Options{}, ReasonInvalidUTF8, true, ""},
		{"UTF-8 encoded surrogate", req("{\"name\":\"\xed\xa0\x80\"}"), Options{}, ReasonInvalidUTF8, true, ""},
		{"truncated sequence", req("{\"name\":\"\xe2\x82\"}"), Options{}, ReasonInvalidUTF8, true, ""},
		{"invalid byte outside string", "{\"jsonrpc\":\"2.0\",\xff}", Options{}, ReasonInvalidUTF8, true, ""},
		{"lone high surrogate escape", req(`{"name":"\ud800"}`), Options{}, ReasonInvalidUTF8, true, ""},
		{"lone low surrogate escape", req(`{"name":"\udc00"}`), Options{}, ReasonInvalidUTF8, true, ""},
		{"high surrogate then non-low", req(`{"name":"\ud800\u0041"}`), Options{}, ReasonInvalidUTF8, true, ""},
		{"surrogate key", req(`{"name":"a","\udfff":1}`), Options{}, ReasonInvalidUTF8, true, ""},
		// BOM
		{"leading BOM", "\xEF\xBB\xBF" + toolCall, Options{}, ReasonBOM, true, ""},
		// depth
		{"too deep default", req(`{"name":"a","arguments":{"x":` + deep + `}}`), Options{}, ReasonTooDeep, true, ""},
		{"too deep custom", req(`{"name":"a","arguments":{"x":[[1]]}}`), Options{MaxDepth: 4}, ReasonTooDeep, true, ""},
		// shapes
		{"empty batch", `[]`, Options{}, ReasonEmptyBatch, true, ""},
		{"empty batch spaced", " [ \n] ", Options{}, ReasonEmptyBatch, true, ""},
		{"number body", `1`, Options{}, ReasonNotObject, true, ""},
		{"string body", `"tools/call"`, Options{}, ReasonNotObject, true, ""},
		{"null body", `null`, Options{}, ReasonNotObject, true, ""},
		// duplicates
		{"duplicate method", `{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call","params":{"name":"x"}}`, Options{}, ReasonDuplicateKey, false, "1"},
		{"duplicate via escape", `{"jsonrpc":"2.0","id":1,"method":"ping","\u006dethod":"tools/call"}`, Options{}, ReasonDuplicateKey, false, "1"},
		{"duplicate name", req(`{"name":"safe","name":"evil"}`), Options{}, ReasonDuplicateKey, false, "7"},
		{"duplicate escaped arg key", req(`{"name":"a","arguments":{"a":1,"\u0061":2}}`), Options{}, ReasonDuplicateKey, false, "7"},
		{"duplicate deep", req(`{"name":"a","arguments":{"x":[{"y":{"k":1,"z":[],"k":2}}]}}`), Options{}, ReasonDuplicateKey, false, "7"},
		{"duplicate id gives no id", `{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}`, Options{}, ReasonDuplicateKey, false, ""},
		{"duplicate in result", `{"jsonrpc":"2.0","id":1,"result":{"content":[],"content":[{"type":"text","text":"x"}]}}`, Options{}, ReasonDuplicateKey, false, "1"},
		{"duplicate surrogate pair escapes", req(`{"name":"a","arguments":{"😀":1,"\ud83d\ude00":2}}`), Options{}, ReasonDuplicateKey, false, "7"},
		// case variants of protocol keys
		{"Method beside method", `{"jsonrpc":"2.0","id":1,"method":"ping","Method":"tools/call"}`, Options{}, ReasonCaseVariantKey, false, "1"},
		{"Method instead of method", `{"jsonrpc":"2.0","id":1,"Method":"tools/call","params":{"name":"x"}}`, Options{}, ReasonCaseVariantKey, false, "1"},
		{"METHOD escaped", `{"jsonrpc":"2.0","id":1,"\u004dETHOD":"tools/call"}`, Options{}, ReasonCaseVariantKey, false, "1"},
		{"ID", `{"jsonrpc":"2.0","ID":1,"method":"ping"}`, Options{}, ReasonCaseVariantKey, false, ""},
		{"JSONRPC", `{"JSONRPC":"2.0","jsonrpc":"2.0","id":1,"method":"ping"}`, Options{}, ReasonCaseVariantKey, false, "1"},
		{"long s in jsonrpc", `{"j` + "\u017f" + `onrpc":"2.0","jsonrpc":"2.0","id":1,"method":"ping"}`, Options{}, ReasonCaseVariantKey, false, "1"},
		{"Params", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"},"Params":{"name":"y"}}`, Options{}, ReasonCaseVariantKey, false, "1"},
		{"Result", `{"jsonrpc":"2.0","id":1,"Result":{}}`, Options{}, ReasonCaseVariantKey, false, "1"},
		{"Name in tools/call", req(`{"name":"safe","Name":"evil"}`), Options{AllowCaseVariantKeys: true}, ReasonCaseVariantKey, false, "7"},
		{"Name alone in tools/call", req(`{"Name":"evil"}`), Options{}, ReasonCaseVariantKey, false, "7"},
		{"Arguments", req(`{"name":"a","Arguments":{}}`), Options{AllowCaseVariantKeys: true}, ReasonCaseVariantKey, false, "7"},
		{"URI", `{"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"uri":"file:///a","URI":"file:///etc/passwd"}}`, Options{AllowCaseVariantKeys: true}, ReasonCaseVariantKey, false, "3"},
		{"Uri", `{"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"Uri":"file:///etc/passwd"}}`, Options{}, ReasonCaseVariantKey, false, "3"},
		{"_Meta", req(`{"name":"a","_Meta":{}}`), Options{}, ReasonCaseVariantKey, false, "7"},
		{"Name in prompts/get", `{"jsonrpc":"2.0","id":2,"method":"prompts/get","params":{"name":"a","NAME":"b"}}`, Options{AllowCaseVariantKeys: true}, ReasonCaseVariantKey, false, "2"},
		{"Code in error", `{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"m","Code":2}}`, Options{AllowCaseVariantKeys: true}, ReasonCaseVariantKey, false, "1"},
		{"Content in result", `{"jsonrpc":"2.0","id":1,"result":{"Content":[]}}`, Options{}, ReasonCaseVariantKey, false, "1"},
		{"long s in isError", `{"jsonrpc":"2.0","id":1,"result":{"content":[],"i` + "\u017f" + `Error":true}}`, Options{AllowCaseVariantKeys: true}, ReasonCaseVariantKey, false, "1"},
		{"longer key is no variant", `{"jsonrpc":"2.0","id":1,"result":{"content":[],"isError":false,"isErrors":1}}`, Options{}, "", false, ""},
		{"case variant argument keys", req(`{"name":"a","arguments":{"path":"/tmp","Path":"/etc"}}`), Options{}, ReasonCaseVariantKey, false, "7"},
		{"Kelvin sign argument keys", req(`{"name":"a","arguments":{"kind":1,"` + "\u212a" + `ind":2}}`), Options{}, ReasonCaseVariantKey, false, "7"},
		{"long s argument keys", req(`{"name":"a","arguments":{"s":1,"\u017f":2}}`), Options{}, ReasonCaseVariantKey, false, "7"},
		// envelope
		{"missing jsonrpc", `{"id":1,"method":"ping"}`, Options{}, ReasonBadVersion, false, "1"},
		{"jsonrpc 1.0", `{"jsonrpc":"1.0","id":1,"method":"ping"}`, Options{}, ReasonBadVersion, false, "1"},
		{"jsonrpc number", `{"jsonrpc":2.0,"id":1,"method":"ping"}`, Options{}, ReasonBadVersion, false, "1"},
		{"jsonrpc 2.00", `{"jsonrpc":"2.00","id":1,"method":"ping"}`, Options{}, ReasonBadVersion, false, "1"},
		{"id object", `{"jsonrpc":"2.0","id":{},"method":"ping"}`, Options{}, ReasonBadID, false, ""},
		{"id array", `{"jsonrpc":"2.0","id":[1],"method":"ping"}`, Options{}, ReasonBadID, false, ""},
		{"id bool", `{"jsonrpc":"2.0","id":true,"method":"ping"}`, Options{}, ReasonBadID, false, ""},
		{"request id null", `{"jsonrpc":"2.0","id":null,"method":"ping"}`, Options{}, ReasonBadID, false, "null"},
		{"response without id", `{"jsonrpc":"2.0","result":{}}`, Options{}, ReasonBadID, false, ""},
		{"response id null", `{"jsonrpc":"2.0","id":null,"result":{}}`, Options{}, ReasonBadID, false, "null"},
		{"error without id", `{"jsonrpc":"2.0","error":{"code":1,"message":"x"}}`, Options{}, ReasonBadID, false, ""},
		{"method number", `{"jsonrpc":"2.0","id":1,"method":1}`, Options{}, ReasonBadMethod, false, "1"},
		{"method null", `{"jsonrpc":"2.0","id":1,"method":null}`, Options{}, ReasonBadMethod, false, "1"},
		{"params string", `{"jsonrpc":"2.0","id":1,"method":"ping","params":"x"}`, Options{}, ReasonBadParams, false, "1"},
		{"params null", `{"jsonrpc":"2.0","id":1,"method":"ping","params":null}`, Options{}, ReasonBadParams, false, "1"},
		{"tools/call params array", req(`["echo"]`), Options{}, ReasonBadParams, false, "7"},
		{"tools/call without params", `{"jsonrpc":"2.0","id":7,"method":"tools/call"}`, Options{}, ReasonMissingField, false, "7"},
		{"tools/call without name", req(`{"arguments":{}}`), Options{}, ReasonMissingField, false, "7"},
		{"tools/call name number", req(`{"name":1}`), Options{}, ReasonMissingField, false, "7"},
		{"tools/call name null", req(`{"name":null}`), Options{}, ReasonMissingField, false, "7"},
		{"prompts/get without name", `{"jsonrpc":"2.0","id":2,"method":"prompts/get","params":{}}`, Options{}, ReasonMissingField, false, "2"},
		{"resources/read without uri", `{"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"name":"x"}}`, Options{}, ReasonMissingField, false, "3"},
		{"resources/read uri object", `{"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"uri":{}}}`, Options{}, ReasonMissingField, false, "3"},
		{"escaped tools/call checked", `{"jsonrpc":"2.0","id":7,"method":"tools\u002fcall","params":{}}`, Options{}, ReasonMissingField, false, "7"},
		{"notification tools/call checked", `{"jsonrpc":"2.0","method":"tools/call","params":{"name":1}}`, Options{}, ReasonMissingField, false, ""},
		{"arguments array", req(`{"name":"a","arguments":[]}`), Options{}, ReasonBadArguments, false, "7"},
		{"arguments string", req(`{"name":"a","arguments":"{}"}`), Options{}, ReasonBadArguments, false, "7"},
		{"arguments null", req(`{"name":"a","arguments":null}`), Options{}, ReasonBadArguments, false, "7"},
		{"prompt arguments array", `{"jsonrpc":"2.0","id":2,"method":"prompts/get","params":{"name":"p","arguments":[1]}}`, Options{}, ReasonBadArguments, false, "2"},
		{"method with result", `{"jsonrpc":"2.0","id":1,"method":"ping","result":{}}`, Options{}, ReasonBadMessage, false, "1"},
		{"result and error", `{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"x"}}`, Options{}, ReasonBadMessage, false, "1"},
		{"nothing", `{"jsonrpc":"2.0","id":1}`, Options{}, ReasonBadMessage, false, "1"},
		{"error not object", `{"jsonrpc":"2.0","id":1,"error":"boom"}`, Options{}, ReasonBadMessage, false, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Parse([]byte(tt.body), tt.opts)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Parse: %v, want success", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse accepted %q, want %s", tt.body, tt.reason)
			}
			if !errors.Is(err, tt.reason) {
				t.Fatalf("err = %v, want reason %s", err, tt.reason)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err %T is not *Error", err)
			}
			if e.Code != tt.reason.Code() {
				t.Errorf("code = %d, want %d", e.Code, tt.reason.Code())
			}
			if e.ID.String() != tt.id {
				t.Errorf("error id = %q, want %q", e.ID.String(), tt.id)
			}
			if tt.whole {
				if b != nil {
					t.Errorf("body returned for a whole-body error")
				}
				if e.Index != -1 {
					t.Errorf("Index = %d, want -1", e.Index)
				}
				return
			}
			if b == nil || len(b.Messages) != 1 {
				t.Fatalf("want the body with one message, got %+v", b)
			}
			m := b.Messages[0]
			if m.Err != err || m.Kind != KindInvalid {
				t.Errorf("message: Kind %v, Err %v; want invalid with the returned error", m.Kind, m.Err)
			}
			if m.Family != FamilyNone {
				t.Errorf("an invalid message has family %v", m.Family)
			}
		})
	}
}

func TestParseErrorCodes(t *testing.T) {
	for _, tt := range []struct {
		reason Reason
		code   int
	}{
		{ReasonInvalidJSON, -32700}, {ReasonTrailingData, -32700}, {ReasonInvalidUTF8, -32700},
		{ReasonBOM, -32700}, {ReasonTooDeep, -32600}, {ReasonEmptyBatch, -32600},
		{ReasonDuplicateKey, -32600}, {ReasonCaseVariantKey, -32600}, {ReasonMissingField, -32600},
	} {
		if got := tt.reason.Code(); got != tt.code {
			t.Errorf("%s.Code() = %d, want %d", tt.reason, got, tt.code)
		}
	}
}

func TestParseMaxDepthBoundary(t *testing.T) {
	// The envelope is level 1, params 2, arguments 3.
	nest := func(n int) []byte {
		return []byte(req(`{"name":"a","arguments":{"x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}}`))
	}
	if _, err := Parse(nest(DefaultMaxDepth-3), Options{}); err != nil {
		t.Errorf("depth %d: %v", DefaultMaxDepth, err)
	}
	if _, err := Parse(nest(DefaultMaxDepth-2), Options{}); !errors.Is(err, ReasonTooDeep) {
		t.Errorf("depth %d: err = %v, want too deep", DefaultMaxDepth+1, err)
	}
	if _, err := Parse(nest(200), Options{MaxDepth: 203}); err != nil {
		t.Errorf("MaxDepth 203: %v", err)
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		kind   Kind
		id     string // ID.String()
		method string
		family Family
		params string
		result string
		errRaw string
	}{
		{"tools/call", toolCall, KindRequest, "1", "tools/call", FamilyTool, `{"name":"echo","arguments":{"text":"hi"}}`, "", ""},
		{"escaped slash in method", `{"jsonrpc":"2.0","id":1,"method":"tools\u002fcall","params":{"name":"x"}}`, KindRequest, "1", "tools/call", FamilyTool, `{"name":"x"}`, "", ""},
		{"escaped letters in method", `{"jsonrpc":"2.0","id":1,"method":"\u0074\u006F\u006F\u006C\u0073/call","params":{"name":"x"}}`, KindRequest, "1", "tools/call", FamilyTool, `{"name":"x"}`, "", ""},
		{"escaped method key", `{"jsonrpc":"2.0","id":1,"\u006dethod":"prompts/get","params":{"name":"x"}}`, KindRequest, "1", "prompts/get", FamilyPrompt, `{"name":"x"}`, "", ""},
		{"escaped jsonrpc value", `{"jsonrpc":"2\u002e0","id":1,"method":"ping"}`, KindRequest, "1", "ping", FamilyNone, "", "", ""},
		{"resources/read", `{"jsonrpc":"2.0","id":"r-1","method":"resources/read","params":{"uri":"file:///a","_meta":{"k":1}}}`, KindRequest, `"r-1"`, "resources/read", FamilyResource, `{"uri":"file:///a","_meta":{"k":1}}`, "", ""},
		{"case-different method is not hooked", `{"jsonrpc":"2.0","id":1,"method":"Tools/Call","params":{"Name":1}}`, KindRequest, "1", "Tools/Call", FamilyNone, `{"Name":1}`, "", ""},
		{"non-hooked params may use any keys", `{"jsonrpc":"2.0","id":1,"method":"custom","params":{"Name":1,"URI":2}}`, KindRequest, "1", "custom", FamilyNone, `{"Name":1,"URI":2}`, "", ""},
		{"params array for non-hooked", `{"jsonrpc":"2.0","id":1,"method":"custom","params":[1,2]}`, KindRequest, "1", "custom", FamilyNone, `[1,2]`, "", ""},
		{"notification", `{"jsonrpc":"2.0","method":"notifications/initialized"}`, KindNotification, "", "notifications/initialized", FamilyNone, "", "", ""},
		{"hooked notification", `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"x"}}`, KindNotification, "", "tools/call", FamilyTool, `{"name":"x"}`, "", ""},
		{"response", `{"jsonrpc":"2.0","id":1,"result":{"content":[]}}`, KindResponse, "1", "", FamilyNone, "", `{"content":[]}`, ""},
		{"error null id", `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}`, KindError, "null", "", FamilyNone, "", "", `{"code":-32700,"message":"x"}`},
		{"whitespace everywhere", " \r\n\t{ \"jsonrpc\" : \"2.0\" ,\n\"id\" : 1 , \"method\" : \"ping\" , \"params\" : { } }\n", KindRequest, "1", "ping", FamilyNone, "{ }", "", ""},
		{"unknown keys kept", `{"jsonrpc":"2.0","id":1,"method":"ping","extra":{"a":[1,{"b":null}]}}`, KindRequest, "1", "ping", FamilyNone, "", "", ""},
		{"id string", `{"jsonrpc":"2.0","id":"abc","method":"ping"}`, KindRequest, `"abc"`, "ping", FamilyNone, "", "", ""},
		{"id empty string", `{"jsonrpc":"2.0","id":"","method":"ping"}`, KindRequest, `""`, "ping", FamilyNone, "", "", ""},
		{"id escaped string", `{"jsonrpc":"2.0","id":"a\u0062","method":"ping"}`, KindRequest, `"a\u0062"`, "ping", FamilyNone, "", "", ""},
		{"id big int", `{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"ping"}`, KindRequest, "123456789012345678901234567890", "ping", FamilyNone, "", "", ""},
		{"id float", `{"jsonrpc":"2.0","id":1.50,"method":"ping"}`, KindRequest, "1.50", "ping", FamilyNone, "", "", ""},
		{"id negative", `{"jsonrpc":"2.0","id":-42,"method":"ping"}`, KindRequest, "-42", "ping", FamilyNone, "", "", ""},
		{"id exponent", `{"jsonrpc":"2.0","id":1E+2,"method":"ping"}`, KindRequest, "1E+2", "ping", FamilyNone, "", "", ""},
		{"id negative zero exponent", `{"jsonrpc":"2.0","id":-0.0e-0,"method":"ping"}`, KindRequest, "-0.0e-0", "ping", FamilyNone, "", "", ""},
		{"non-ASCII text", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ünï","arguments":{"t":"日本語 😀 \u00e9"}}}`, KindRequest, "1", "tools/call", FamilyTool, `{"name":"ünï","arguments":{"t":"日本語 😀 \u00e9"}}`, "", ""},
		{"same key in different objects", req(`{"name":"a","arguments":{"name":"b","x":{"name":"c"}}}`), KindRequest, "7", "tools/call", FamilyTool, `{"name":"a","arguments":{"name":"b","x":{"name":"c"}}}`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			b, err := Parse(body, Options{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if b.Batch || len(b.Messages) != 1 {
				t.Fatalf("Batch=%v, %d messages", b.Batch, len(b.Messages))
			}
			m := b.Messages[0]
			if m.Kind != tt.kind || m.ID.String() != tt.id || m.Method != tt.method || m.Family != tt.family {
				t.Errorf("got kind %v id %q method %q family %v; want %v %q %q %v", m.Kind, m.ID, m.Method, m.Family, tt.kind, tt.id, tt.method, tt.family)
			}
			checkRaw(t, body, "params", m.Params, tt.params)
			checkRaw(t, body, "result", m.Result, tt.result)
			checkRaw(t, body, "error", m.Error, tt.errRaw)
			if string(body[m.Start:m.End]) != strings.TrimSpace(tt.body) {
				t.Errorf("message span %d:%d = %q", m.Start, m.End, body[m.Start:m.End])
			}
		})
	}
}

func checkRaw(t *testing.T, body []byte, name string, r Raw, want string) {
	t.Helper()
	if want == "" {
		if r.Present() {
			t.Errorf("%s present: %q", name, r.Bytes)
		}
		return
	}
	if string(r.Bytes) != want || string(body[r.Start:r.End]) != want {
		t.Errorf("%s = %q (body[%d:%d] = %q), want %q", name, r.Bytes, r.Start, r.End, body[r.Start:r.End], want)
	}
	if cap(r.Bytes) != len(r.Bytes) {
		t.Errorf("%s: capacity not clipped; appending would overwrite the body", name)
	}
}

func TestParseBatch(t *testing.T) {
	body := []byte(`[
  {"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{}}},
  {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"b","name":"c"}},
  3,
  {"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}},
  {"jsonrpc":"2.0","id":"x","method":"prompts/get","params":{"Name":"p"}}
]`)
	b, err := Parse(body, Options{})
	if b == nil {
		t.Fatalf("Parse returned no body: %v", err)
	}
	// The whole body is reported bad through the first bad element...
	var e *Error
	if !errors.As(err, &e) || e.Reason != ReasonDuplicateKey || e.Index != 1 || e.ID.String() != "2" {
		t.Fatalf("err = %v, want the duplicate key of element 1 (id 2)", err)
	}
	if !b.Batch || len(b.Messages) != 5 {
		t.Fatalf("Batch=%v, %d messages", b.Batch, len(b.Messages))
	}
	// ...and every element carries its own verdict.
	want := []struct {
		kind   Kind
		reason Reason
	}{
		{KindRequest, ""},
		{KindInvalid, ReasonDuplicateKey},
		{KindInvalid, ReasonNotObject},
		{KindNotification, ""},
		{KindInvalid, ReasonCaseVariantKey},
	}
	for i, w := range want {
		m := b.Messages[i]
		if m.Kind != w.kind || m.Index != i {
			t.Errorf("element %d: kind %v index %d, want %v", i, m.Kind, m.Index, w.kind)
		}
		if w.reason == "" {
			if m.Err != nil {
				t.Errorf("element %d: %v", i, m.Err)
			}
			continue
		}
		var me *Error
		if !errors.As(m.Err, &me) || me.Reason != w.reason || me.Index != i {
			t.Errorf("element %d: err %v, want %s at index %d", i, m.Err, w.reason, i)
		}
	}
	if name, _, err := b.Messages[0].ToolCall(); err != nil || name != "a" {
		t.Errorf("element 0 ToolCall = %q, %v", name, err)
	}

	// A batch that is not well-formed JSON is rejected whole.
	if b, err := Parse([]byte(`[{"jsonrpc":"2.0","method":"ping"}, {]`), Options{}); b != nil || !errors.Is(err, ReasonInvalidJSON) {
		t.Errorf("malformed batch: body %v err %v", b, err)
	}
	// A valid batch.
	b, err = Parse([]byte(`[`+toolCall+`,{"jsonrpc":"2.0","method":"ping","id":"2"}]`), Options{})
	if err != nil || len(b.Messages) != 2 || b.Messages[1].ID.String() != `"2"` {
		t.Fatalf("valid batch: %v", err)
	}
}

// TestParseLargeObjects exercises the hash index used for objects with many
// keys, including nested large objects and removal from the index.
func TestParseLargeObjects(t *testing.T) {
	obj := func(prefix string, n int, inner string) string {
		var sb strings.Builder
		sb.WriteString("{")
		for i := 0; i < n; i++ {
			if i > 0 {
				sb.WriteString(",")
			}
			sb.WriteString(`"` + prefix + strings.Repeat("k", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676)) + `":`)
			if i == n/2 && inner != "" {
				sb.WriteString(inner)
			} else {
				sb.WriteString("1")
			}
		}
		sb.WriteString("}")
		return sb.String()
	}
	inner := obj("in", 300, obj("deep", 40, ""))
	ok := req(`{"name":"a","arguments":` + obj("out", 2000, inner) + `}`)
	if _, err := Parse([]byte(ok), Options{}); err != nil {
		t.Fatalf("large unique objects: %v", err)
	}
	// Same keys again after the inner objects closed must not be confused
	// with keys of the inner objects, and a real duplicate late in a large
	// object must be found.
	dup := req(`{"name":"a","arguments":` + strings.TrimSuffix(obj("out", 2000, inner), "}") + `,"outaaa":2}}`)
	if _, err := Parse([]byte(dup), Options{}); !errors.Is(err, ReasonDuplicateKey) {
		t.Fatalf("late duplicate in large object: %v", err)
	}
	variant := req(`{"name":"a","arguments":` + strings.TrimSuffix(obj("out", 2000, inner), "}") + `,"OUTAAA":2}}`)
	if _, err := Parse([]byte(variant), Options{}); !errors.Is(err, ReasonCaseVariantKey) {
		t.Fatalf("late case variant in large object: %v", err)
	}
	if _, err := Parse([]byte(variant), Options{AllowCaseVariantKeys: true}); err != nil {
		t.Fatalf("late case variant allowed: %v", err)
	}
}

func TestParseDoesNotRetainMutableMemory(t *testing.T) {
	body := []byte(`{"jsonrpc":"2.0","id":"abc","method":"custom/method","params":{"x":1}}`)
	b, err := Parse(body, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := b.Messages[0]
	for i := range body {
		body[i] = 'X'
	}
	if m.Method != "custom/method" || m.ID.String() != `"abc"` {
		t.Errorf("method %q id %q changed with the body", m.Method, m.ID)
	}
}

// TestParseAllocationsIndependentOfSize: validation and extraction allocate a
// constant amount (the Body, the id, the tool name), whatever the body size.
func TestParseAllocationsIndependentOfSize(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	var counts []float64
	for _, size := range []int{1 << 10, 64 << 10, 1 << 20} {
		body := makeToolCall(size)
		Parse(body, Options{}) // warm the pool
		counts = append(counts, testing.AllocsPerRun(20, func() {
			b, err := Parse(body, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := b.Messages[0].ToolCall(); err != nil {
				t.Fatal(err)
			}
		}))
	}
	if counts[0] != counts[1] || counts[1] != counts[2] || counts[0] > 3 {
		t.Errorf("allocations for 1 KiB, 64 KiB, 1 MiB = %v; want the same, at most 3", counts)
	}
}

func TestErrorDetailIsBounded(t *testing.T) {
	long := strings.Repeat("é", 10000)
	_, err := Parse([]byte(req(`{"name":"a","arguments":{"`+long+`":1,"`+long+`":2}}`)), Options{})
	if !errors.Is(err, ReasonDuplicateKey) || len(err.Error()) > 300 {
		t.Errorf("error of %d bytes: %.200v", len(err.Error()), err)
	}
}
