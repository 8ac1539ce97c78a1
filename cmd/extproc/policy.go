package main

import (
	"io"
	"log/slog"
	"os"

	"github.com/mcp-extproc/mcp-extproc/examples"
	"github.com/mcp-extproc/mcp-extproc/framework"
	// Every built-in plugin kind, and kind: external, is linked into the binary.
	_ "github.com/mcp-extproc/mcp-extproc/framework/external"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/all"
)

// loadPolicy reads the policy named by --config, else by EXTPROC_CONFIG,
// else the embedded default, logs its warnings, and on failure prints every
// error and returns exit status 1. It returns the path it read ("" for the
// embedded default) so the server can watch it.
func loadPolicy(path string, logger *slog.Logger, stderr io.Writer) (*framework.Config, string, error) {
	if path == "" {
		path = os.Getenv("EXTPROC_CONFIG")
	}
	var (
		cfg   *framework.Config
		warns []framework.Warning
		err   error
	)
	if path == "" {
		cfg, warns, err = framework.Parse(examples.DefaultPolicy, examples.DefaultPolicyName, framework.LoadOptions{})
	} else {
		cfg, warns, err = framework.Load(path, framework.LoadOptions{})
	}
	for _, w := range warns {
		logger.Warn("config warning", "warning", w.String())
	}
	if err != nil {
		printErrors(stderr, err)
		return nil, "", exitError(1)
	}
	return cfg, path, nil
}
