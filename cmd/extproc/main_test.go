package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidateOK(t *testing.T) {
	p := writeFile(t, "plugins:\n  - name: ext\n    kind: external\n    hooks: [tool_pre_invoke, tool_post_invoke]\n    mcp: {proto: STREAMABLEHTTP, url: \"http://127.0.0.1:8000/mcp\"}\n  - name: off\n    kind: whatever\n    mode: disabled\n")
	code, out, errs := runCLI(t, "validate", "--config", p)
	if code != 0 || out != "ok: 1 plugin, 2 hooks ("+p+")\n" {
		t.Fatalf("exit %d, out %q, err %q", code, out, errs)
	}
	if !strings.Contains(errs, `warning: `+p+`:7: plugins[1].kind: unknown kind "whatever"`) {
		t.Fatalf("warnings: %q", errs)
	}
}

func TestValidateListsEveryError(t *testing.T) {
	p := writeFile(t, "server:\n  listen: \"\"\n  bogus: 1\nplugins:\n  - name: a\n    kind: nope\n  - name: a\n    kind: external\n    mode: strict\n")
	code, out, errs := runCLI(t, "validate", "--config", p)
	if code != 1 || out != "" {
		t.Fatalf("exit %d out %q", code, out)
	}
	for _, want := range []string{
		"error: " + p + ":3:3: server.bogus: unknown key",
		"error: " + p + ":2:3: server.listen: must not be empty",
		"error: " + p + ":6:5: plugins[0].kind: unknown kind \"nope\"",
		"error: " + p + ":7:5: plugins[1].name: \"a\" is already used by plugins[0]",
		"error: " + p + ":9:11: plugins[1].mode: unknown mode \"strict\"",
		"error: " + p + ":7:5: plugins[1].mcp: is required with kind: external",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}

// validate reports what would leave a plugin unavailable at run time: a
// kind this build does not have (an error even though the server would
// start), a STDIO command or script that does not exist. On today's main the
// missing command passed validation ("ok") and the server started with the
// plugin left out.
func TestValidateReportsPluginsThatWouldNotRun(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, `plugins:
  - name: llmguard
    kind: llmguardplugin.plugin.LLMGuardPlugin
  - name: grpc-plugin
    kind: external
    grpc: {target: "127.0.0.1:50052"}
`)
	code, out, errs := runCLI(t, "validate", "--config", p)
	if code != 1 || out != "" {
		t.Fatalf("exit %d out %q err %q", code, out, errs)
	}
	for _, want := range []string{
		"error: " + p + `:3:5: plugins[0].kind: unknown kind "llmguardplugin.plugin.LLMGuardPlugin"`,
		"error: " + p + `:4:5: plugins[1].grpc: transport grpc is not supported`,
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	p = writeFile(t, `plugins:
  - name: missing-cmd
    kind: external
    mcp: {proto: STDIO, cmd: [/nonexistent/bin/plugin-server]}
  - name: missing-script
    kind: external
    mcp: {proto: STDIO, script: server.py, cwd: `+dir+`}
  - name: present
    kind: external
    mcp: {proto: STDIO, cmd: [sh, -c, "exit 0"]}
`)
	code, out, errs = runCLI(t, "validate", "--config", p)
	if code != 1 || out != "" {
		t.Fatalf("exit %d out %q err %q", code, out, errs)
	}
	for _, want := range []string{
		"error: " + p + `:2: plugins[0] "missing-cmd": mcp.cmd: exec: "/nonexistent/bin/plugin-server": stat /nonexistent/bin/plugin-server: no such file or directory`,
		"error: " + p + `:5: plugins[1] "missing-script": mcp.script: stat ` + filepath.Join(dir, "server.py") + `: no such file or directory`,
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if strings.Contains(errs, "present") {
		t.Errorf("a command on PATH is not an error:\n%s", errs)
	}
}

func TestValidateUsage(t *testing.T) {
	if code, _, _ := runCLI(t, "validate"); code != 2 {
		t.Fatalf("validate without --config: exit %d, want 2", code)
	}
	if code, _, errs := runCLI(t, "validate", "--config", "/no/such/file.yaml"); code != 1 || !strings.Contains(errs, "no such file") {
		t.Fatalf("missing file: exit %d %q", code, errs)
	}
	if code, _, _ := runCLI(t, "frobnicate"); code != 2 {
		t.Fatal("unknown command must exit 2")
	}
}

func TestEmbeddedDefaultPolicyValidates(t *testing.T) {
	var logs bytes.Buffer
	cfg, path, err := loadPolicy("", slog.New(slog.NewTextHandler(&logs, nil)), &logs)
	if err != nil || logs.Len() != 0 || path != "" || !strings.Contains(cfg.Source, "embedded default policy") {
		t.Fatalf("embedded default: %v %q %q", err, logs.String(), path)
	}
	t.Setenv("EXTPROC_CONFIG", writeFile(t, "mcp:\n  paths: [/x]\n"))
	cfg, path, err = loadPolicy("", slog.New(slog.NewTextHandler(&logs, nil)), &logs)
	if err != nil || path == "" || cfg.MCP.Paths[0] != "/x" {
		t.Fatalf("EXTPROC_CONFIG not honoured: %v %q", err, path)
	}
}

func TestPluginsAndVersion(t *testing.T) {
	code, out, _ := runCLI(t, "plugins")
	if code != 0 || !strings.Contains(out, "built-in plugin kinds") {
		t.Fatalf("plugins: %d %q", code, out)
	}
	code, out, _ = runCLI(t, "version")
	if code != 0 || !strings.HasPrefix(out, "extproc dev\n") || !strings.Contains(out, "go1.") {
		t.Fatalf("version: %d %q", code, out)
	}
}

// serve, dev and plugin-server refuse a broken policy the way validate does:
// exit 1, every error with its file:line.
func TestCommandsRefuseBrokenPolicy(t *testing.T) {
	// An unknown kind is an error only with fail_on_plugin_error (without
	// it the server starts and the plugin's hooks fail closed).
	p := writeFile(t, "plugin_settings:\n  fail_on_plugin_error: true\nplugins:\n  - name: a\n    kind: nope\n")
	for _, args := range [][]string{
		{"serve", "--config", p},
		{"dev", "--upstream", "http://127.0.0.1:1", "--config", p},
		{"plugin-server", "--config", p, "--stdio"},
	} {
		code, _, errs := runCLI(t, args...)
		if code != 1 || !strings.Contains(errs, "error: "+p+`:5:5: plugins[0].kind: unknown kind "nope"`) {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
	}
}
