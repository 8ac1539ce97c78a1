package framework

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// yamlDecoder decodes a YAML node tree into Go values strictly: unknown keys,
// wrong types and bad enum values are errors that carry the file, line and
// path of the offending value. It keeps going after an error, so one pass
// reports every mistake in a file.
//
// Field names come from `yaml:"name"` tags; `alias:"a,b"` lists other names a
// field answers to (ContextForge spellings). Keys listed in tolerated are
// accepted with a warning.
type yamlDecoder struct {
	file      string
	errs      ConfigErrors
	warns     []Warning
	tolerated map[reflect.Type]map[string]string
	expand    func(string) (string, error)
	// at remembers where each decoded path was written, so that checks made
	// after decoding can still name a line.
	at map[string]*yaml.Node
	// Alias expansion is bounded: an alias may not contain itself, and the
	// whole file may not expand to more than maxNodes nodes ("billion laughs").
	expanding map[*yaml.Node]bool
	nodes     int
	bombed    bool
}

const maxNodes = 1 << 20

// enter resolves aliases with cycle and size checks; ok is false when the
// node must not be decoded (the error is recorded). leave must be called.
func (d *yamlDecoder) enter(n *yaml.Node, path string) (out *yaml.Node, ok bool, leave func()) {
	leave = func() {}
	d.nodes++
	if d.nodes > maxNodes {
		if !d.bombed {
			d.bombed = true
			d.errorf(n, path, "the file expands to more than %d values (aliases)", maxNodes)
		}
		return nil, false, leave
	}
	if n != nil && n.Kind == yaml.AliasNode {
		target := n.Alias
		if d.expanding[target] {
			d.errorf(n, path, "alias *%s refers to itself", n.Value)
			return nil, false, leave
		}
		if d.expanding == nil {
			d.expanding = map[*yaml.Node]bool{}
		}
		d.expanding[target] = true
		leave = func() { delete(d.expanding, target) }
	}
	return resolveAlias(n), true, leave
}

// nodeRecorder is implemented by types that want their own mapping node
// (for positions, or to keep a subtree for later strict decoding).
type nodeRecorder interface {
	recordNode(file string, n *yaml.Node)
}

var (
	scalarSetterType = reflect.TypeFor[scalarSetter]()
	nodeRecorderType = reflect.TypeFor[nodeRecorder]()
)

