package framework

import (
	"errors"
	"strings"
	"testing"
)

// A scalar keeps the type YAML gives it: quotes make a string, and a string
// is not a bool or a number, whatever it spells. On main a quoted "true"
// turned fail_on_plugin_error on and a quoted "10" was a priority.
func TestScalarsKeepTheirYAMLType(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"quoted bool", "plugin_settings:\n  fail_on_plugin_error: \"true\"\n",
			`policy.yaml:2:25: plugin_settings.fail_on_plugin_error: expected true or false, got the string "true" (quoted; write it without quotes)`},
		{"single-quoted int", "plugins:\n  - name: a\n    kind: probe\n    priority: '10'\n",
			`policy.yaml:4:15: plugins[0].priority: expected an integer, got the string "10" (quoted; write it without quotes)`},
		{"quoted int", "mcp:\n  max_body_bytes: \"1024\"\n", `mcp.max_body_bytes: expected an integer, got the string "1024"`},
		{"yes is a string", "plugin_settings:\n  fail_on_plugin_error: yes\n", `expected true or false, got "yes"`},
		{"float for an int", "mcp:\n  max_body_bytes: 1.5\n", `mcp.max_body_bytes: expected an integer, got "1.5"`},
		{"quoted reference is a string", "plugin_settings:\n  fail_on_plugin_error: \"${FAIL}\"\n", `expected true or false, got the string "${FAIL}"`},
		{"null", "mcp:\n  max_body_bytes: ~\n", `mcp.max_body_bytes: expected an integer, got null`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := parseYAML(t, tc.src, map[string]string{"FAIL": "true"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v\nwant %s", err, tc.want)
			}
		})
	}
	// What YAML types as a bool or a number is one, in every spelling YAML
	// 1.2 has; a plain ${VAR} takes the type of its value.
	cfg, _, err := parseYAML(t, "mcp:\n  max_body_bytes: 0x400\n  block_error_code: -32001\nplugin_settings:\n  fail_on_plugin_error: True\n  execution_pool: ${POOL}\n  context_max_entries: 1_000\n  max_payload_size: 0o2000\n", map[string]string{"POOL": "7"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MCP.MaxBodyBytes != 1024 || cfg.MCP.BlockErrorCode != -32001 || !cfg.PluginSettings.FailOnPluginError ||
		cfg.PluginSettings.ExecutionPool != 7 || cfg.PluginSettings.ContextMaxEntries != 1000 || cfg.PluginSettings.MaxPayloadSize != 1024 {
		t.Fatalf("decoded %+v %+v", cfg.MCP, cfg.PluginSettings)
	}
}

// A syntax error names its line as a position, found without reading
// yaml.v3's message.
func TestSyntaxErrorLine(t *testing.T) {
	tests := []struct {
		name, src string
		line      int
	}{
		{"tab indentation", "server:\n  listen: x\nmcp:\n\tpaths: []\n", 4},
		{"unclosed flow list", "server:\n  listen: x\nmcp:\n  paths: [/mcp\nplugins: []\n", 4},
		{"bad indentation", "plugins:\n  - name: a\n    kind: probe\n   mode: audit\n", 4},
		{"unclosed quote", "plugins:\n  - name: \"a\n", 2},
		{"stray colon", "mcp:\n  paths: []\n  batches: inspect: x\n", 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := parseYAML(t, tc.src, nil)
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Line != tc.line || !strings.HasPrefix(ce.Msg, "invalid YAML: ") {
				t.Fatalf("error %v (line %d), want invalid YAML at line %d", err, lineOf(ce), tc.line)
			}
			if strings.Contains(ce.Msg, "line ") {
				t.Errorf("the position is repeated in the message: %q", ce.Msg)
			}
		})
	}
}

func lineOf(ce *ConfigError) int {
	if ce == nil {
		return -1
	}
	return ce.Line
}

func TestSuggest(t *testing.T) {
	names := []string{"enforce", "enforce_ignore_error", "permissive", "audit", "tool_filter", "pii_filter"}
	for got, want := range map[string]string{
		"enforse":     ` (did you mean "enforce"?)`,
		"Enforce":     ` (did you mean "enforce"?)`,
		"permisive":   ` (did you mean "permissive"?)`,
		"tool_filtr":  ` (did you mean "tool_filter"?)`,
		"tool_fitler": ` (did you mean "tool_filter"?)`, // a swap is one edit
		"adit":        ` (did you mean "audit"?)`,
		"strict":      "",
		"x":           "",
		"":            "",
	} {
		if s := Suggest(got, names); s != want {
			t.Errorf("Suggest(%q) = %q, want %q", got, s, want)
		}
	}
}
