package mcpparse

import (
	"bytes"
	"strings"
	"testing"
)

// walked is what WalkStrings (with keys) shows of raw: each string's path,
// value and whether it is binary in a result.
func walked(t *testing.T, raw []byte) []string {
	t.Helper()
	var got []string
	_, _, err := WalkStrings(raw, WalkOptions{Keys: true}, func(p Path, s string) (string, bool) {
		got = append(got, p.String()+"="+s+binaryMark(!p.IsKey() && IsBinary(raw, p)))
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func binaryMark(b bool) string {
	if b {
		return " (binary)"
	}
	return ""
}

func texted(t *testing.T, tx *Text) []string {
	t.Helper()
	var got []string
	for _, s := range tx.Strings {
		if got := string(tx.Raw()[s.Start:s.End]); got[0] != '"' || got[len(got)-1] != '"' {
			t.Fatalf("%s: bytes %q are not its literal", s.Path, got)
		}
		got = append(got, s.Path.String()+"="+s.Value+binaryMark(s.Binary))
	}
	return got
}

func TestParseText(t *testing.T) {
	raw := []byte(`{"content":[{"type":"text","text":"line one\nline \"two\""},` +
		`{"type":"image","data":"aGk=","mimeType":"image/png"}],` +
		`"structuredContent":{"data":"not binary","k\u00e9y":["a",1,{"deep":"\u00e9t\u00e9"}]},"isError":false}`)
	tx, err := ParseText(raw)
	if err != nil {
		t.Fatal(err)
	}
	got, want := strings.Join(texted(t, tx), "\n"), strings.Join(walked(t, raw), "\n")
	if got != want {
		t.Fatalf("ParseText:\n%s\nWalkStrings:\n%s", got, want)
	}
	if !strings.Contains(got, `$.content[1].data=aGk= (binary)`) || !strings.Contains(got, `$.structuredContent["kéy"][2].deep=été`) {
		t.Fatalf("unexpected strings:\n%s", got)
	}

	// Nothing edited, or an edit to the same value: the very same bytes.
	if out, changed := tx.Replace(nil); changed || &out[0] != &raw[0] {
		t.Fatal("no edit changed the bytes")
	}
	text := indexOf(t, tx, "$.content[0].text")
	if out, changed := tx.Replace([]TextEdit{{text, tx.Strings[text].Value}}); changed || !bytes.Equal(out, raw) {
		t.Fatal("an edit to the same value changed the bytes")
	}
	// Edits in any order re-encode only their strings.
	deep := indexOf(t, tx, "$.structuredContent[\"kéy\"][2].deep")
	out, changed := tx.Replace([]TextEdit{{deep, "été\u2028"}, {text, `a "b"` + "\n"}})
	wantOut := strings.Replace(strings.Replace(string(raw), `"line one\nline \"two\""`, `"a \"b\"\n"`, 1),
		`"\u00e9t\u00e9"`, `"été\u2028"`, 1)
	if !changed || string(out) != wantOut {
		t.Fatalf("Replace:\n got %s\nwant %s", out, wantOut)
	}
}

func indexOf(t *testing.T, tx *Text, path string) int {
	t.Helper()
	for i, s := range tx.Strings {
		if s.Path.String() == path && !s.Path.IsKey() {
			return i
		}
	}
	t.Fatalf("no string at %s", path)
	return -1
}

func TestParseTextErrors(t *testing.T) {
	for _, raw := range []string{``, `{"a":`, `{"a":"b"} x`, "\"\xff\"", `"\ud800"`, strings.Repeat("[", 10001) + strings.Repeat("]", 10001)} {
		if _, err := ParseText([]byte(raw)); err == nil {
			t.Errorf("%.40q: no error", raw)
		}
	}
}

// FuzzParseText checks ParseText against WalkStrings, itself checked
// against encoding/json by FuzzWalkStrings: the same strings, paths and
// errors, and Replace writes what WalkStrings would.
func FuzzParseText(f *testing.F) {
	f.Add([]byte(toolResult))
	f.Add([]byte(`{"k\n":["a\u0000b","\ud83d\ude00",{"\"":"\"\\\/\b\f\n\r\t"}],"x":[true,null,-1.5e3]}`))
	f.Add([]byte(`{"content":[{"type":"audio","data":"AAAA"},{"type":"resource","resource":{"blob":"AA=="}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tx, err := ParseText(data)
		_, _, werr := WalkStrings(data, WalkOptions{Keys: true}, func(Path, string) (string, bool) { return "", false })
		if (err == nil) != (werr == nil) || err != nil && err.Error() != werr.Error() {
			t.Fatalf("ParseText error %v, WalkStrings error %v", err, werr)
		}
		if err != nil {
			return
		}
		if got, want := strings.Join(texted(t, tx), "\x00"), strings.Join(walked(t, data), "\x00"); got != want {
			t.Fatalf("ParseText %q\nWalkStrings %q", got, want)
		}
		// Every other value string gets a suffix.
		var edits []TextEdit
		n := 0
		want, _, _ := WalkStrings(data, WalkOptions{}, func(_ Path, s string) (string, bool) {
			n++
			return s + "~", n%2 == 1
		})
		n = 0
		for i, s := range tx.Strings {
			if !s.Path.IsKey() {
				if n++; n%2 == 1 {
					edits = append(edits, TextEdit{i, s.Value + "~"})
				}
			}
		}
		if out, _ := tx.Replace(edits); !bytes.Equal(out, want) {
			t.Fatalf("Replace %q, WalkStrings %q", out, want)
		}
	})
}

// BenchmarkParseText compares one decoding of a 1 KiB tool result's
// strings, kept for every plugin of a hook, with one WalkStrings pass, the
// cost each content plugin paid before.
func BenchmarkParseText(b *testing.B) {
	raw := []byte(`{"content":[{"type":"text","text":"` + strings.Repeat("Incident 4127 is mitigated and awaits the postmortem. ", 8) +
		`"},{"type":"text","text":"Owner: the platform on-call rotation; next review on Monday."}],"isError":false,` +
		`"structuredContent":{"incidents":[{"id":"4127","status":"mitigated","summary":"` + strings.Repeat("database failover took longer than planned ", 4) +
		`"},{"id":"4130","status":"open","summary":"elevated error rate on the billing API"}]}}`)
	b.Run("ParseText", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for b.Loop() {
			t, err := ParseText(raw)
			if err != nil {
				b.Fatal(err)
			}
			t.Release()
		}
	})
	b.Run("WalkStrings", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			if _, _, err := WalkStrings(raw, WalkOptions{}, func(Path, string) (string, bool) { n++; return "", false }); err != nil {
				b.Fatal(err)
			}
		}
	})
}
