package main

import (
	"os"

	"github.com/mcp-extproc/mcp-extproc/examples"
	"github.com/mcp-extproc/mcp-extproc/framework"
	// Every built-in plugin kind, and kind: external, is linked into the binary.
	_ "github.com/mcp-extproc/mcp-extproc/framework/external"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/all"
)

// loadPolicy reads the policy named by --config, else by EXTPROC_CONFIG,
// else the embedded default. It returns the path it read ("" for the
// embedded default) so the server can watch it.
func loadPolicy(path string) (*framework.Config, []framework.Warning, string, error) {
	if path == "" {
		path = os.Getenv("EXTPROC_CONFIG")
	}
	if path == "" {
		cfg, warns, err := framework.Parse(examples.DefaultPolicy, examples.DefaultPolicyName, framework.LoadOptions{})
		return cfg, warns, "", err
	}
	cfg, warns, err := framework.Load(path, framework.LoadOptions{})
	return cfg, warns, path, err
}
