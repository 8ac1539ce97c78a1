package framework

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
)

// Factory builds a plugin from its configuration. It decodes and checks the
// kind's settings (spec.DecodeConfig) and must not do I/O: connections and
// child processes belong in Initialize, so that `extproc validate` can build
// every plugin of a file without side effects.
type Factory func(spec *PluginConfig) (Plugin, error)

// Kind describes a built-in plugin kind.
type Kind struct {
	// Name is what plugins[].kind says ("pii_filter").
	Name string
	// Aliases resolve to this kind: ContextForge class paths
	// ("plugins.pii_filter.pii_filter.PIIFilterPlugin") and names.
	Aliases []string
	// Description is one line for `extproc plugins`.
	Description string
	// Hooks the kind implements.
	Hooks []HookType
	// Defaults is the kind's config struct holding its default values; its
	// yaml tags name the config keys. It documents the kind in
	// `extproc plugins`; nil when the kind has no settings.
	Defaults any
	// New builds an instance.
	New Factory
	// Inline declares that the kind's plugins do no I/O and return promptly
	// (CPU-bound checks over a bounded payload): their calls run on the
	// caller's goroutine, without a goroutine, timer or context copy per
	// call. A panic is still contained, and a call that overruns its timeout
	// is still a timeout (its result is discarded), but it is not abandoned
	// mid-call. Kinds that call services or may block leave it false; their
	// calls run on a bounded pool of warm workers under the deadline.
	Inline bool
}

// ConfigKey describes one setting of a kind, derived from Kind.Defaults.
type ConfigKey struct {
	Name    string
	Type    string
	Default string
	// Value is the default value itself.
	Value any
	// Keys are the settings of an object-typed setting (a nested struct),
	// with their defaults.
	Keys []ConfigKey
}

// ConfigKeys lists the kind's settings with their defaults.
func (k Kind) ConfigKeys() []ConfigKey {
	if k.Defaults == nil {
		return nil
	}
	return configKeys(reflect.Indirect(reflect.ValueOf(k.Defaults)))
}

func configKeys(v reflect.Value) []ConfigKey {
	if v.Kind() != reflect.Struct {
		return nil
	}
	var keys []ConfigKey
	for i := range v.NumField() {
		f := v.Type().Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		fv := v.Field(i)
		key := ConfigKey{Name: name, Type: typeName(f.Type), Default: fmt.Sprint(fv.Interface()), Value: fv.Interface()}
		if st := reflect.Indirect(fv); st.Kind() == reflect.Struct && !st.Type().Implements(stringerType) {
			key.Keys = configKeys(st)
		}
		keys = append(keys, key)
	}
	return keys
}

var stringerType = reflect.TypeFor[fmt.Stringer]()

func typeName(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[Duration]():
		return "duration"
	case t.Kind() == reflect.Slice:
		return "list of " + typeName(t.Elem())
	case t.Kind() == reflect.Map:
		return "map of " + typeName(t.Elem())
	case t.Kind() == reflect.Struct:
		return "object"
	case t.Kind() == reflect.Int || t.Kind() == reflect.Int64:
		return "int"
	case t.Kind() == reflect.Float64:
		return "number"
	case t.Kind() == reflect.Pointer:
		return typeName(t.Elem()) + " (optional)"
	}
	return t.Kind().String()
}

// ErrNotServed is wrapped by a factory error that means "this kind cannot
// honour these settings", as opposed to "these settings are wrong": a
// ContextForge class path resolves to a kind here, but the entry asks for
// something the kind does not do (another moderation provider). Such an entry
// is treated like a kind this build does not have: with
// fail_on_plugin_error: false it loads as unavailable, and its hooks fail
// closed per its mode and on_error.
var ErrNotServed = errors.New("not served by this kind")

// KindExternal is the kind of plugins reached over MCP (design section 7).
// Package framework/external registers it, so that the framework does not
// import the MCP client; a build without that package reports the kind as
// not available.
const KindExternal = "external"

// Registry maps kind names and aliases to kinds. Built-in kinds register
// themselves in the package-level registry from init(); tests may build their
// own with NewRegistry.
type Registry struct {
	mu      sync.RWMutex
	kinds   map[string]*Kind
	aliases map[string]string
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{kinds: map[string]*Kind{}, aliases: map[string]string{}}
}

var defaultRegistry = NewRegistry()

// DefaultRegistry is the registry that built-in kinds register in.
func DefaultRegistry() *Registry { return defaultRegistry }

// Register adds a kind to the default registry. It panics on a duplicate
// name or alias, as registering twice is a programming error.
func Register(k Kind) { defaultRegistry.Register(k) }

// Register adds a kind. It panics on a duplicate name or alias.
func (r *Registry) Register(k Kind) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if k.Name == "" || k.New == nil {
		panic("framework: Register needs a Name and a New factory")
	}
	for _, n := range append([]string{k.Name}, k.Aliases...) {
		if _, dup := r.kinds[n]; dup {
			panic(fmt.Sprintf("framework: kind %q registered twice", n))
		}
		if _, dup := r.aliases[n]; dup {
			panic(fmt.Sprintf("framework: kind alias %q registered twice", n))
		}
	}
	kc := k
	r.kinds[k.Name] = &kc
	for _, a := range k.Aliases {
		r.aliases[a] = k.Name
	}
}

// Resolve returns the kind a name or alias stands for.
func (r *Registry) Resolve(name string) (*Kind, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if k, ok := r.kinds[name]; ok {
		return k, true
	}
	if n, ok := r.aliases[name]; ok {
		return r.kinds[n], true
	}
	return nil, false
}

// Kinds returns every registered kind, sorted by name; kind: external is
// among them when framework/external is imported.
func (r *Registry) Kinds() []Kind {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Kind, 0, len(r.kinds))
	for _, k := range r.kinds {
		out = append(out, *k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
