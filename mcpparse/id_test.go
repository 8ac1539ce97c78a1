package mcpparse

import (
	"errors"
	"testing"
)

func TestIDEqualAndKey(t *testing.T) {
	mk := func(s string) ID {
		t.Helper()
		id, err := IDFromRaw([]byte(s))
		if err != nil {
			t.Fatalf("IDFromRaw(%q): %v", s, err)
		}
		return id
	}
	tests := []struct {
		a, b  string
		equal bool
	}{
		{`1`, `1`, true},
		{`"a"`, `"a"`, true},
		{`"a"`, `"\u0061"`, true}, // same string, escaped differently
		{`"é"`, `"\u00e9"`, true}, // non-ASCII escape
		{`"1"`, `1`, false},       // string is never a number
		{`1`, `1.0`, false},       // numbers compare as written
		{`1e2`, `100`, false},     //
		{`12345678901234567891`, `12345678901234567890`, false},
		{`-0`, `0`, false},
		{`null`, `null`, true},
		{`null`, `"null"`, false},
		{`""`, `"\""`, false},
	}
	for _, tt := range tests {
		a, b := mk(tt.a), mk(tt.b)
		if got := a.Equal(b); got != tt.equal {
			t.Errorf("%s.Equal(%s) = %v, want %v", tt.a, tt.b, got, tt.equal)
		}
		if got := a.Key() == b.Key(); got != tt.equal {
			t.Errorf("Key(%s)=%q Key(%s)=%q: equal=%v, want %v", tt.a, a.Key(), tt.b, b.Key(), got, tt.equal)
		}
	}
	var zero ID
	if !zero.IsZero() || zero.Raw() != nil || zero.Key() != "" || zero.String() != "" {
		t.Errorf("zero ID: %+v", zero)
	}
	if id := mk(`"x"`); !id.IsString() || id.IsNumber() || id.IsNull() || string(id.Raw()) != `"x"` {
		t.Errorf("string id predicates wrong")
	}
	if id := mk(`-1.5e3`); !id.IsNumber() || id.IsString() || id.String() != "-1.5e3" {
		t.Errorf("number id predicates wrong")
	}
	if StringID(`a"b`).String() != `"a\"b"` || NumberID(-7).String() != "-7" || !NullID().IsNull() {
		t.Errorf("constructors: %s %s %s", StringID(`a"b`), NumberID(-7), NullID())
	}
	if id := mk(""); !id.IsZero() {
		t.Errorf("empty raw is not the zero ID")
	}
}

func TestIDFromRawRejects(t *testing.T) {
	for _, raw := range []string{`{}`, `[1]`, `true`, ` 1`, `1 `, `01`, `"a`, `"\ud800"`, "\"\xff\"", `nul`, `1,2`} {
		if _, err := IDFromRaw([]byte(raw)); err == nil {
			t.Errorf("IDFromRaw(%q) accepted", raw)
		} else if e := (*Error)(nil); !errors.As(err, &e) {
			t.Errorf("IDFromRaw(%q): %T is not *Error", raw, err)
		}
	}
}
