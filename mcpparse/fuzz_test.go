package mcpparse

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// parseSeeds are bodies worth mutating: valid messages of every kind, and the
// differential tricks the validator exists to stop.
var parseSeeds = []string{
	toolCall,
	`{"jsonrpc":"2.0","id":"a","method":"prompts/get","params":{"name":"p","arguments":{"x":"y"}}}`,
	`{"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"uri":"file:///a","_meta":{}}}`,
	`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
	`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"x"}],"isError":false}}`,
	`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x","data":[1]}}`,
	`[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"a"}}]`,
	`{"jsonrpc":"2.0","id":1,"method":"ping","Method":"tools/call"}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","name":"b"}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools\u002fcall","params":{"name":"\u0061","arguments":{"k":1,"\u212a":2}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"s":"\ud83d\ude00","t":"\ud800"}}}`,
	"\xEF\xBB\xBF{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}",
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"x\":\"\xff\"}",
	`{"jsonrpc":"2.0","id":1e5,"method":"x","params":[[[[[[]]]]]]} `,
	`[]`, `[1]`, `1`, `{}`, `{"a":}`, `{"jsonrpc":"2.0","id":1,"method":"ping"} {}`,
}

var surrogateEscape = regexp.MustCompile(`\\u[dD][89a-fA-F][0-9a-fA-F]{2}`)

// FuzzParse checks that Parse never panics, never accepts what encoding/json
// calls invalid, and — on inputs without the constructs it deliberately
// rejects — agrees exactly with an independent oracle built on encoding/json.
// For accepted bodies it also checks that Go's encoding/json, with its
// case-insensitive field matching and last-duplicate-wins rule, reads the same
// method and target name: the differential the validator exists to close.
func FuzzParse(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Parse(data, Options{})
		if err == nil && !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		if b == nil && err == nil {
			t.Fatal("Parse returned neither body nor error")
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || (e.Code != CodeParseError && e.Code != CodeInvalidRequest) {
				t.Fatalf("error %v is not a *Error with a JSON-RPC code", err)
			}
		}
		// Rejected whatever encoding/json says.
		if !utf8.Valid(data) || bytes.HasPrefix(data, bom) {
			if err == nil {
				t.Fatalf("accepted invalid UTF-8 or a BOM: %q", data)
			}
			return
		}
		// Lone surrogate escapes are rejected, pairs accepted; the oracle
		// cannot tell them apart, so leave these inputs to the checks above.
		if surrogateEscape.Match(data) {
			return
		}
		if !json.Valid(data) {
			return
		}
		want := oracleValid(data)
		if want && err != nil {
			t.Fatalf("rejected %q: %v", data, err)
		}
		if !want && err == nil {
			t.Fatalf("accepted %q, which the oracle rejects", data)
		}
		if err == nil {
			for _, m := range b.Messages {
				checkAgainstEncodingJSON(t, data, &m)
			}
		}
	})
}

// checkAgainstEncodingJSON decodes one accepted message the way a Go MCP
// server would and compares what it reads with what Parse read.
func checkAgainstEncodingJSON(t *testing.T, data []byte, m *Message) {
	var goMsg struct {
		Method string          `json:"method"`
		ID     json.RawMessage `json:"id"`
		Params struct {
			Name      string          `json:"name"`
			URI       string          `json:"uri"`
			Arguments json.RawMessage `json:"arguments"`
		} `json:"params"`
	}
	raw := data[m.Start:m.End]
	// Params may be an array for non-hooked methods; only decode those whose
	// params is an object or absent.
	if m.Params.Present() && m.Params.Bytes[0] == '[' {
		return
	}
	if err := json.Unmarshal(raw, &goMsg); err != nil {
		return // e.g. a params field of another type for a non-hooked method
	}
	if goMsg.Method != m.Method {
		t.Fatalf("encoding/json reads method %q, Parse %q in %s", goMsg.Method, m.Method, raw)
	}
	if m.ID.IsZero() != (len(goMsg.ID) == 0) || (!m.ID.IsZero() && string(goMsg.ID) != m.ID.String()) {
		t.Fatalf("encoding/json reads id %s, Parse %s", goMsg.ID, m.ID)
	}
	if m.Family == FamilyNone {
		return
	}
	tg, err := m.Target()
	if err != nil {
		t.Fatalf("Target: %v", err)
	}
	goName := goMsg.Params.Name
	if m.Family == FamilyResource {
		goName = goMsg.Params.URI
	}
	if goName != tg.Name {
		t.Fatalf("encoding/json reads target %q, Parse %q in %s", goName, tg.Name, raw)
	}
	if m.Family != FamilyResource && string(goMsg.Params.Arguments) != string(tg.Args.Bytes) {
		t.Fatalf("encoding/json reads arguments %s, Parse %s", goMsg.Params.Arguments, tg.Args.Bytes)
	}
}

