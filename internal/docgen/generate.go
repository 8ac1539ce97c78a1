// Package docgen generates the documents that are derived from the code —
// the policy JSON Schema (docs/policy.schema.json), the configuration
// reference (docs/configuration.md) and the metrics reference
// (docs/metrics.md) — so that they cannot drift from it. cmd/docgen writes
// them (make docs); this package's tests fail when a committed copy is stale.
//
// It describes the built-in kinds linked into this program (plugins/all);
// a kind registered with framework.Register is picked up from its Defaults.
package docgen

import (
	// Every built-in kind, so that the schema and reference describe them.
	_ "github.com/mcp-extproc/mcp-extproc/plugins/all"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// File is one generated document, its path relative to the module root.
type File struct {
	Path string
	Data []byte
}

// Generate builds every generated document from the code of the module
// found at or above dir.
func Generate(dir string) ([]File, error) {
	src, err := NewSource(dir)
	if err != nil {
		return nil, err
	}
	reg := framework.DefaultRegistry()
	schema, err := SchemaJSON(PolicySchema(src, reg))
	if err != nil {
		return nil, err
	}
	ms, err := Metrics()
	if err != nil {
		return nil, err
	}
	return []File{
		{Path: "docs/policy.schema.json", Data: schema},
		{Path: "docs/configuration.md", Data: []byte(ConfigReference(src, reg))},
		{Path: "docs/metrics.md", Data: []byte(MetricsReference(ms))},
	}, nil
}
