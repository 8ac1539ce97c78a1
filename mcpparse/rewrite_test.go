package mcpparse

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden:\n got: %s\nwant: %s", name, got, want)
	}
}

func readInput(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "input", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mustValid fails unless out is a valid JSON-RPC body.
func mustValid(t *testing.T, out []byte) *Body {
	t.Helper()
	b, err := Parse(out, Options{})
	if err != nil {
		t.Fatalf("rewritten body does not parse: %v\n%s", err, out)
	}
	return b
}

func TestRewriteGolden(t *testing.T) {
	t.Run("tools_call_arguments", func(t *testing.T) {
		body := readInput(t, "tools_call.json")
		orig := bytes.Clone(body)
		b := mustValid(t, body)
		_, args, err := b.Messages[0].ToolCall()
		if err != nil {
			t.Fatal(err)
		}
		out, err := ApplyEdits(body, []Edit{args.Replace([]byte(`{"to":"alice@example.com","body":"call me at [PHONE]","n":1.50e3}`))})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(body, orig) {
			t.Fatal("ApplyEdits modified its input")
		}
		// Everything outside the arguments is byte-identical.
		if !bytes.Equal(out[:args.Start], body[:args.Start]) || !bytes.HasSuffix(out, body[args.End:]) {
			t.Error("bytes outside the edit changed")
		}
		mustValid(t, out)
		golden(t, "tools_call_arguments.json", out)
	})
	t.Run("tools_call_name_and_args", func(t *testing.T) {
		body := readInput(t, "tools_call.json")
		tg, err := mustValid(t, body).Messages[0].Target()
		if err != nil {
			t.Fatal(err)
		}
		// Given out of order on purpose.
		out, err := ApplyEdits(body, []Edit{
			tg.Args.Replace([]byte(`{}`)),
			tg.NameRaw.Replace(QuoteString("send_email_v2")),
		})
		if err != nil {
			t.Fatal(err)
		}
		mustValid(t, out)
		golden(t, "tools_call_name_and_args.json", out)
	})
	t.Run("resource_uri", func(t *testing.T) {
		body := []byte(`{"jsonrpc":"2.0","id":9,"method":"resources/read","params":{"uri":"file:///etc/passwd","_meta":{"a":1}}}`)
		tg, err := mustValid(t, body).Messages[0].Target()
		if err != nil {
			t.Fatal(err)
		}
		out, err := ApplyEdits(body, []Edit{tg.NameRaw.Replace(QuoteString("file:///srv/\"safe\"\n"))})
		if err != nil {
			t.Fatal(err)
		}
		if uri, _, err := mustValid(t, out).Messages[0].ResourceRead(); err != nil || uri != "file:///srv/\"safe\"\n" {
			t.Errorf("uri after rewrite = %q, %v", uri, err)
		}
		golden(t, "resource_uri.json", out)
	})
	t.Run("add_arguments", func(t *testing.T) {
		body := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"} }`)
		m := mustValid(t, body).Messages[0]
		out, err := ApplyEdits(body, []Edit{AddMember(m.Params, "arguments", []byte(`{"added":true}`))})
		if err != nil {
			t.Fatal(err)
		}
		_, args, err := mustValid(t, out).Messages[0].ToolCall()
		if err != nil || string(args.Bytes) != `{"added":true}` {
			t.Errorf("arguments after AddMember = %q, %v", args.Bytes, err)
		}
		empty := []byte(`{"a": { }}`)
		out2, _ := ApplyEdits(empty, []Edit{AddMember(Raw{Bytes: empty[6:9], Start: 6, End: 9}, "k", []byte(`1`))})
		golden(t, "add_arguments.json", append(append(out, '\n'), out2...))
	})
	t.Run("batch_results", func(t *testing.T) {
		body := readInput(t, "batch_response.json")
		b := mustValid(t, body)
		var edits []Edit
		for _, m := range b.Messages {
			if m.ID.String() == "2" {
				continue // untouched element
			}
			out, changed, err := WalkStrings(m.Result.Bytes, WalkOptions{}, maskSecrets)
			if err != nil {
				t.Fatal(err)
			}
			if changed {
				edits = append(edits, m.Result.Replace(out))
			}
		}
		if len(edits) != 2 {
			t.Fatalf("%d edits, want 2", len(edits))
		}
		out, err := ApplyEdits(body, edits)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(out, b.Messages[1].Result.Bytes) {
			t.Error("untouched element changed")
		}
		mustValid(t, out)
		golden(t, "batch_results.json", out)
	})
}

// maskSecrets is a stand-in for a masking plugin.
func maskSecrets(_ Path, s string) (string, bool) {
	r := strings.NewReplacer("123-45-6789", "[SSN]", "sk-live-abcdef", "[SECRET]")
	if ns := r.Replace(s); ns != s {
		return ns, true
	}
	return s, false
}

func TestApplyEdits(t *testing.T) {
	body := []byte("0123456789")
	tests := []struct {
		name  string
		edits []Edit
		want  string
		err   bool
	}{
		{"none", nil, "0123456789", false},
		{"replace", []Edit{{2, 4, []byte("ab")}}, "01ab456789", false},
		{"grow and shrink", []Edit{{0, 1, []byte("xyz")}, {5, 10, nil}}, "xyz1234", false},
		{"insert", []Edit{{10, 10, []byte("!")}, {0, 0, []byte("^")}}, "^0123456789!", false},
		{"adjacent", []Edit{{2, 4, []byte("a")}, {4, 6, []byte("b")}}, "01ab6789", false},
		{"two inserts keep order", []Edit{{3, 3, []byte("a")}, {3, 3, []byte("b")}}, "012ab3456789", false},
		{"overlap", []Edit{{2, 5, nil}, {4, 6, nil}}, "", true},
		{"out of range", []Edit{{8, 11, nil}}, "", true},
		{"negative", []Edit{{-1, 2, nil}}, "", true},
		{"reversed", []Edit{{5, 4, nil}}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			edits := append([]Edit(nil), tt.edits...)
			out, err := ApplyEdits(body, edits)
			if tt.err {
				if !errors.Is(err, ErrBadEdit) {
					t.Fatalf("err = %v, want ErrBadEdit", err)
				}
				return
			}
			if err != nil || string(out) != tt.want {
				t.Fatalf("= %q, %v; want %q", out, err, tt.want)
			}
			for i := range edits {
				if edits[i].Start != tt.edits[i].Start {
					t.Fatal("ApplyEdits reordered the caller's slice")
				}
			}
		})
	}
	if string(body) != "0123456789" {
		t.Fatal("body modified")
	}
}

