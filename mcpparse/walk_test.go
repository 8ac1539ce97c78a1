package mcpparse

import (
	"errors"
	"strings"
	"testing"
)

const toolResult = `{"content":[{"type":"text","text":"line1\nline2 \u00e9"},{"type":"resource","resource":{"uri":"file:///a","text":"embedded secret","mimeType":"text/plain"}}],` +
	`"structuredContent":{"rows":[{"name":"a\"b","n":1},{"deep":{"deeper":[["secret"]]}}],"ok":true,"nil":null},"isError":false}`

func TestWalkStringsVisitsEveryString(t *testing.T) {
	var got []string
	out, changed, err := WalkStrings([]byte(toolResult), WalkOptions{}, func(p Path, s string) (string, bool) {
		got = append(got, p.String()+"="+s)
		return "", false
	})
	if err != nil || changed || string(out) != toolResult {
		t.Fatalf("= %q, %v, %v", out, changed, err)
	}
	want := []string{
		"$.content[0].type=text",
		"$.content[0].text=line1\nline2 é",
		"$.content[1].type=resource",
		"$.content[1].resource.uri=file:///a",
		"$.content[1].resource.text=embedded secret",
		"$.content[1].resource.mimeType=text/plain",
		`$.structuredContent.rows[0].name=a"b`,
		"$.structuredContent.rows[1].deep.deeper[0][0]=secret",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("visited:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestWalkStringsReplaces(t *testing.T) {
	in := []byte(toolResult)
	out, changed, err := WalkStrings(in, WalkOptions{}, func(p Path, s string) (string, bool) {
		if strings.Contains(s, "secret") {
			return strings.ReplaceAll(s, "secret", "[REDACTED]"), true
		}
		if s == "line1\nline2 é" {
			return "tab\t<quote\">\u2028", true
		}
		return s, true // "changed" to the same value: not a change
	})
	if err != nil || !changed {
		t.Fatalf("changed=%v err=%v", changed, err)
	}
	want := strings.NewReplacer(
		`"embedded secret"`, `"embedded [REDACTED]"`,
		`[["secret"]]`, `[["[REDACTED]"]]`,
		`"line1\nline2 \u00e9"`, `"tab\t<quote\">\u2028"`,
	).Replace(toolResult)
	if string(out) != want {
		t.Errorf("out =\n%s\nwant\n%s", out, want)
	}
	if string(in) != toolResult {
		t.Error("input modified")
	}
}

func TestWalkStringsKeys(t *testing.T) {
	in := `{"a\u0062":{"k":"v"},"arr":["x"]}`
	var keys []string
	out, changed, err := WalkStrings([]byte(in), WalkOptions{Keys: true}, func(p Path, s string) (string, bool) {
		if p.IsKey() {
			keys = append(keys, p.String()+"="+s)
			if s == "k" {
				return "key", true
			}
		}
		return s, false
	})
	if err != nil || !changed {
		t.Fatal(changed, err)
	}
	if string(out) != `{"a\u0062":{"key":"v"},"arr":["x"]}` {
		t.Errorf("out = %s", out)
	}
	if strings.Join(keys, " ") != "$.ab=ab $.ab.k=k $.arr=arr" {
		t.Errorf("keys = %q", keys)
	}
}

func TestWalkStringsPathClone(t *testing.T) {
	var kept []Path
	_, _, err := WalkStrings([]byte(`{"\u0061":{"\u0062":"x"},"\u0063":{"\u0064":"y"}}`), WalkOptions{}, func(p Path, s string) (string, bool) {
		kept = append(kept, p.Clone())
		return s, false
	})
	if err != nil {
		t.Fatal(err)
	}
	if kept[0].String() != "$.a.b" || kept[1].String() != "$.c.d" {
		t.Errorf("cloned paths = %v, %v", kept[0], kept[1])
	}
	if p := (Path{{Key: "odd key", Index: MemberIndex}, {Index: 2}}); p.String() != `$["odd key"][2]` {
		t.Errorf("Path.String = %s", p)
	}
}

func TestWalkStringsErrors(t *testing.T) {
	for _, tt := range []struct {
		in     string
		opts   WalkOptions
		reason Reason
	}{
		{`{"a":}`, WalkOptions{}, ReasonInvalidJSON},
		{`["a"`, WalkOptions{}, ReasonInvalidJSON},
		{`"a" "b"`, WalkOptions{}, ReasonTrailingData},
		{"[\"\xff\"]", WalkOptions{}, ReasonInvalidUTF8},
		{`["\udc00"]`, WalkOptions{}, ReasonInvalidUTF8},
		{`[[[1]]]`, WalkOptions{MaxDepth: 2}, ReasonTooDeep},
		{``, WalkOptions{}, ReasonInvalidJSON},
	} {
		out, changed, err := WalkStrings([]byte(tt.in), tt.opts, func(Path, string) (string, bool) { return "x", true })
		if !errors.Is(err, tt.reason) || changed || string(out) != tt.in {
			t.Errorf("WalkStrings(%q) = %q, %v, %v; want %s", tt.in, out, changed, err, tt.reason)
		}
	}
	// Scalars are values too.
	if out, changed, err := WalkStrings([]byte(` "a" `), WalkOptions{}, func(Path, string) (string, bool) { return "b", true }); err != nil || !changed || string(out) != ` "b" ` {
		t.Errorf("scalar string: %q %v %v", out, changed, err)
	}
}

func TestWalkStringsNoChangeDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	in := []byte(toolResult)
	WalkStrings(in, WalkOptions{}, noChange) // warm the pool
	allocs := testing.AllocsPerRun(100, func() {
		out, changed, _ := WalkStrings(in, WalkOptions{}, noChange)
		if changed || &out[0] != &in[0] {
			t.Fatal("changed")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per unchanged walk, want 0", allocs)
	}
}

func noChange(Path, string) (string, bool) { return "", false }
