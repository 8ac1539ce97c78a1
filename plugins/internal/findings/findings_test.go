package findings

import (
	"fmt"
	"strings"
	"testing"
)

func TestCompileCustomErrors(t *testing.T) {
	for _, tc := range []struct{ typ, pattern, want string }{
		{" ", `\d+`, "custom_patterns[1].type: must not be empty"},
		{"emp", "", "custom_patterns[1].pattern: must not be empty"},
		{"emp", "(", "custom_patterns[1].pattern: invalid regular expression: error parsing regexp"},
		{"emp", `\d*`, `custom_patterns[1].pattern: "\\d*" matches the empty string`},
	} {
		if _, err := CompileCustom("custom_patterns[1]", tc.typ, tc.pattern); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("CompileCustom(%q, %q) = %v, want %q", tc.typ, tc.pattern, err, tc.want)
		}
	}
	if _, err := CompileWhitelist([]string{"ok", "("}); err == nil || !strings.HasPrefix(err.Error(), "whitelist_patterns[1]: invalid regular expression") {
		t.Errorf("CompileWhitelist: %v", err)
	}
}

func TestCustomFind(t *testing.T) {
	for _, tc := range []struct{ pattern, text, want string }{
		{`EMP\d{4}`, "EMP1234 and EMP5678", "EMP1234 EMP5678"},
		// The group named value is the finding, when it took part and is not empty.
		{`id=(?P<value>\w+)`, "id=abc id= x", "abc"},
		{`k(?P<value>\d+)?z`, "kz k12z", "12"},
	} {
		c, err := CompileCustom("k", "t", tc.pattern)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		c.Find(tc.text, func(start, end int) { got = append(got, tc.text[start:end]) })
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s in %q: %q, want %q", tc.pattern, tc.text, got, tc.want)
		}
	}
}

type span struct{ start, end int }

func (s span) bounds() (int, int) { return s.start, s.end }

func TestResolve(t *testing.T) {
	const s = "0123456789abcdef"
	wl, err := CompileWhitelist([]string{"^abc$"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		in   []span
		wl   Whitelist
		want string
	}{
		{"none", nil, wl, "[]"},
		{"sorted", []span{{5, 7}, {0, 2}}, nil, "[{0 2} {5 7}]"},
		{"first wins", []span{{2, 6}, {0, 3}, {4, 8}}, nil, "[{0 3} {4 8}]"},
		{"longer wins at the same start", []span{{1, 3}, {1, 5}, {1, 4}}, nil, "[{1 5}]"},
		{"touching is no overlap", []span{{0, 3}, {3, 5}}, nil, "[{0 3} {3 5}]"},
		{"whitelisted dropped first", []span{{10, 13}, {9, 12}}, wl, "[{9 12}]"},
		{"whitelisted, overlap kept", []span{{10, 13}, {12, 14}}, wl, "[{12 14}]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fmt.Sprint(Resolve(s, tc.in, tc.wl, span.bounds)); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}
