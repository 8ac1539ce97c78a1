package llamaguard_test

import (
	"testing"

	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
)

// The README's example policy loads.
func TestREADMEExample(t *testing.T) {
	if _, err := plugintest.Instantiate(plugintest.READMEPolicy(t, "README.md")); err != nil {
		t.Fatal(err)
	}
}