// nodeFor returns the node recorded for path or its nearest parent.
func (d *yamlDecoder) nodeFor(path string) *yaml.Node {
	for p := path; p != ""; {
		if n, ok := d.at[p]; ok {
			return n
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return nil
}

func (d *yamlDecoder) record(path string, n *yaml.Node) {
	if d.at == nil {
		d.at = map[string]*yaml.Node{}
	}
	d.at[path] = n
}

func (d *yamlDecoder) errorf(n *yaml.Node, path, format string, args ...any) {
	if n == nil {
		n = d.nodeFor(path)
	}
	e := &ConfigError{File: d.file, Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

func (d *yamlDecoder) warnf(n *yaml.Node, path, format string, args ...any) {
	if n == nil {
		n = d.nodeFor(path)
	}
	w := Warning{File: d.file, Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		w.Line = n.Line
	}
	d.warns = append(d.warns, w)
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return n.Content[0]
	}
	return n
}

func joinPath(base, key string) string {
	if base == "" {
		return key
	}
	return base + "." + key
}

// scalar returns a scalar node's value with environment references expanded.
func (d *yamlDecoder) scalar(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		return "", false
	}
	if d.expand == nil || !strings.Contains(n.Value, "$") {
		return n.Value, true
	}
	v, err := d.expand(n.Value)
	if err != nil {
		d.errorf(n, path, "%v", err)
		return "", false
	}
	return v, true
}

func (d *yamlDecoder) decode(n *yaml.Node, v reflect.Value, path string) {
	n, ok, leave := d.enter(n, path)
	defer leave()
	if !ok || n == nil {
		return
	}
	if v.CanAddr() && v.Addr().Type().Implements(scalarSetterType) {
		s := v.Addr().Interface().(scalarSetter)
		if isNull(n) {
			return
		}
		str, ok := d.scalar(n, path)
		if !ok {
			if n.Kind != yaml.ScalarNode {
				d.errorf(n, path, "expected %s, got %s", s.expected(), describe(n))
			}
			return
		}
		if err := s.setScalar(str); err != nil {
			hint := ""
			if e, ok := s.(enumerated); ok {
				hint = Suggest(str, e.values())
			}
			d.errorf(n, path, "%v%s; expected %s", err, hint, s.expected())
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if isNull(n) {
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.Interface:
		val, ok := d.generic(n, path)
		if ok && val != nil {
			v.Set(reflect.ValueOf(val))
		}
	case reflect.String:
		if isNull(n) {
			return
		}
		s, ok := d.scalar(n, path)
		if !ok {
			if n.Kind != yaml.ScalarNode {
				d.errorf(n, path, "expected a string, got %s", describe(n))
			}
			return
		}
		v.SetString(s)
	case reflect.Bool:
		s, tag, ok := d.typedScalar(n, path, "true or false")
		if !ok {
			return
		}
		b, err := strconv.ParseBool(strings.ToLower(s))
		if tag != "!!bool" || err != nil {
			d.errorf(n, path, "expected true or false, got %s", describeTyped(n, s, tag))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64, reflect.Int32:
		s, tag, ok := d.typedScalar(n, path, "an integer")
		if !ok {
			return
		}
		i, err := parseInt(s)
		if tag != "!!int" || err != nil || v.OverflowInt(i) {
			d.errorf(n, path, "expected an integer, got %s", describeTyped(n, s, tag))
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		s, tag, ok := d.typedScalar(n, path, "a number")
		if !ok {
			return
		}
		f, err := parseFloat(s)
		if tag != "!!float" && tag != "!!int" || err != nil {
			d.errorf(n, path, "expected a number, got %s", describeTyped(n, s, tag))
			return
		}
		v.SetFloat(f)
	default:
		d.errorf(n, path, "internal: cannot decode into %s", v.Type())
	}
}

// typedScalar returns a scalar's expanded value and its YAML type: the tag
// the parser resolved (a quoted "true" is a string, not a bool), or, for a
// plain scalar made of an environment reference, the type of the value it
// expanded to. A number or a bool must be written as one: "10" in quotes is a
// string. ok is false, with the error recorded, when there is no scalar.
func (d *yamlDecoder) typedScalar(n *yaml.Node, path, want string) (s, tag string, ok bool) {
	if isNull(n) || n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "expected %s, got %s", want, describe(n))
		return "", "", false
	}
	expanded := d.expand != nil && strings.Contains(n.Value, "$")
	s, ok = d.scalar(n, path)
	if !ok {
		return "", "", false
	}
	tag = n.Tag
	if expanded && n.Style == 0 {
		tag = resolveTag(s)
	}
	return s, tag, true
}

// describeTyped describes a scalar that has the wrong YAML type, saying
// so when quotes made a number or a bool a string.
func describeTyped(n *yaml.Node, value, tag string) string {
	if tag == "!!str" && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 && resolveTag(value) != "!!str" {
		return fmt.Sprintf("the string %q (quoted; write it without quotes)", n.Value)
	}
	return describe(n)
}

func parseFloat(s string) (float64, error) {
	switch strings.ToLower(s) {
	case ".inf", "+.inf":
		return math.Inf(1), nil
	case "-.inf":
		return math.Inf(-1), nil
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err == nil && math.IsNaN(f) {
		// No setting means anything with NaN, and it passes every range check.
		return 0, fmt.Errorf("not a number")
	}
	return f, err
}

func parseInt(s string) (int64, error) {
	s = strings.ReplaceAll(s, "_", "")
	for prefix, base := range map[string]int{"0x": 16, "0o": 8, "0b": 2} {
		if rest, ok := strings.CutPrefix(strings.ToLower(s), prefix); ok {
			return strconv.ParseInt(rest, base, 64)
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

type fieldInfo struct {
	index int
	name  string
}

func structFields(t reflect.Type) (map[string]fieldInfo, []string) {
	fields := map[string]fieldInfo{}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "-" || !f.IsExported() || tag == "" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		fields[name] = fieldInfo{i, name}
		names = append(names, name)
		if a := f.Tag.Get("alias"); a != "" {
			for _, alias := range strings.Split(a, ",") {
				fields[alias] = fieldInfo{i, name}
			}
		}
	}
	return fields, names
}

func (d *yamlDecoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a mapping, got %s", describe(n))
		return
	}
	if v.CanAddr() && v.Addr().Type().Implements(nodeRecorderType) {
		v.Addr().Interface().(nodeRecorder).recordNode(d.file, n)
	}
	fields, names := structFields(v.Type())
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := resolveAlias(n.Content[i]), n.Content[i+1]
		key := kn.Value
		kpath := joinPath(path, key)
		if kn.Kind != yaml.ScalarNode {
			d.errorf(kn, path, "expected a string key, got %s", describe(kn))
			continue
		}
		fi, ok := fields[key]
		if !ok {
			if note, ok := d.tolerated[v.Type()][key]; ok {
				d.warnf(kn, kpath, "ContextForge key ignored: %s", note)
				continue
			}
			d.errorf(kn, kpath, "unknown key %q%s; expected one of: %s", key, Suggest(key, names), strings.Join(names, ", "))
			continue
		}
		if seen[fi.name] {
			d.errorf(kn, kpath, "%q is set more than once", fi.name)
			continue
		}
		seen[fi.name] = true
		d.record(joinPath(path, fi.name), kn)
		d.decode(vn, v.Field(fi.index), joinPath(path, fi.name))
	}
}

// elementTolerator lets a list element type skip values with a warning
// (a ContextForge hook name that we do not run, for instance).
type elementTolerator interface {
	tolerate(s string) (note string, ok bool)
}

var elementToleratorType = reflect.TypeFor[elementTolerator]()

func (d *yamlDecoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		v.Set(reflect.Zero(v.Type()))
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "expected a list, got %s", describe(n))
		return
	}
	et := v.Type().Elem()
	out := reflect.MakeSlice(v.Type(), 0, len(n.Content))
	tol := reflect.PointerTo(et).Implements(elementToleratorType)
	for i, en := range n.Content {
		epath := fmt.Sprintf("%s[%d]", path, i)
		if tol {
			if s, ok := d.scalar(resolveAlias(en), epath); ok {
				if note, skip := reflect.New(et).Interface().(elementTolerator).tolerate(s); skip {
					d.warnf(en, epath, "%s", note)
					continue
				}
			}
		}
		d.record(epath, en)
		ev := reflect.New(et).Elem()
		if init, ok := reflect.New(et).Interface().(interface{ defaults() reflect.Value }); ok {
			ev.Set(init.defaults())
		}
		d.decode(en, ev, epath)
		out = reflect.Append(out, ev)
	}
	v.Set(out)
}

func (d *yamlDecoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a mapping, got %s", describe(n))
		return
	}
	if v.Type().Key().Kind() != reflect.String {
		d.errorf(n, path, "internal: map key must be a string")
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := resolveAlias(n.Content[i]), n.Content[i+1]
		kpath := joinPath(path, kn.Value)
		if kn.Kind != yaml.ScalarNode {
			d.errorf(kn, path, "expected a string key, got %s", describe(kn))
			continue
		}
		key := reflect.ValueOf(kn.Value).Convert(v.Type().Key())
		if m.MapIndex(key).IsValid() {
			d.errorf(kn, kpath, "%q is set more than once", kn.Value)
			continue
		}
		ev := reflect.New(v.Type().Elem()).Elem()
		d.decode(vn, ev, kpath)
		m.SetMapIndex(key, ev)
	}
	v.Set(m)
}

// generic converts a node to plain Go values (map[string]any, []any, string,
// int, float64, bool, nil), expanding environment references in scalars.
func (d *yamlDecoder) generic(n *yaml.Node, path string) (any, bool) {
	n, ok, leave := d.enter(n, path)
	defer leave()
	if !ok || n == nil {
		return nil, false
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		ok := true
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn := resolveAlias(n.Content[i])
			if kn.Kind != yaml.ScalarNode {
				d.errorf(kn, path, "expected a string key, got %s", describe(kn))
				ok = false
				continue
			}
			kpath := joinPath(path, kn.Value)
			if _, dup := m[kn.Value]; dup {
				d.errorf(kn, kpath, "%q is set more than once", kn.Value)
				ok = false
				continue
			}
			val, vok := d.generic(n.Content[i+1], kpath)
			ok = ok && vok
			m[kn.Value] = val
		}
		return m, ok
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		ok := true
		for i, en := range n.Content {
			val, vok := d.generic(en, fmt.Sprintf("%s[%d]", path, i))
			ok = ok && vok
			s = append(s, val)
		}
		return s, ok
	case yaml.ScalarNode:
		expanded := strings.Contains(n.Value, "$") && d.expand != nil
		s, ok := d.scalar(n, path)
		if !ok {
			return nil, false
		}
		tag := n.Tag
		if expanded && n.Style == 0 {
			tag = resolveTag(s) // a plain ${VAR} takes the type of its value
		}
		return scalarValue(tag, s), true
	}
	return nil, true
}

// resolveTag applies YAML 1.2 core-schema resolution to a plain scalar.
func resolveTag(s string) string {
	switch strings.ToLower(s) {
	case "", "~", "null":
		return "!!null"
	case "true", "false":
		return "!!bool"
	}
	if _, err := parseInt(s); err == nil {
		return "!!int"
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return "!!float"
	}
	return "!!str"
}

func scalarValue(tag, s string) any {
	switch tag {
	case "!!null":
		return nil
	case "!!bool":
		b, _ := strconv.ParseBool(strings.ToLower(s))
		return b
	case "!!int":
		if i, err := parseInt(s); err == nil {
			if i >= math.MinInt && i <= math.MaxInt {
				return int(i)
			}
		}
		return s
	case "!!float":
		if f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64); err == nil {
			return f
		}
		switch strings.ToLower(s) {
		case ".inf", "+.inf":
			return math.Inf(1)
		case "-.inf":
			return math.Inf(-1)
		case ".nan":
			return math.NaN()
		}
		return s
	}
	return s
}
