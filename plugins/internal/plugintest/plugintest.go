// Package plugintest helps test and benchmark the built-in plugin kinds: it
// builds a plugin from a policy as the server does, and builds the payloads
// of benchmarks. It is a normal package, for the plugins' tests only; its
// functions take testing.TB so that tests and benchmarks share them.
//
// It does not run plugins through the server: extproc/extproctest does.
package plugintest

import (
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// Instantiate builds the first plugin of policy (YAML) through the default
// registry, as the server does. The error is the parser's or the kind's.
func Instantiate(policy string) (framework.Plugin, error) {
	cfg, _, err := framework.Parse([]byte(policy), "policy.yaml", framework.LoadOptions{})
	if err != nil {
		return nil, err
	}
	return framework.Instantiate(&cfg.Plugins[0], nil)
}

// Load is Instantiate for a policy that must load: it ends the test on an
// error.
func Load(tb testing.TB, policy string) framework.Plugin {
	tb.Helper()
	pl, err := Instantiate(policy)
	if err != nil {
		tb.Fatalf("load: %v", err)
	}
	return pl
}

// Policy is a policy of one plugin, name of kind, whose config is written
// on the line of "config:", in YAML flow style: {words: [a, b]}.
func Policy(name, kind, config string) string {
	return "plugins:\n  - name: " + name + "\n    kind: " + kind + "\n    config: " + config + "\n"
}

// BlockPolicy is Policy with config in YAML block style, one key a line
// ("action: redact\nmin_findings_to_block: 2"); a blank config is {}.
func BlockPolicy(name, kind, config string) string {
	return "plugins:\n  - name: " + name + "\n    kind: " + kind + "\n    config:\n" + indent(config, "      ")
}

func indent(s, pre string) string {
	if strings.TrimSpace(s) == "" {
		return pre + "{}\n"
	}
	var b strings.Builder
	for l := range strings.Lines(s) {
		b.WriteString(pre + l)
	}
	return b.String() + "\n"
}

// KindDefaults returns the defaults the kind documents (`extproc
// plugins`), by config key.
func KindDefaults(tb testing.TB, kind string) map[string]string {
	tb.Helper()
	k, ok := framework.DefaultRegistry().Resolve(kind)
	if !ok {
		tb.Fatalf("kind %q is not registered", kind)
	}
	got := map[string]string{}
	for _, c := range k.ConfigKeys() {
		got[c.Name] = c.Default
	}
	return got
}
