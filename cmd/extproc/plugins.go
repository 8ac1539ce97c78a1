package main

import (
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// cmdPlugins lists the built-in kinds: what each is for, its hooks, its
// config keys with their types and defaults (an object's keys under it, as
// dotted names), and the names it also answers to.
func cmdPlugins(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("plugins", stderr)
	setUsage(fs, "plugins", "List the built-in plugin kinds: what each does, its hooks, the names it also answers to,\n"+
		"and its config keys with their types and defaults (each kind's README is its reference).")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	kinds := slices.DeleteFunc(framework.DefaultRegistry().Kinds(), func(k framework.Kind) bool { return k.Name == framework.KindExternal })
	fmt.Fprintf(stdout, "%d built-in plugin kinds (and kind: external, for plugins served over MCP)\n", len(kinds))
	for _, k := range kinds {
		fmt.Fprintf(stdout, "\n%s — %s\n", k.Name, k.Description)
		hs := make([]string, len(k.Hooks))
		for i, h := range k.Hooks {
			hs[i] = string(h)
		}
		fmt.Fprintf(stdout, "  hooks:   %s\n", strings.Join(hs, ", "))
		if len(k.Aliases) > 0 {
			fmt.Fprintf(stdout, "  aliases: %s\n", strings.Join(k.Aliases, ", "))
		}
		if keys := k.ConfigKeys(); len(keys) > 0 {
			fmt.Fprintln(stdout, "  config:")
			tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "    KEY\tTYPE\tDEFAULT")
			writeKeys(tw, "", keys)
			_ = tw.Flush()
		}
	}
	return nil
}

func writeKeys(w io.Writer, prefix string, keys []framework.ConfigKey) {
	for _, c := range keys {
		if len(c.Keys) > 0 {
			writeKeys(w, prefix+c.Name+".", c.Keys)
			continue
		}
		fmt.Fprintf(w, "    %s%s\t%s\t%s\n", prefix, c.Name, c.Type, defaultText(reflect.ValueOf(c.Value)))
	}
}

// defaultText writes a default the way a policy file would: strings bare
// unless YAML needs quotes ("" for empty), lists in [], maps in {}, an
// unset optional value as "unset".
func defaultText(v reflect.Value) string {
	if !v.IsValid() {
		return "unset"
	}
	if s, ok := v.Interface().(fmt.Stringer); ok && v.Kind() != reflect.Pointer {
		return s.String()
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return "unset"
		}
		return defaultText(v.Elem())
	case reflect.String:
		return yamlString(v.String())
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case reflect.Slice, reflect.Array:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = defaultText(v.Index(i))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case reflect.Map:
		keys := v.MapKeys()
		names := make(map[string]reflect.Value, len(keys))
		for _, k := range keys {
			names[fmt.Sprint(k.Interface())] = k
		}
		var parts []string
		for _, n := range slices.Sorted(maps.Keys(names)) {
			parts = append(parts, yamlString(n)+": "+defaultText(v.MapIndex(names[n])))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case reflect.Struct:
		return "{…}"
	}
	return fmt.Sprint(v.Interface())
}

// yamlString quotes s when YAML would read it as something else (empty,
// a flow collection, a comment, a bool or a number).
func yamlString(s string) string {
	if s == "" || strings.ContainsAny(s, "[]{},:#&*!|>'\"%@`") || strings.TrimSpace(s) != s {
		return strconv.Quote(s)
	}
	switch strings.ToLower(s) {
	case "true", "false", "null", "~", "yes", "no", "on", "off":
		return strconv.Quote(s)
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return strconv.Quote(s)
	}
	return s
}
