package docgen

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	yaml "go.yaml.in/yaml/v3"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

func root(t *testing.T) string {
	t.Helper()
	src, err := NewSource(".")
	if err != nil {
		t.Fatal(err)
	}
	return src.Root()
}

// The committed documents are what the generator writes today: a kind or
// config key added without `make docs` fails here.
func TestGeneratedDocsAreCurrent(t *testing.T) {
	files, err := Generate(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join(root(t), f.Path))
		if err != nil {
			t.Errorf("%s: %v (run make docs)", f.Path, err)
			continue
		}
		if !bytes.Equal(got, f.Data) {
			t.Errorf("%s is stale: run make docs and commit the result", f.Path)
		}
	}
}

func compiledSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root(t), "docs/policy.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(SchemaID, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(SchemaID)
	if err != nil {
		t.Fatalf("docs/policy.schema.json does not compile as draft 2020-12: %v", err)
	}
	return s
}

// instance reads a YAML policy as an editor's schema checker sees it.
func instance(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	if v == nil {
		v = map[string]any{}
	}
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// loads reports whether the policy loads as extproc validate loads it: the
// file, then each enabled built-in plugin's own settings.
func loads(data []byte, name string) error {
	cfg, _, err := framework.Parse(data, name, framework.LoadOptions{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		return err
	}
	var errs []error
	for i := range cfg.Plugins {
		pc := &cfg.Plugins[i]
		if pc.Mode == framework.ModeDisabled || pc.Kind == framework.KindExternal {
			continue
		}
		if _, err := framework.Instantiate(pc, nil); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func policyFiles(t *testing.T, patterns ...string) []string {
	t.Helper()
	var out []string
	for _, p := range patterns {
		m, err := filepath.Glob(filepath.Join(root(t), p))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m...)
	}
	if len(out) == 0 {
		t.Fatalf("no files match %v", patterns)
	}
	return out
}

// Every policy we ship validates against the schema, and names it for
// editors.
func TestExamplesValidate(t *testing.T) {
	s := compiledSchema(t)
	for _, f := range policyFiles(t, "examples/*.yaml", "examples/policies/*.yaml", "framework/testdata/*.yaml", "internal/docgen/testdata/valid/*.yaml") {
		rel, _ := filepath.Rel(root(t), f)
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := loads(data, f); err != nil {
			t.Errorf("%s does not load: %v", rel, err)
		}
		if err := s.Validate(instance(t, data)); err != nil {
			t.Errorf("%s does not validate against docs/policy.schema.json: %v", rel, err)
		}
		if strings.HasPrefix(rel, "examples/") {
			want := "# yaml-language-server: $schema="
			if !bytes.HasPrefix(data, []byte(want)) {
				t.Errorf("%s does not start with %q", rel, want+"…/docs/policy.schema.json")
				continue
			}
			line, _, _ := strings.Cut(string(data[len(want):]), "\n")
			if _, err := os.Stat(filepath.Join(filepath.Dir(f), line)); err != nil || !strings.HasSuffix(line, "docs/policy.schema.json") {
				t.Errorf("%s: schema path %q does not reach docs/policy.schema.json", rel, line)
			}
		}
	}
}

// Files the loader rejects for a type, enum or key reason are rejected by
// the schema too, so an editor flags them before the server does.
func TestSchemaRejectsWhatTheLoaderRejects(t *testing.T) {
	s := compiledSchema(t)
	for _, f := range policyFiles(t, "internal/docgen/testdata/invalid/*.yaml") {
		name := filepath.Base(f)
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := loads(data, name); err == nil {
			t.Errorf("%s: the loader accepts it; the corpus must hold rejected files", name)
		}
		if err := s.Validate(instance(t, data)); err == nil {
			t.Errorf("%s: the loader rejects it but the schema accepts it", name)
		}
	}
}

// Every enum of the config model lists its values (framework's enumerated),
// so that the schema and the reference can name them.
func TestEveryEnumListsItsValues(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(ty reflect.Type) {
		if seen[ty] {
			return
		}
		seen[ty] = true
		if st, ok := framework.ConfigScalar(ty); ok {
			if !st.Duration && len(st.Enum) == 0 {
				t.Errorf("%s parses itself from a scalar but lists no values: give it a values() method", ty)
			}
			for _, v := range st.Enum {
				if err := framework.ParseConfigScalar(ty, v); err != nil {
					t.Errorf("%s lists %q but rejects it: %v", ty, v, err)
				}
			}
			return
		}
		switch ty.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map:
			walk(ty.Elem())
		case reflect.Struct:
			for _, f := range configFields(ty) {
				walk(f.field.Type)
			}
		}
	}
	walk(reflect.TypeFor[framework.Config]())
	if len(seen) < 10 {
		t.Fatalf("walked only %d types", len(seen))
	}
}

// The reference documents every key of the model and every built-in kind.
func TestReferenceCoversEveryKey(t *testing.T) {
	src, err := NewSource(".")
	if err != nil {
		t.Fatal(err)
	}
	ref := ConfigReference(src, framework.DefaultRegistry())
	for _, want := range []string{"`server.listen`", "`mcp.identity.claims_header`", "`plugins[].conditions[].tools`", "`plugins[].mcp.tls.ca_file`"} {
		if !strings.Contains(ref, want) {
			t.Errorf("reference lacks %s", want)
		}
	}
	var undocumented []string
	for _, line := range strings.Split(ref, "\n") {
		if strings.HasPrefix(line, "| `") && strings.HasSuffix(line, "|  |") {
			key := strings.Fields(line)[1]
			if strings.HasPrefix(key, "`config.") {
				// A kind's settings are documented in its README; the
				// reference shows their types and defaults.
				continue
			}
			undocumented = append(undocumented, key)
		}
	}
	if len(undocumented) > 0 {
		t.Errorf("keys without a doc comment on their Go field: %s", strings.Join(undocumented, " "))
	}
	for _, k := range framework.DefaultRegistry().Kinds() {
		if !strings.Contains(ref, "### `"+k.Name+"`") {
			t.Errorf("reference lacks kind %s", k.Name)
		}
	}
}
