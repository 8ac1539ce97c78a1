package docgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// SchemaID is the policy schema's $id: its place in the repository.
const SchemaID = "https://github.com/mcp-extproc/mcp-extproc/docs/policy.schema.json"

// Schema is a JSON Schema (draft 2020-12) node. Fields are emitted in this
// order; Properties keep the order of the Go struct.
type Schema struct {
	Schema               string    `json:"$schema,omitempty"`
	ID                   string    `json:"$id,omitempty"`
	Ref                  string    `json:"$ref,omitempty"`
	Title                string    `json:"title,omitempty"`
	Description          string    `json:"description,omitempty"`
	Type                 any       `json:"type,omitempty"`
	Enum                 []any     `json:"enum,omitempty"`
	Const                any       `json:"const,omitempty"`
	Pattern              string    `json:"pattern,omitempty"`
	Minimum              *float64  `json:"minimum,omitempty"`
	MaxProperties        *int      `json:"maxProperties,omitempty"`
	Default              any       `json:"default,omitempty"`
	Properties           *Props    `json:"properties,omitempty"`
	AdditionalProperties any       `json:"additionalProperties,omitempty"`
	Items                *Schema   `json:"items,omitempty"`
	Required             []string  `json:"required,omitempty"`
	AnyOf                []*Schema `json:"anyOf,omitempty"`
	AllOf                []*Schema `json:"allOf,omitempty"`
	If                   *Schema   `json:"if,omitempty"`
	Then                 *Schema   `json:"then,omitempty"`
	Else                 *Schema   `json:"else,omitempty"`
	Not                  *Schema   `json:"not,omitempty"`
	Defs                 *Props    `json:"$defs,omitempty"`
	DeprecatedForWarning bool      `json:"deprecated,omitempty"`
}

// Props is an ordered set of named schemas.
type Props struct {
	names []string
	m     map[string]*Schema
}

// Set adds or replaces name.
func (p *Props) Set(name string, s *Schema) {
	if p.m == nil {
		p.m = map[string]*Schema{}
	}
	if _, ok := p.m[name]; !ok {
		p.names = append(p.names, name)
	}
	p.m[name] = s
}

// Get returns the schema of name.
func (p *Props) Get(name string) *Schema { return p.m[name] }

// Names lists the names in order.
func (p *Props) Names() []string { return p.names }

