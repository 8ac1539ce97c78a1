package framework

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzParse: the policy loader never panics, and every error it reports
// names a line and a message, whatever the file.
func FuzzParse(f *testing.F) {
	for _, p := range []string{"testdata/contextforge.yaml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("plugins:\n  - {name: a, kind: probe, mode: audit, config: {action: modify}}\n"))
	f.Add([]byte("server: {listen: ${X:-a}}\nmcp: {paths: [/mcp], max_body_bytes: 0x10}\n"))
	f.Add([]byte("plugins: &a [*a]\n"))
	f.Add([]byte("{{{"))
	reg := testRegistry()
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, err := Parse(data, "fuzz.yaml", LoadOptions{Registry: reg, LookupEnv: func(string) (string, bool) { return "", false }})
		var ces ConfigErrors
		if err != nil && !errors.As(err, &ces) {
			t.Fatalf("error is %T, want ConfigErrors: %v", err, err)
		}
		for _, e := range ces {
			if e.Msg == "" {
				t.Fatalf("empty message: %+v", e)
			}
		}
	})
}

// FuzzExpandEnv: expansion never panics and leaves text without "$" alone.
func FuzzExpandEnv(f *testing.F) {
	for _, s := range []string{"${A}", "${A:-b}", "$$", "a$b", "${", "${A:-${B}}", "plain"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := expandEnv(s, func(k string) (string, bool) { return "v", k == "A" })
		if err == nil && !strings.Contains(s, "$") && out != s {
			t.Fatalf("%q changed to %q", s, out)
		}
	})
}
