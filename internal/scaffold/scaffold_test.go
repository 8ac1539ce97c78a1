package scaffold_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
	_ "github.com/mcp-extproc/mcp-extproc/framework/external"
	"github.com/mcp-extproc/mcp-extproc/internal/scaffold"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func run(t *testing.T, dir string, timeout time.Duration, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func render(t *testing.T, kind, name string) []scaffold.File {
	t.Helper()
	p, err := scaffold.NewParams(kind, name)
	if err != nil {
		t.Fatal(err)
	}
	files, err := scaffold.Render(kind, p)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		kind, name string
		ok         bool
	}{
		{scaffold.KindGo, "tool_guard", true},
		{scaffold.KindGo, "tool-guard", false},
		{scaffold.KindGo, "ToolGuard", false},
		{scaffold.KindGo, "../evil", false},
		{scaffold.KindExternalTS, "tool-guard", true},
		{scaffold.KindExternalTS, "a/b", false},
		{scaffold.KindExternalPython, "my_filter", true},
		{"rust", "x", false},
	} {
		_, err := scaffold.NewParams(tc.kind, tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("%s %q: err = %v", tc.kind, tc.name, err)
		}
	}
	p, _ := scaffold.NewParams(scaffold.KindExternalPython, "my-filter")
	if p.Class != "MyFilter" || p.Package != "my_filter" || p.Code != "MY_FILTER_BLOCKED" {
		t.Errorf("params %+v", p)
	}
}

func TestRegisterInAll(t *testing.T) {
	all := "package all\n\nimport (\n\t_ \"m/plugins/a\"\n\t_ \"m/plugins/c\"\n)\n"
	got, err := scaffold.RegisterInAll([]byte(all), "m/plugins/b")
	if err != nil {
		t.Fatal(err)
	}
	want := "package all\n\nimport (\n\t_ \"m/plugins/a\"\n\t_ \"m/plugins/b\"\n\t_ \"m/plugins/c\"\n)\n"
	if string(got) != want {
		t.Fatalf("got\n%s", got)
	}
	again, _ := scaffold.RegisterInAll(got, "m/plugins/b")
	if string(again) != want {
		t.Fatal("registering twice changed the file")
	}
}

