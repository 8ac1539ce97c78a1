package framework

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func parseYAML(t *testing.T, src string, env map[string]string) (*Config, []Warning, error) {
	t.Helper()
	return Parse([]byte(src), "policy.yaml", LoadOptions{
		Registry:  testRegistry(),
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
}

func TestLoadDefaults(t *testing.T) {
	cfg, warns, err := parseYAML(t, "", nil)
	if err != nil || len(warns) != 0 {
		t.Fatalf("empty file: err=%v warns=%v", err, warns)
	}
	want := DefaultConfig()
	if cfg.Server.Listen != "0.0.0.0:50051" || cfg.Server.MetricsListen != "0.0.0.0:9090" ||
		cfg.Server.MaxMessageBytes != 16777216 || cfg.MCP.MaxBodyBytes != 4194304 ||
		cfg.MCP.OnParseError != OnParseErrorReject || cfg.MCP.Batches != BatchesInspect ||
		cfg.MCP.BlockResponse != BlockJSONRPCError || cfg.MCP.BlockErrorCode != -32000 ||
		cfg.MCP.Identity.RequestIDHeader != "x-request-id" || cfg.MCP.Identity.UserClaim != "sub" ||
		cfg.PluginSettings != want.PluginSettings || cfg.PluginSettings.PluginTimeout.Std() != 5*time.Second {
		t.Fatalf("defaults not applied: %+v", cfg)
	}
}

func TestLoadFullConfig(t *testing.T) {
	src := `
server:
  listen: "unix:///run/extproc.sock"
  metrics_listen: ""
  max_message_bytes: 1048576
  shutdown_grace: 3
mcp:
  paths: [/mcp]
  on_parse_error: allow
  batches: reject
  block_response: tool_error
  block_error_code: -32001
  identity: {user_header: X-User-Id, claims_header: x-jwt-payload, tenant_claim: org}
  forward_headers: [X-Trace]
plugin_settings:
  plugin_timeout: 1.5
  execution_pool: 4
plugins:
  - name: a
    kind: probe
    mode: concurrent
    on_error: disable
    priority: 7
    timeout: 250ms
    hooks: [tool_pre_invoke]
    conditions:
      - tools: [get_*]
        tenant_ids: [acme]
        user_patterns: ["@acme.com"]
    config: {action: modify, sleep: 1ms}
`
	cfg, warns, err := parseYAML(t, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 0 {
		t.Fatalf("unexpected warnings %v", warns)
	}
	p := cfg.Plugins[0]
	if cfg.Server.Listen != "unix:///run/extproc.sock" || cfg.Server.MetricsListen != "" ||
		cfg.Server.ShutdownGrace.Std() != 3*time.Second || cfg.MCP.OnParseError != OnParseErrorAllow ||
		cfg.MCP.Batches != BatchesReject || cfg.MCP.BlockResponse != BlockToolError || cfg.MCP.BlockErrorCode != -32001 ||
		cfg.MCP.Identity.UserHeader != "x-user-id" || cfg.MCP.ForwardHeaders[0] != "x-trace" ||
		cfg.PluginSettings.PluginTimeout.Std() != 1500*time.Millisecond || cfg.PluginSettings.ExecutionPool != 4 {
		t.Fatalf("settings not read: %+v", cfg)
	}
	if p.Mode != ModeConcurrent || p.OnError != OnErrorDisable || p.Priority != 7 || p.Timeout.Std() != 250*time.Millisecond ||
		p.Hooks[0] != ToolPreInvoke || p.Conditions[0].Tools[0] != "get_*" || p.ResolvedKind != "probe" || p.Pos() != "policy.yaml:19" {
		t.Fatalf("plugin not read: %+v", p)
	}
	var pc probeConfig
	if err := p.DecodeConfig(&pc); err != nil || pc.Action != "modify" || pc.Sleep.Std() != time.Millisecond {
		t.Fatalf("DecodeConfig: %+v %v", pc, err)
	}
}

func TestLoadPluginDefaults(t *testing.T) {
	cfg, _, err := parseYAML(t, "plugins:\n  - name: a\n    kind: probe\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Plugins[0]
	if p.Mode != ModeEnforce || p.OnError != OnErrorFail || p.Priority != 100 || p.EffectiveTimeout(cfg.PluginSettings) != 5*time.Second {
		t.Fatalf("plugin defaults: %+v", p)
	}
}

// Every config mistake is reported with file:line:column, the path and what
// was expected — and all of them in one pass.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"unknown top-level key", "servr:\n  listen: x\n",
			[]string{`policy.yaml:1:1: servr: unknown key "servr" (did you mean "server"?); expected one of: server, mcp, plugin_settings, plugin_dirs, plugins`}},
		{"unknown nested key", "mcp:\n  max_body: 10\n",
			[]string{`policy.yaml:2:3: mcp.max_body: unknown key "max_body"; expected one of: paths, max_body_bytes,`}},
		{"unknown plugin key", "plugins:\n  - name: a\n    kind: probe\n    modes: enforce\n",
			[]string{`policy.yaml:4:5: plugins[0].modes: unknown key "modes"`}},
		{"bad enum", "plugins:\n  - name: a\n    kind: probe\n  - name: b\n    kind: probe\n  - name: c\n    kind: probe\n    mode: enforcing\n",
			[]string{`policy.yaml:8:11: plugins[2].mode: unknown mode "enforcing" (did you mean "enforce"?); expected one of enforce (sequential), enforce_ignore_error, permissive (transform), audit, concurrent, fire_and_forget, disabled`}},
		{"bad on_error", "plugins:\n  - {name: a, kind: probe, on_error: explode}\n",
			[]string{`plugins[0].on_error: unknown value "explode"; expected one of fail, ignore, disable`}},
		{"bad mcp enum", "mcp:\n  on_parse_error: maybe\n", []string{`policy.yaml:2:19: mcp.on_parse_error: unknown value "maybe"; expected one of reject, allow`}},
		{"bad type int", "plugins:\n  - name: a\n    kind: probe\n    priority: high\n",
			[]string{`policy.yaml:4:15: plugins[0].priority: expected an integer, got "high"`}},
		{"bad type list", "mcp:\n  paths: /mcp\n", []string{`policy.yaml:2:10: mcp.paths: expected a list, got "/mcp"`}},
		{"bad type mapping", "server: [1]\n", []string{`policy.yaml:1:9: server: expected a mapping, got a list`}},
		{"bad type bool", "plugin_settings:\n  fail_on_plugin_error: sometimes\n", []string{`plugin_settings.fail_on_plugin_error: expected true or false, got "sometimes"`}},
		{"bad duration", "plugin_settings:\n  plugin_timeout: soon\n", []string{`plugin_settings.plugin_timeout: invalid duration "soon"; expected a duration such as "5s" or a number of seconds`}},
		{"duplicate name", "plugins:\n  - name: a\n    kind: probe\n  - name: a\n    kind: probe\n",
			[]string{`policy.yaml:4:5: plugins[1].name: "a" is already used by plugins[0]; plugin names must be unique`}},
		{"missing name and kind", "plugins:\n  - mode: enforce\n", []string{`plugins[0].name: is required`, `plugins[0].kind: is required`}},
		{"unknown kind, fail_on_plugin_error", "plugin_settings:\n  fail_on_plugin_error: true\nplugins:\n  - name: a\n    kind: nope\n", []string{`policy.yaml:5:5: plugins[0].kind: unknown kind "nope"; see ` + "`extproc plugins`"}},
		{"grpc, fail_on_plugin_error", "plugin_settings:\n  fail_on_plugin_error: true\nplugins:\n  - name: a\n    kind: external\n    grpc: {target: 'h:1'}\n", []string{`plugins[0].grpc: transport grpc is not supported`}},
		{"external without mcp", "plugins:\n  - name: ext\n    kind: external\n", []string{`policy.yaml:2:5: plugins[0].mcp: is required with kind: external`}},
		{"external with config", "plugins:\n  - name: ext\n    kind: external\n    config: {a: 1}\n    mcp: {proto: STDIO, script: p.py}\n",
			[]string{`plugins[0].config: is not allowed with kind: external`}},
		{"external bad proto", "plugins:\n  - name: ext\n    kind: external\n    mcp: {proto: GRPC}\n", []string{`plugins[0].mcp.proto: unknown value "GRPC"; expected one of STDIO, STREAMABLEHTTP, SSE`}},
		{"external http without url", "plugins:\n  - name: ext\n    kind: external\n    mcp: {proto: STREAMABLEHTTP}\n", []string{`plugins[0].mcp.url: STREAMABLEHTTP needs an http:// or https:// url, got ""`}},
		{"external stdio without cmd", "plugins:\n  - name: ext\n    kind: external\n    mcp: {proto: STDIO}\n", []string{`plugins[0].mcp: STDIO needs exactly one of script or cmd`}},
		{"mcp on builtin", "plugins:\n  - name: a\n    kind: probe\n    mcp: {proto: STDIO, script: x}\n", []string{`plugins[0].mcp: is only for kind: external`}},
		{"duplicate key", "mcp:\n  batches: inspect\n  batches: reject\n", []string{`policy.yaml:3:3: mcp.batches: "batches" is set more than once`}},
		{"unset env", "server:\n  listen: ${LISTEN_ADDR}\n", []string{`server.listen: environment variable LISTEN_ADDR is not set (write ${LISTEN_ADDR:-default} to allow that)`}},
		{"self-referencing alias", "plugins:\n  - name: a\n    kind: probe\n    config: &c {x: *c}\n",
			[]string{`policy.yaml:4:20: plugins[0].config.x.x: alias *c refers to itself`}},
		{"alias bomb", "plugin_dirs: [&a [x, x, x, x, x, x, x, x, x, x], &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a], &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b], &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c], &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d], &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e], &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]]\nplugins:\n  - name: a\n    kind: probe\n    config: {x: *g}\n",
			[]string{`the file expands to more than 1048576 values (aliases)`}},
		{"syntax", "server:\n  listen: [\n", []string{`policy.yaml:2: invalid YAML: did not find expected node content`}},
		{"bad path and limits", "mcp:\n  paths: [mcp]\n  max_body_bytes: 0\nplugin_settings:\n  execution_pool: 0\n",
			[]string{`policy.yaml:2:11: mcp.paths[0]: "mcp" must start with /`, `policy.yaml:3:3: mcp.max_body_bytes: must be positive`, `policy.yaml:5:3: plugin_settings.execution_pool: must be at least 1`}},
		{"several errors at once", "server:\n  listen: 1\n  bogus: 2\nplugins:\n  - name: a\n    kind: probe\n    mode: x\n    priority: y\n",
			[]string{`server.bogus: unknown key`, `plugins[0].mode: unknown mode "x"`, `plugins[0].priority: expected an integer`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := parseYAML(t, tc.src, nil)
			if err == nil {
				t.Fatal("loaded; want an error")
			}
			var ces ConfigErrors
			if !errors.As(err, &ces) {
				t.Fatalf("error is %T, want ConfigErrors", err)
			}
			msg := err.Error()
			for _, e := range ces {
				if e.Line == 0 {
					t.Errorf("error without a line: %v", e)
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error\n%s\ndoes not contain\n%s", msg, w)
				}
			}
			if len(ces) < len(tc.want) {
				t.Errorf("got %d errors, want at least %d:\n%s", len(ces), len(tc.want), msg)
			}
		})
	}
}

// A kind's own settings are decoded strictly, with positions, by the factory.
func TestKindConfigErrors(t *testing.T) {
	cfg, _, err := parseYAML(t, "plugins:\n  - name: a\n    kind: probe\n    config:\n      action: modify\n      slep: 1s\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Instantiate(&cfg.Plugins[0], testRegistry())
	if err == nil || !strings.Contains(err.Error(), `policy.yaml:6:7: plugins[0].config.slep: unknown key "slep" (did you mean "sleep"?); expected one of: action, sleep, barrier, code`) {
		t.Fatalf("got %v", err)
	}
}

func TestEnvExpansion(t *testing.T) {
	env := map[string]string{"PORT": "6000", "EMPTY": "", "TIMEOUT": "2s", "MODE": "audit", "LIMIT": "42"}
	src := `
server:
  listen: "127.0.0.1:${PORT}"
  metrics_listen: "${METRICS:-127.0.0.1:9191}"
plugin_settings:
  plugin_timeout: ${TIMEOUT}
  max_payload_size: ${LIMIT}
plugins:
  - name: "p-${EMPTY:-dflt}"
    kind: probe
    mode: ${MODE}
    config: {action: "cost $$5 ^a$", code: "${LIMIT}"}
`
	cfg, _, err := parseYAML(t, src, env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Listen != "127.0.0.1:6000" || cfg.Server.MetricsListen != "127.0.0.1:9191" ||
		cfg.PluginSettings.PluginTimeout.Std() != 2*time.Second || cfg.PluginSettings.MaxPayloadSize != 42 ||
		cfg.Plugins[0].Name != "p-dflt" || cfg.Plugins[0].Mode != ModeAudit {
		t.Fatalf("not expanded: %+v", cfg)
	}
	if got := cfg.Plugins[0].Config["action"]; got != "cost $5 ^a$" {
		t.Fatalf("config action = %q", got)
	}
	if got := cfg.Plugins[0].Config["code"]; got != "42" {
		t.Fatalf("quoted ${LIMIT} stays a string, got %#v", got)
	}
}

func TestExpandEnvRules(t *testing.T) {
	lookup := func(k string) (string, bool) {
		v, ok := map[string]string{"A": "x", "E": ""}[k]
		return v, ok
	}
	tests := []struct{ in, want, err string }{
		{"plain", "plain", ""},
		{"${A}", "x", ""},
		{"${A:-d}", "x", ""},
		{"${B:-d}", "d", ""},
		{"${E:-d}", "d", ""},
		{"${E}", "", ""},
		{"a$b$", "a$b$", ""},
		{"$${A}", "${A}", ""},
		{"${B}", "", "environment variable B is not set"},
		{"${A", "", "unterminated"},
		{"${1A}", "", "invalid environment reference"},
	}
	for _, tc := range tests {
		got, err := expandEnv(tc.in, lookup)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// A ContextForge plugins/config.yaml loads: class-path kinds resolve through
// aliases, ContextForge mode names map to ours, and keys we do not use are
// warnings.
func TestLoadContextForgeConfig(t *testing.T) {
	cfg, warns, err := Load("testdata/contextforge.yaml", LoadOptions{Registry: testRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name, kind string
		mode       Mode
	}{
		{"PIIFilterPlugin", "pii_filter", ModePermissive},
		{"ReplaceBadWordsPlugin", "regex_filter", ModeEnforce},
		{"DenyListPlugin", "deny_list", ModeEnforce},
		{"SpanAttributeCustomizer", "", ModeDisabled},
		{"ExternalModeration", "external", ModePermissive},
	}
	if len(cfg.Plugins) != len(want) {
		t.Fatalf("%d plugins", len(cfg.Plugins))
	}
	for i, w := range want {
		p := cfg.Plugins[i]
		if p.Name != w.name || p.ResolvedKind != w.kind || p.Mode != w.mode {
			t.Errorf("plugins[%d] = %s/%s/%s, want %+v", i, p.Name, p.ResolvedKind, p.Mode, w)
		}
	}
	if cfg.PluginSettings.PluginTimeout.Std() != 30*time.Second {
		t.Errorf("plugin_timeout = %v", cfg.PluginSettings.PluginTimeout)
	}
	if len(cfg.Plugins[1].Hooks) != 4 {
		t.Errorf("tool_post_list should be dropped: %v", cfg.Plugins[1].Hooks)
	}
	var all []string
	for _, w := range warns {
		all = append(all, w.String())
	}
	joined := strings.Join(all, "\n")
	for _, w := range []string{
		"testdata/contextforge.yaml:3: plugin_dirs: ignored",
		"testdata/contextforge.yaml:8: plugin_settings.parallel_execution_within_band: ContextForge key ignored: use mode: concurrent",
		"plugin_settings.enable_plugin_api: ContextForge key ignored",
		`plugins[1].hooks[4]: ContextForge hook "tool_post_list" is not run by mcp-extproc; ignored`,
		"plugins[1].conditions[0].agents: ContextForge key ignored",
		"plugins[2].namespace: ContextForge key ignored",
		`plugins[3].kind: unknown kind "plugins.span_attribute_customizer.span_attribute_customizer.SpanAttributeCustomizerPlugin" (plugin is disabled, so this is not an error)`,
		`plugins[2].hooks[0]: kind deny_list`, // implements prompt_pre_fetch: must NOT warn
	} {
		has := strings.Contains(joined, w)
		if w == `plugins[2].hooks[0]: kind deny_list` {
			if has {
				t.Errorf("unexpected warning %q", w)
			}
			continue
		}
		if !has {
			t.Errorf("warnings\n%s\nlack %q", joined, w)
		}
	}
}
