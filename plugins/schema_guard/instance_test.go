package schemaguard

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// reference decodes as encoding/json does with UseNumber; json.Valid
// rejects trailing data as decodeInstance does.
func reference(b []byte) (any, error) {
	if !json.Valid(b) {
		return nil, errUnexpectedEnd
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

func TestDecodeInstance(t *testing.T) {
	for _, ok := range []string{
		`{}`, `[]`, ` {"a" : [1, -2.5e+3, 0, 0.0, true, false, null, "x"]} `, `"\u00e9\ud83d\ude00\n\"\\"`,
		`"é"`, `12345678901234567890123`, `{"a":{"b":{"c":[[]]}}}`, `{"a":1,"a":2}`, "\"\xff\"",
	} {
		got, err := decodeInstance([]byte(ok))
		want, werr := reference([]byte(ok))
		if err != nil || werr != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v, %v; want %#v, %v", ok, got, err, want, werr)
		}
	}
	for _, bad := range []string{
		``, `{`, `[1,]`, `{"a"}`, `{"a":}`, `{a:1}`, `01`, `1.`, `-`, `1e`, `tru`, `nul`, `"abc`, "\"a\tb\"", `{} x`, `[1 2]`, `"\x"`, `+1`, `.5`,
		strings.Repeat("[", maxInstanceDepth+2) + strings.Repeat("]", maxInstanceDepth+2),
	} {
		if _, err := decodeInstance([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// FuzzDecodeInstance holds the decoder to encoding/json: the same value for
// every valid document, an error for every invalid one.
func FuzzDecodeInstance(f *testing.F) {
	for _, s := range []string{`{"a":[1,-2.5e+3,true,null,"x\u00e9"]}`, `"\ud800"`, `[01]`, `{"a":1}x`, "\"\xed\xa0\x80\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeInstance(b)
		want, werr := reference(b)
		if (err == nil) != (werr == nil) {
			if err != nil && strings.Contains(err.Error(), "nested deeper") {
				return
			}
			t.Fatalf("%q: decodeInstance error %v, encoding/json error %v", b, err, werr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: got %#v, want %#v", b, got, want)
		}
	})
}