// MarshalJSON writes the properties in order.
func (p *Props) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, n := range p.names {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(n)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(p.m[n])
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// envRefPattern matches a value that holds a ${VAR} or ${VAR:-default}
// reference: the loader expands it before reading the value, so any type
// may be written that way.
const envRefPattern = `\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}`

// durationPattern is what framework.Duration reads: a Go duration ("1m30s")
// or a plain number of seconds ("5", "0.5").
const durationPattern = `^(\+?([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$|^\+?([0-9]+(\.[0-9]*)?|\.[0-9]+)$|^0$`

var envRef = &Schema{Ref: "#/$defs/env_ref"}

// schemaBuilder turns the config model into a schema, following the
// loader's rules (framework/yamldecode.go): null leaves a default for
// strings, enums, durations, lists, mappings and objects, but not for
// booleans and numbers; every scalar may be an environment reference.
type schemaBuilder struct {
	src *Source
}

func nullable(types ...string) any { return append(types, "null") }

func (b *schemaBuilder) forType(t reflect.Type, def reflect.Value) *Schema {
	if st, ok := framework.ConfigScalar(t); ok {
		s := &Schema{}
		switch {
		case st.Duration:
			s.AnyOf = []*Schema{
				{Type: "number", Minimum: ptr(0.0)},
				{Type: "string", Pattern: durationPattern},
				envRef, {Type: "null"}}
		default:
			enum := []any{}
			for _, v := range append(append([]string{}, st.Enum...), st.Tolerated...) {
				enum = append(enum, v)
			}
			s.AnyOf = []*Schema{{Enum: enum}, envRef, {Type: "null"}}
		}
		s.Default = defaultValue(def)
		return s
	}
	switch t.Kind() {
	case reflect.Pointer:
		var d reflect.Value
		if def.IsValid() && !def.IsNil() {
			d = def.Elem()
		}
		return b.forType(t.Elem(), d)
	case reflect.Struct:
		return b.forStruct(t, def)
	case reflect.Slice:
		var d reflect.Value
		return &Schema{Type: nullable("array"), Items: b.forType(t.Elem(), d), Default: defaultValue(def)}
	case reflect.Map:
		var d reflect.Value
		return &Schema{Type: nullable("object"), AdditionalProperties: b.forType(t.Elem(), d), Default: defaultValue(def)}
	case reflect.Interface:
		return &Schema{}
	case reflect.String:
		if vals := b.src.Consts(t); len(vals) > 0 {
			enum := []any{}
			for _, v := range vals {
				enum = append(enum, v)
			}
			return &Schema{AnyOf: []*Schema{{Enum: enum}, envRef, {Type: "null"}}, Default: defaultValue(def)}
		}
		return &Schema{Type: nullable("string"), Default: defaultValue(def)}
	case reflect.Bool:
		return &Schema{AnyOf: []*Schema{{Type: "boolean"}, envRef}, Default: defaultValue(def)}
	case reflect.Int, reflect.Int64, reflect.Int32:
		return &Schema{AnyOf: []*Schema{{Type: "integer"}, envRef}, Default: defaultValue(def)}
	case reflect.Float64, reflect.Float32:
		return &Schema{AnyOf: []*Schema{{Type: "number"}, envRef}, Default: defaultValue(def)}
	}
	panic(fmt.Sprintf("docgen: no schema for %s", t))
}

func ptr[T any](v T) *T { return &v }

// forStruct describes a mapping with exactly the struct's keys (and their
// aliases), plus the ContextForge keys the loader tolerates.
func (b *schemaBuilder) forStruct(t reflect.Type, def reflect.Value) *Schema {
	s := &Schema{Type: nullable("object"), Properties: &Props{}, AdditionalProperties: false}
	s.Description = b.src.TypeDoc(t)
	for _, f := range configFields(t) {
		var fd reflect.Value
		if def.IsValid() {
			fd = def.FieldByIndex(f.field.Index)
		}
		fs := b.forType(f.field.Type, fd)
		fs.Description = b.src.FieldDoc(t, f.field.Name)
		s.Properties.Set(f.key, fs)
		for _, a := range f.aliases {
			s.Properties.Set(a, aliasOf(fs, f.key))
		}
	}
	for _, k := range sortedKeys(framework.ToleratedKeys(t)) {
		s.Properties.Set(k, &Schema{Description: "ContextForge key, accepted and ignored with a warning: " + framework.ToleratedKeys(t)[k], DeprecatedForWarning: true})
	}
	return s
}

func aliasOf(s *Schema, key string) *Schema {
	c := *s
	c.Description = "Alias of `" + key + "`."
	c.Default = nil
	return &c
}

// configField is one key of a config struct.
type configField struct {
	key     string
	aliases []string
	field   reflect.StructField
}

// configFields lists the keys of a config struct as the loader reads them.
func configFields(t reflect.Type) []configField {
	var out []configField
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "" || tag == "-" || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		cf := configField{key: name, field: f}
		if a := f.Tag.Get("alias"); a != "" {
			cf.aliases = strings.Split(a, ",")
		}
		out = append(out, cf)
	}
	return out
}

// defaultValue renders a default as JSON would carry it, or nil when there
// is nothing worth saying (zero structs, nil pointers, empty strings).
func defaultValue(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	if d, ok := v.Interface().(framework.Duration); ok {
		return durationString(d)
	}
	switch v.Kind() {
	case reflect.String:
		if v.String() == "" {
			return nil
		}
		return v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int64, reflect.Int32:
		return v.Int()
	case reflect.Float64, reflect.Float32:
		return v.Float()
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		out := []any{}
		for i := range v.Len() {
			out = append(out, defaultValue(v.Index(i)))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		out := map[string]any{}
		for _, k := range v.MapKeys() {
			out[k.String()] = defaultValue(v.MapIndex(k))
		}
		return out
	}
	return nil
}

// durationString writes a duration as a person would: 1h, 5m, 2.5s.
func durationString(d framework.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