// oracleValid is an independent statement of Parse's rules for valid UTF-8
// JSON without BOM, using encoding/json.
func oracleValid(data []byte) bool {
	if !oracleKeys(data) {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return false
	}
	switch v := v.(type) {
	case map[string]any:
		return oracleMessage(v)
	case []any:
		if len(v) == 0 {
			return false
		}
		for _, e := range v {
			m, ok := e.(map[string]any)
			if !ok || !oracleMessage(m) {
				return false
			}
		}
		return true
	}
	return false
}

// oracleKeys rejects fold-equal keys in one object and nesting past the
// default limit.
func oracleKeys(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		obj    bool
		keys   []string
		expect bool // next string token in this object is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return true
		}
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.expect {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			k := tok.(string)
			for _, o := range top.keys {
				if strings.EqualFold(o, k) {
					return false
				}
			}
			top.keys = append(top.keys, k)
			top.expect = false
			continue
		}
		if top != nil && top.obj {
			top.expect = true
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			stack = append(stack, &frame{obj: tok == json.Delim('{'), expect: true})
			if len(stack) > DefaultMaxDepth {
				return false
			}
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
	}
}

func oracleNoVariants(m map[string]any, protocol ...string) bool {
	for k := range m {
		for _, p := range protocol {
			if k != p && strings.EqualFold(k, p) {
				return false
			}
		}
	}
	return true
}

