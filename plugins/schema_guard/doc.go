// Package schemaguard is the built-in schema_guard plugin kind: it
// validates tools/call arguments against the tool's input schema and tool
// results' structuredContent against its output schema, with JSON Schema
// draft 2020-12 (github.com/santhosh-tekuri/jsonschema/v6). A violation
// names the failing locations and keywords, never the values.
//
// Schemas come from the policy (per tool name) or, per server, from what
// the server announced in tools/list: Store keeps those, bounded, for the
// tools/list hook to fill. Schemas never load anything by reference: a
// $ref outside the schema itself is an error. Importing the package
// registers the kind.
package schemaguard
