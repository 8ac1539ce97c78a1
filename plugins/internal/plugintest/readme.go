package plugintest

import (
	"os"
	"strings"
	"testing"
)

// READMEPolicy returns the first ```yaml block of the README at path (a
// kind's example policy), so that a test can load it and the example
// cannot drift from what loads.
func READMEPolicy(tb testing.TB, path string) string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "```yaml\n")
	block, _, closed := strings.Cut(rest, "```")
	if !ok || !closed {
		tb.Fatalf("%s: no ```yaml block", path)
	}
	return block
}