func oracleMessage(m map[string]any) bool {
	if !oracleNoVariants(m, "jsonrpc", "id", "method", "params", "result", "error") {
		return false
	}
	if r, ok := m["result"].(map[string]any); ok && !oracleNoVariants(r, "content", "contents", "messages", "isError", "structuredContent") {
		return false
	}
	if e, ok := m["error"].(map[string]any); ok && !oracleNoVariants(e, "code", "message", "data") {
		return false
	}
	if m["jsonrpc"] != "2.0" {
		return false
	}
	id, hasID := m["id"]
	switch id.(type) {
	case string, json.Number, nil:
	default:
		return false
	}
	_, hasResult := m["result"]
	errv, hasError := m["error"]
	method, hasMethod := m["method"]
	switch {
	case hasMethod:
		if _, ok := method.(string); !ok || hasResult || hasError || (hasID && id == nil) {
			return false
		}
	case hasResult && hasError:
		return false
	case hasResult:
		if !hasID || id == nil {
			return false
		}
	case hasError:
		if _, ok := errv.(map[string]any); !ok || !hasID {
			return false
		}
	default:
		return false
	}
	params, hasParams := m["params"]
	if hasParams {
		switch params.(type) {
		case map[string]any, []any:
		default:
			return false
		}
	}
	name, _ := method.(string)
	field := map[string]string{"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}[name]
	if field == "" {
		return true
	}
	p, ok := params.(map[string]any)
	if !ok || !oracleNoVariants(p, "name", "arguments", "uri", "_meta") {
		return false
	}
	if _, ok := p[field].(string); !ok {
		return false
	}
	if a, ok := p["arguments"]; ok && field == "name" {
		if _, ok := a.(map[string]any); !ok {
			return false
		}
	}
	return true
}

// FuzzWalkStrings checks that the walker never panics, accepts only valid
// JSON, hands visitors the strings encoding/json decodes, and re-encodes
// replacements into valid JSON that decodes to them.
func FuzzWalkStrings(f *testing.F) {
	f.Add([]byte(toolResult))
	f.Add([]byte(`["a\u0000b","\ud83d\ude00","\"\\\/\b\f\n\r\t",{"k":[true,false,null,-1.5e3]}]`))
	f.Add([]byte("\"\u2028\x7f\""))
	f.Fuzz(func(t *testing.T, data []byte) {
		var seen []string
		out, changed, err := WalkStrings(data, WalkOptions{}, func(p Path, s string) (string, bool) {
			seen = append(seen, strings.Clone(s))
			return s + "~", true
		})
		if err != nil {
			if changed || !bytes.Equal(out, data) {
				t.Fatal("error with output")
			}
			return
		}
		if !json.Valid(data) || !json.Valid(out) {
			t.Fatalf("valid=%v out valid=%v for %q -> %q", json.Valid(data), json.Valid(out), data, out)
		}
		want := jsonStrings(t, data)
		if strings.Join(seen, "\x00|") != strings.Join(want, "\x00|") {
			t.Fatalf("visited %q, encoding/json decodes %q", seen, want)
		}
		if changed != (len(want) > 0) {
			t.Fatalf("changed=%v with %d strings", changed, len(want))
		}
		for i, s := range jsonStrings(t, out) {
			if s != want[i]+"~" {
				t.Fatalf("string %d after rewrite = %q, want %q", i, s, want[i]+"~")
			}
		}
	})
}

// jsonStrings lists the string values (not keys) of data in document order,
// as encoding/json decodes them.
func jsonStrings(t *testing.T, data []byte) []string {
	type frame struct{ obj, wantKey bool }
	var out []string
	var stack []frame
	afterValue := func() {
		if n := len(stack); n > 0 && stack[n-1].obj {
			stack[n-1].wantKey = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		if n := len(stack); n > 0 && stack[n-1].obj && stack[n-1].wantKey {
			if tok == json.Delim('}') {
				stack = stack[:n-1]
				afterValue()
			} else {
				stack[n-1].wantKey = false // that was a key
			}
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{obj: true, wantKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, frame{})
			continue
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		default:
			if s, ok := tok.(string); ok {
				out = append(out, s)
			}
		}
		afterValue()
	}
}

// FuzzSSE checks that any chunking of a stream decodes to the same events as
// the whole stream, that Raw always reassembles the stream byte for byte,
// that Buffered is what is held back, and that every event re-encodes to
// itself.
func FuzzSSE(f *testing.F) {
	f.Add([]byte("id: 1\nevent: message\ndata: {\"a\":1}\n\n"), []byte{3, 1, 7})
	f.Add([]byte("data: a\r\ndata: b\r\n\r\n: comment\r\nretry: 10\r\n\r\n"), []byte{8})
	f.Add([]byte("\xEF\xBB\xBFdata: x\r\rid: 2\rdata\r\r"), []byte{1})
	f.Add([]byte("data: x\r\n\r"), []byte{10, 1})
	f.Add([]byte("id: a\x00b\ndata:  y\n\n\n\ndata: tail"), []byte{2, 5})
	f.Fuzz(func(t *testing.T, stream []byte, cuts []byte) {
		whole := NewSSEDecoder()
		all := append(whole.Feed(stream), whole.Flush()...)
		assertRaw(t, all, string(stream))

		d := NewSSEDecoder()
		var chunked []Event
		held := 0
		for i, pos := 0, 0; pos < len(stream); i++ {
			n := 1
			if len(cuts) > 0 {
				n = int(cuts[i%len(cuts)])%17 + 1
			}
			n = min(n, len(stream)-pos)
			evs := d.Feed(stream[pos : pos+n])
			for _, e := range evs {
				held -= len(e.Raw)
			}
			held += n
			// Buffered is the held-back block (plus, only at the start, a
			// partial BOM).
			if d.Buffered() != held {
				t.Fatalf("Buffered = %d, want %d", d.Buffered(), held)
			}
			chunked = append(chunked, evs...)
			pos += n
		}
		chunked = append(chunked, d.Flush()...)
		assertRaw(t, chunked, string(stream))
		assertEvents(t, withFields(chunked), withFields(all))

		for _, ev := range all {
			enc := EncodeEvent(ev)
			back := NewSSEDecoder().Feed(enc)
			if len(back) != 1 {
				t.Fatalf("EncodeEvent(%+v) = %q decodes to %d events", ev, enc, len(back))
			}
			want := ev
			if !ev.HasData && ev.Data == "" && !ev.HasID && ev.Type == "" && ev.Retry == "" {
				want = Event{}
			}
			assertEvents(t, back, []Event{want})
		}
	})
}
