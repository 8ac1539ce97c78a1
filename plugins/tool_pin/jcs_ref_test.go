package toolpin

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"

	"fmt"
	"slices"

	"github.com/tidwall/gjson"
)

// The gjson-based canonicaliser the hand-written one in jcs.go replaced,
// kept as the reference the tests compare it with.

// appendCanonical appends the RFC 8785 (JSON Canonicalization Scheme)
// serialisation of the JSON value v to dst: no white space; object members
// sorted by their names' UTF-16 code units; strings with only '"', '\\' and
// control characters escaped (\b \t \n \f \r, else \u00xx); numbers as
// ECMAScript's Number.prototype.toString writes the IEEE 754 double they
// denote. A number that is not a finite double is an error.
func appendCanonicalRef(dst []byte, v gjson.Result) ([]byte, error) {
	switch v.Type {
	case gjson.Null:
		return append(dst, "null"...), nil
	case gjson.True:
		return append(dst, "true"...), nil
	case gjson.False:
		return append(dst, "false"...), nil
	case gjson.String:
		return appendString(dst, v.Str), nil
	case gjson.Number:
		return appendNumber(dst, v.Raw)
	}
	var err error
	if v.IsArray() {
		dst = append(dst, '[')
		first := true
		v.ForEach(func(_, e gjson.Result) bool {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst, err = appendCanonicalRef(dst, e)
			return err == nil
		})
		return append(dst, ']'), err
	}
	if !v.IsObject() {
		return dst, fmt.Errorf("not a JSON value: %.20q", v.Raw)
	}
	type member struct {
		key string
		val gjson.Result
	}
	var stack [16]member
	members := stack[:0]
	v.ForEach(func(k, e gjson.Result) bool {
		members = append(members, member{k.Str, e})
		return true
	})
	slices.SortFunc(members, func(a, b member) int { return compareUTF16(a.key, b.key) })
	dst = append(dst, '{')
	for i, m := range members {
		if i > 0 {
			// Two names are one when they compare equal: for valid UTF-8
			// that is byte equality; names of invalid UTF-8 that a decoder
			// reads as the same replacement characters are one name too
			// (the canonicaliser's rule; the fuzzer found the difference).
			if compareUTF16(m.key, members[i-1].key) == 0 {
				return dst, fmt.Errorf("duplicate member %q", m.key)
			}
			dst = append(dst, ',')
		}
		dst = appendString(dst, m.key)
		dst = append(dst, ':')
		if dst, err = appendCanonicalRef(dst, m.val); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

// canonicalTool appends the canonical JSON that Fingerprint hashes.
func canonicalToolRef(dst []byte, t gjson.Result) ([]byte, error) {
	if !t.IsObject() {
		return dst, fmt.Errorf("tool is not a JSON object")
	}
	var found [6]gjson.Result
	var dup error
	t.ForEach(func(k, v gjson.Result) bool {
		for i, m := range FingerprintMembers {
			if k.Str == m {
				if found[i].Exists() {
					dup = fmt.Errorf("tool has member %q twice", m)
					return false
				}
				found[i] = v
			}
		}
		return true
	})
	if dup != nil {
		return dst, dup
	}
	dst = append(dst, '{')
	first := true
	var err error
	for i, v := range found {
		if !v.Exists() {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendString(dst, FingerprintMembers[i])
		dst = append(dst, ':')
		if dst, err = appendCanonicalRef(dst, v); err != nil {
			return dst, fmt.Errorf("%s: %w", FingerprintMembers[i], err)
		}
	}
	return append(dst, '}'), nil
}

// equivalenceSeeds are inputs that take each fast path of the one-pass
// canonicaliser and each way out of it.
var equivalenceSeeds = []string{
	`{"b":1,"a":[true,null,"x\u0001"]}`, `[1e30,4.50,-0,0.000001,1e-7]`, `{"\ud83d\ude00":1,"\ufb33":2}`, `"\u2028"`, `{}`, `[]`,
	` { "z" : [ 1 , 2 ] , "a" : { "y" : "\"" , "x" : -0 } } `, `{"a":1,"a":2}`, `{"b":{"a":1,"a":2}}`, `{"a\u0062":1,"ab":2}`,
	`[0,-1,123456789012345,1234567890123456,-123456789012345,10,1.0,1e2,100,0.5,-0.0,01]`, `{"\u00e9":1,"e":2,"\uffff":3,"\ud800\udc00":4}`,
	`{"name":"x","description":"d","inputSchema":{"type":"object","properties":{}},"_meta":{"a":[1,{"b":"}"}]},"icons":[]}`,
	`{"title":null,"name":"n","name":"m"}`, `{"_meta":1,"_meta":2,"name":"n"}`, `{"na\u006de":"x","annotations":{"b":true,"a":false}}`,
	`{"outputSchema":{"c":"\t","b":"\/","a":"\u00e9\n"},"name":"é"}`, `{"x":"\\\"","name":"a b"}`, `[{"b":[{"d":1,"c":2}],"a":0}]`,
	`{"a":1e400}`, `{"name":"n","inputSchema":1e400}`, `[1E+2,1e-2,-1.5E-10]`, `"plain"`, `true`, `null`, `12`,
}

// The one-pass canonicaliser writes what the gjson tree walk wrote, and
// fails where it failed, on any valid JSON.
func FuzzCanonicalMatchesReference(f *testing.F) {
	for _, s := range equivalenceSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if !gjson.Valid(in) {
			return
		}
		got, err := appendCanonical(nil, in)
		want, wantErr := appendCanonicalRef(nil, gjson.Parse(in))
		if (err != nil) != (wantErr != nil) || err == nil && string(got) != string(want) {
			t.Fatalf("%q:\none-pass %q (%v)\ngjson    %q (%v)", in, got, err, want, wantErr)
		}
		gotT, err := canonicalTool(nil, in)
		wantT, wantErr := canonicalToolRef(nil, gjson.Parse(in))
		if (err != nil) != (wantErr != nil) || err == nil && string(gotT) != string(wantT) {
			t.Fatalf("tool %q:\none-pass %q (%v)\ngjson    %q (%v)", in, gotT, err, wantT, wantErr)
		}
	})
}

// fastSeeds are tools the fast path takes or must refuse: canonical text,
// and text one byte away from it (white space, escapes, numbers, order,
// duplicates, control characters, depth).
var fastSeeds = []string{
	`{"annotations":{"openWorldHint":false,"readOnlyHint":true},"description":"d","inputSchema":{"properties":{"id":{"type":"string"}},"required":["id"],"type":"object"},"name":"n","title":"T"}`,
	`{"name":"n","title":"T","description":"d","inputSchema":{"type":"object"}}`, `{"name":"n","inputSchema":{"b":1,"a":2}}`,
	`{"name":"n","inputSchema":{"a":1,"a":2}}`, `{"name":"n","inputSchema":{"a":1e21}}`, `{"name":"n","inputSchema":{"a":-0}}`,
	`{"name":"n","inputSchema":{"a":1.0}}`, `{"name":"n","inputSchema":{"a":100,"b":-12,"c":0}}`, `{"name":"n","inputSchema":{"a":01}}`,
	`{"name":"n","inputSchema":{"a": 1}}`, `{"name" :"n"}`, `{ "name":"n" , "title":"t" }`, `{"name":"n\u0041"}`, `{"na\u006de":"n"}`,
	`{"name":"n","name":"m"}`, `{"_meta":1,"_meta":2,"name":"n"}`, `{"name":"a\tb"}`, `{"name":"\u00e9","description":"é 😀 \u2028"}`,
	`{"name":"n","inputSchema":{"\ud83d\ude00":1,"\ufb33":2}}`, `{"name":"n","inputSchema":{"😀":1,"דּ":2}}`, `{"name":"n","inputSchema":{"דּ":1,"😀":2}}`,
	`{"name":"n","inputSchema":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
	`{"name":"n","annotations":{"x":true,"y":false,"z":null},"icons":[{"src":"a b"}]}`, `{"name":"n","inputSchema":{"a":123456789012345,"b":1234567890123456}}`,
	`{"name":"n","inputSchema":{"a":truex}}`, `{"name":"n","inputSchema":{"":1,"a":[]}}`, `{}`, `{"x":1}`, `{"name":"n"}  `,
}

// The fast path hashes exactly what the canonicaliser and the gjson
// reference hash, or declines: it never gives another fingerprint, and it
// takes the canonical tools it was written for.
func FuzzFastFingerprintMatchesReference(f *testing.F) {
	for _, s := range append(fastSeeds, equivalenceSeeds...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if !gjson.Valid(in) {
			return
		}
		c := getCanonicaliser()
		defer putCanonicaliser(c)
		fp, name, ok := fingerprintFast(c, in)
		if ok && name != gjson.Get(in, "name").Str {
			t.Fatalf("%q: fast path name %q, gjson %q", in, name, gjson.Get(in, "name").Str)
		}
		want, wantErr := fingerprintCanonicalised(c, in)
		ref, refErr := canonicalToolRef(nil, gjson.Parse(in))
		if (wantErr != nil) != (refErr != nil) || wantErr == nil && want.String() != sha256Hex(ref) {
			t.Fatalf("%q: canonicaliser %s (%v), reference %s (%v)", in, want, wantErr, sha256Hex(ref), refErr)
		}
		if ok && (wantErr != nil || fp != want) {
			t.Fatalf("%q: fast path %s, canonicaliser %s (%v)", in, fp, want, wantErr)
		}
		// Canonical text is taken (when its members are all there is to
		// check, and nested no deeper than the fast path follows).
		if wantErr == nil && !ok && string(ref) == in && !strings.Contains(in, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[") && !strings.Contains(in, "{{") {
			if _, _, again := fingerprintFast(c, string(ref)); !again && fastTakes(string(ref)) {
				t.Fatalf("%q: canonical, but the fast path declines it", in)
			}
		}
	})
}

// fastTakes reports canonical text the fast path is meant to take: numbers
// only small integers.
func fastTakes(canonical string) bool {
	return !strings.ContainsAny(canonical, ".eE\\") && !strings.Contains(canonical, "-0") && !regexp.MustCompile(`[0-9]{16}`).MatchString(canonical)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Tools as servers write them — members in their structs' order, schema
// keys unsorted, numbers and white space the canonicaliser rewrites — are
// taken by the fast path member by member, with the fingerprint of the
// canonicaliser and of the gjson reference; a name it cannot read as
// written is left to the canonicaliser.
func TestFastFingerprintTakesServerOrder(t *testing.T) {
	for _, tc := range []struct {
		tool string
		fast bool
	}{
		{`{"name":"lookup","title":"Look up","description":"d","inputSchema":{"type":"object","required":["id"],"properties":{"id":{"type":"string"}}},"annotations":{"readOnlyHint":true,"openWorldHint":false}}`, true},
		{`{"name":"n","inputSchema":{"type":"object","properties":{"limit":{"type":"integer","maximum":1e2,"minimum":1.0}}}}`, true},
		{`{"name":"n","inputSchema": {"b": 1, "a": [2, {"d":"\u0041","c":null}]},"description":"x"}`, true},
		{`{"name":"n","inputSchema":{"b":1,"a":2},"_meta":{"z":1,"y":2}}`, true},
		{`{"name":"n\u0041","inputSchema":{"b":1,"a":2}}`, false},
		{`{"name":"n","inputSchema":{"a":1,"a":2}}`, false},
		{`{"name":"n","inputSchema":{"a":1,"b":}}`, false},
	} {
		c := getCanonicaliser()
		fp, name, ok := fingerprintFast(c, tc.tool)
		putCanonicaliser(c)
		if ok != tc.fast {
			t.Errorf("%s: fast path took it: %v, want %v", tc.tool, ok, tc.fast)
		}
		if !ok {
			continue
		}
		ref, err := canonicalToolRef(nil, gjson.Parse(tc.tool))
		if err != nil || fp.String() != sha256Hex(ref) {
			t.Errorf("%s: fast path %s, reference %s (%v)", tc.tool, fp, sha256Hex(ref), err)
		}
		if want := gjson.Get(tc.tool, "name").Str; name != want {
			t.Errorf("%s: name %q, want %q", tc.tool, name, want)
		}
	}
}
