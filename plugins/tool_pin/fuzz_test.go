package toolpin

import (
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// The canonical form is valid JSON, means what the input means (as
// encoding/json reads both), and is its own canonical form.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[true,null,"x\u0001"]}`, `[1e30,4.50,-0,0.000001,1e-7]`, `{"\ud83d\ude00":1,"\ufb33":2}`, `"\u2028"`, `{}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if !utf8.ValidString(in) || !gjson.Valid(in) {
			return
		}
		var want any
		if json.Unmarshal([]byte(in), &want) != nil {
			return
		}
		out, err := appendCanonical(nil, in)
		if err != nil {
			return // duplicate members, numbers beyond float64
		}
		var got any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%q → %q: not JSON: %v", in, out, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q → %q: means something else", in, out)
		}
		again, err := appendCanonical(nil, string(out))
		if err != nil || string(again) != string(out) {
			t.Fatalf("%q → %q → %q (%v): not idempotent", in, out, again, err)
		}
	})
}