// The Go scaffold, written into plugins/ of a copy of this module's
// framework, mcpparse and plugins packages (so the tree is not touched),
// vets, passes its own tests and benchmark, and links into plugins/all.
func TestGoScaffoldBuildsAndPassesItsTests(t *testing.T) {
	const name = "scaffold_probe"
	root := repoRoot(t)
	mod := t.TempDir()
	for _, f := range []string{"go.mod", "go.sum"} {
		copyFile(t, filepath.Join(root, f), filepath.Join(mod, f))
	}
	for _, d := range []string{"framework", "mcpparse", "plugins"} {
		copyTree(t, filepath.Join(root, d), filepath.Join(mod, d))
	}
	if err := scaffold.Write(filepath.Join(mod, "plugins", name), render(t, scaffold.KindGo, name)); err != nil {
		t.Fatal(err)
	}
	allPath := filepath.Join(mod, "plugins", "all", "all.go")
	all, err := os.ReadFile(allPath)
	if err != nil {
		t.Fatal(err)
	}
	updated, err := scaffold.RegisterInAll(all, "github.com/mcp-extproc/mcp-extproc/plugins/"+name)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(allPath, updated, 0o644); err != nil {
		t.Fatal(err)
	}
	pkg := "./plugins/" + name + "/"
	run(t, mod, 3*time.Minute, "go", "vet", pkg, "./plugins/all/")
	out := run(t, mod, 3*time.Minute, "go", "test", "-count=1", "-v", "-run", ".", "-bench", ".", "-benchtime", "100x", pkg)
	for _, want := range []string{"--- PASS: TestConfig", "--- PASS: TestToolPreInvoke", "BenchmarkToolPreInvoke", "\nok "} {
		if !strings.Contains(out, want) {
			t.Fatalf("go test output lacks %q:\n%s", want, out)
		}
	}
	if out := run(t, mod, time.Minute, "gofmt", "-l", "plugins/"+name); out != "" {
		t.Errorf("generated code is not gofmt-clean: %s", out)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "node_modules" {
			return filepath.SkipDir
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(from, p)
		copyFile(t, p, filepath.Join(to, rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The TypeScript scaffold installs from its lock file, builds and passes its
// own tests, and mcp-extproc's external-plugin client gets verdicts from it.
func TestTypeScriptScaffoldBuildsAndServes(t *testing.T) {
	const name = "ts-probe"
	dir := filepath.Join(t.TempDir(), name)
	if err := scaffold.Write(dir, render(t, scaffold.KindExternalTS, name)); err != nil {
		t.Fatal(err)
	}
	run(t, dir, 3*time.Minute, "npm", "ci", "--no-audit", "--no-fund", "--prefer-offline")
	out := run(t, dir, 2*time.Minute, "npm", "test")
	if !strings.Contains(out, "# fail 0") || !strings.Contains(out, "# pass 4") {
		t.Fatalf("npm test output:\n%s", out)
	}
	checkExternal(t, fmt.Sprintf(`{proto: STDIO, cmd: [node, %q], env: {TS_PROBE_WORDS: "forbidden"}}`, filepath.Join(dir, "dist", "server.js")), name, "TS_PROBE_BLOCKED")
}

// checkExternal runs the generated server as a kind: external plugin through
// framework.Manager, as the filter does.
func checkExternal(t *testing.T, mcp, name, code string) {
	t.Helper()
	policy := fmt.Sprintf("plugin_settings: {fail_on_plugin_error: true}\nplugins:\n  - name: %s\n    kind: external\n    timeout: 60s\n    mcp: %s\n", name, mcp)
	cfg, _, err := framework.Parse([]byte(policy), "policy.yaml", framework.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m, err := framework.NewManager(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	call := func(args string) framework.Outcome[framework.ToolPreInvokePayload] {
		return m.ToolPreInvoke(ctx, &framework.ToolPreInvokePayload{Name: "send", Args: []byte(args)},
			framework.NewContextTable(framework.GlobalContext{RequestID: "r1"}))
	}
	if out := call(`{"msg":"hello"}`); out.Blocked() {
		t.Fatalf("a clean call was blocked: %+v", out.Violation)
	}
	out := call(`{"msg":{"parts":["ok","a Forbidden plan"]}}`)
	if !out.Blocked() || out.Violation == nil || out.Violation.Code != code {
		t.Fatalf("outcome %+v, want blocked with %s", out.Violation, code)
	}
}

// The Python scaffold installs cpex from its hash-pinned requirements into a
// virtual environment, passes its own tests, and mcp-extproc's client gets
// verdicts from it through cpex's own MCP runtime over STDIO.
//
// Installing cpex (58 packages) is the slow part: the environment is kept in
// the user cache directory, keyed by the requirements' hash, so only the
// first run on a machine pays for it (about two minutes here).
func TestPythonScaffoldBuildsAndServes(t *testing.T) {
	const name = "py-probe"
	files := render(t, scaffold.KindExternalPython, name)
	dir := filepath.Join(t.TempDir(), name)
	if err := scaffold.Write(dir, files); err != nil {
		t.Fatal(err)
	}
	python := cpexVenv(t, filepath.Join(dir, "requirements.txt"))
	out := run(t, dir, 2*time.Minute, python, "-m", "unittest", "-v")
	if !strings.Contains(out, "Ran 4 tests") || !strings.Contains(out, "\nOK") {
		t.Fatalf("unittest output:\n%s", out)
	}
	checkExternal(t, fmt.Sprintf(`{proto: STDIO, script: %q, env: {PYTHON: %q}}`, filepath.Join(dir, "run-server.sh"), python), name, "PY_PROBE_BLOCKED")
}

// cpexVenv returns the python of a virtual environment holding exactly the
// hash-pinned requirements, creating it once per requirements file content.
func cpexVenv(t *testing.T, requirements string) string {
	t.Helper()
	data, err := os.ReadFile(requirements)
	if err != nil {
		t.Fatal(err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	sum := sha256.Sum256(data)
	venv := filepath.Join(cache, "mcp-extproc", "scaffold-venv-"+hex.EncodeToString(sum[:8]))
	python := filepath.Join(venv, "bin", "python")
	if _, err := os.Stat(filepath.Join(venv, "installed")); err == nil {
		return python
	}
	_ = os.RemoveAll(venv)
	run(t, ".", time.Minute, "python3", "-m", "venv", venv)
	run(t, ".", 8*time.Minute, filepath.Join(venv, "bin", "pip"), "install", "--quiet", "--require-hashes", "--no-deps", "-r", requirements)
	if err := os.WriteFile(filepath.Join(venv, "installed"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return python
}
