package schemaguard

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// errNoLoading refuses every $ref to a document other than the schema: a
// schema announced by an MCP server must not make the filter read files or
// fetch URLs. The draft metaschemas are built into the library and still
// resolve.
var errNoLoading = errors.New("schemas may not refer to other documents")

type refuseLoader struct{}

func (refuseLoader) Load(string) (any, error) { return nil, errNoLoading }

// schemaURL is the location each schema is compiled under; relative $refs
// resolve against it, and it appears in nothing a client sees.
const schemaURL = "mem://schema_guard/schema.json"

// compile reads one schema (JSON) and compiles it. A schema without
// $schema is draft 2020-12. Formats are annotations, as 2020-12 says.
func compile(doc []byte) (*jsonschema.Schema, error) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(refuseLoader{})
	if err := c.AddResource(schemaURL, v); err != nil {
		return nil, err
	}
	return c.Compile(schemaURL)
}
