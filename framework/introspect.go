package framework

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
)

// This file exposes what the loader knows about the config model to tools
// that describe it (the JSON Schema and configuration reference generator):
// nothing here is used when loading a policy.

// enumerated is implemented by config enums: values lists what setScalar
// accepts, so the enum is declared once.
type enumerated interface{ values() []string }

// ScalarType describes a config type that is read from one YAML scalar by
// its own parser rather than by its Go kind.
type ScalarType struct {
	// Enum lists the accepted values; nil for Duration.
	Enum []string
	// Tolerated lists values accepted with a warning (ContextForge hooks).
	Tolerated []string
	// Duration is true for Duration ("5s" or a number of seconds).
	Duration bool
	// Expected is the loader's description of valid input.
	Expected string
}

// ConfigScalar reports whether values of type t are parsed by the loader
// from a single scalar (an enum or a duration) and, if so, what it accepts.
// ok is false for ordinary strings, numbers, lists and mappings.
func ConfigScalar(t reflect.Type) (st ScalarType, ok bool) {
	pt := reflect.PointerTo(t)
	if !pt.Implements(scalarSetterType) {
		return ScalarType{}, false
	}
	v := reflect.New(t).Interface()
	st.Expected = v.(scalarSetter).expected()
	if t == reflect.TypeFor[Duration]() {
		st.Duration = true
		return st, true
	}
	if e, ok := v.(enumerated); ok {
		st.Enum = e.values()
	}
	if t == reflect.TypeFor[HookType]() {
		st.Tolerated = slices.Sorted(maps.Keys(contextForgeOnlyHooks))
	}
	return st, true
}

// ToleratedKeys returns the keys of struct type t that the loader accepts
// with a warning (ContextForge keys mcp-extproc does not use), with the
// reason shown in the warning.
func ToleratedKeys(t reflect.Type) map[string]string { return contextForgeKeys[t] }

// DefaultPluginConfig returns a plugins: entry holding every default.
func DefaultPluginConfig() PluginConfig { return defaultPluginConfig() }

// ParseConfigScalar parses s as the loader would into a value of type t (a
// type ConfigScalar reports on), returning the loader's error.
func ParseConfigScalar(t reflect.Type, s string) error {
	v, ok := reflect.New(t).Interface().(scalarSetter)
	if !ok {
		return fmt.Errorf("%s is not read from a scalar", t)
	}
	return v.setScalar(s)
}