func TestResponsesGolden(t *testing.T) {
	data := map[string]any{
		"code": "PII_DETECTED", "description": "ssn in \"body\"", "plugin": "pii", "details": map[string]any{},
	}
	var out bytes.Buffer
	for _, part := range [][]byte{
		ErrorResponse(NumberID(7), -32000, "Blocked by policy", data),
		ErrorResponse(StringID("a\u2028b"), -32001, "tab\there <html> & \"quotes\" \x01 é 😀", nil),
		ErrorResponse(ID{}, -32600, "no id", nil),
		ErrorResponse(NullID(), -32700, "bad json", func() {}), // unencodable data is dropped
		ErrorResponseFor(func() error {
			_, err := Parse([]byte(`{"jsonrpc":"2.0","id":"q","method":"tools/call","params":{}}`), Options{})
			return err
		}()),
		ErrorResponseFor(func() error { _, err := Parse([]byte(`{`), Options{}); return err }()),
		ToolErrorResult(NumberID(3), "Blocked: PII_DETECTED: ssn found\nline 2"),
		BatchResponse(ErrorResponse(NumberID(1), -32000, "x", nil), nil, ToolErrorResult(StringID("2"), "y")),
	} {
		// every response is a valid JSON-RPC message or batch
		if _, err := Parse(part, Options{}); err != nil {
			t.Errorf("%s does not parse: %v", part, err)
		}
		out.Write(part)
		out.WriteByte('\n')
	}
	if BatchResponse(nil, []byte{}) != nil {
		t.Error("batch of notifications should have no response")
	}
	golden(t, "responses.jsonl", out.Bytes())
}

func TestRawMember(t *testing.T) {
	body := []byte(`{"jsonrpc":"2.0","id":1,"result":{"a.b":1,"tools":[{"name":"x"}],"nextCursor":"c"}}`)
	b, err := Parse(body, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := b.Messages[0].Result
	tools := res.Member("tools")
	if string(tools.Bytes) != `[{"name":"x"}]` || string(body[tools.Start:tools.End]) != `[{"name":"x"}]` {
		t.Fatalf("tools member: %q at %d:%d", tools.Bytes, tools.Start, tools.End)
	}
	if m := res.Member("a.b"); string(m.Bytes) != "1" {
		t.Fatalf("dotted key: %q", m.Bytes)
	}
	if res.Member("missing").Present() || tools.Member("name").Present() {
		t.Fatal("absent member reported present")
	}
	out, err := ApplyEdits(body, []Edit{tools.Replace([]byte(`[]`))})
	if err != nil || string(out) != `{"jsonrpc":"2.0","id":1,"result":{"a.b":1,"tools":[],"nextCursor":"c"}}` {
		t.Fatalf("%s %v", out, err)
	}
}
