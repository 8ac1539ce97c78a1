package listitems

import (
	"encoding/json"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

var scanSeeds = []string{
	`[]`, ` [ ] `, `[{"name":"a"},{"name":"b"}]`, `[{"x":{"name":"inner"},"name":"outer"}]`, `[ {"name" : "a\"b" } , "s", 1, true, null, [1,[2]] ]`,
	`[{"na\u006de":"esc"},{"name":"\u0041"}]`, `[{"name":"a","name":"b"}]`, `[{"name":1}]`, `[{"description":"q\\","name":"x\\\"y"}]`,
	`{"name":"x"}`, `[1,]`, `[{"a":"}"}]`, `[{"uri":"file:///x","name":"n"}]`, "[\n\t{\"name\":\"a\"}\r\n]", `[{"name":"é"}]`, `[{}]`, `["a\"]"]`,
}

// The scanner splits a list into the items gjson's ForEach gives, and finds
// the member gjson's Get finds, on any valid JSON (and Filter keeps and
// drops the same items as through gjson).
func FuzzScanMatchesGjson(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// ScanString, eight bytes at a time, ends where a byte loop does.
		q := "\"" + s
		end, plain := ScanString(q, 0)
		wantEnd, wantPlain := -1, true
		for j := 1; j < len(q); j++ {
			if c := q[j]; c == '"' {
				wantEnd = j + 1
				break
			} else if c == '\\' {
				wantPlain = false
				j++
			} else if c < 0x20 {
				wantPlain = false
			}
		}
		if end != wantEnd || end >= 0 && plain != wantPlain {
			t.Fatalf("ScanString(%q) = %d, %v; want %d, %v", q, end, plain, wantEnd, wantPlain)
		}
		if !gjson.Valid(s) {
			return
		}
		spans, ok := splitArray(s, nil)
		arr := gjson.Parse(s)
		if arr.IsArray() && !ok {
			t.Fatalf("%q: a valid array the scanner does not split", s)
		}
		if ok {
			if !arr.IsArray() {
				t.Fatalf("%q: split, but gjson sees no array", s)
			}
			var want []string
			arr.ForEach(func(_, v gjson.Result) bool { want = append(want, v.Raw); return true })
			if len(want) != len(spans) {
				t.Fatalf("%q: %d items, gjson %d", s, len(spans), len(want))
			}
			for k, sp := range spans {
				it := item(s, sp)
				if it.Raw != want[k] {
					t.Fatalf("%q: item %d %q, gjson %q", s, k, it.Raw, want[k])
				}
				for _, key := range []string{"name", "uri", "a"} {
					got, exp := Member(it, key), gjson.Parse(want[k]).Get(key)
					if got.Type != exp.Type || got.Str != exp.Str || got.Raw != exp.Raw || got.Num != exp.Num {
						t.Fatalf("%q: item %d member %q: %+v, gjson %+v", s, k, key, got, exp)
					}
				}
			}
		}
		// The member found while splitting is gjson's.
		_, _, _ = FilterKey(json.RawMessage(s), "name", func(it, m gjson.Result) *framework.HiddenItem {
			if exp := gjson.Parse(it.Raw).Get("name"); m.Type != exp.Type || m.Str != exp.Str || m.Raw != exp.Raw {
				t.Fatalf("%q: item %q name %+v, gjson %+v", s, it.Raw, m, exp)
			}
			return nil
		})
		// Filter through either path hides the same and keeps the same.
		judge := func(it gjson.Result) *framework.HiddenItem {
			if n := Member(it, "name"); n.Type == gjson.String && len(n.Str)%2 == 1 {
				return &framework.HiddenItem{Name: n.Str}
			}
			return nil
		}
		out, hidden, err := Filter(json.RawMessage(s), judge)
		wantOut, wantHidden, wantErr := filterParsed(json.RawMessage(s), judge)
		if (err != nil) != (wantErr != nil) || string(out) != string(wantOut) || len(hidden) != len(wantHidden) {
			t.Fatalf("%q: Filter %q %v %v, through gjson %q %v %v", s, out, hidden, err, wantOut, wantHidden, wantErr)
		}
	})
}
