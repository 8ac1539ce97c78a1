package e2e

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-extproc/mcp-extproc/framework"
	_ "github.com/mcp-extproc/mcp-extproc/framework/external"
)

var tsPluginOnce sync.Once
var tsPluginErr error

// tsPlugin returns the TypeScript keyword-moderation plugin's server script,
// installed and compiled from its committed lock file (npm ci runs tsc).
func tsPlugin(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "examples", "external", "keyword-moderation")
	script := filepath.Join(dir, "dist", "server.js")
	tsPluginOnce.Do(func() {
		if _, err := os.Stat(script); err == nil {
			return
		}
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			tsPluginErr = fmt.Errorf("npm ci in %s: %v\n%s", dir, err, out)
		}
	})
	if tsPluginErr != nil {
		t.Fatal(tsPluginErr)
	}
	return script
}

func loadManager(t *testing.T, policy string) *framework.Manager {
	t.Helper()
	cfg, _, err := framework.Parse([]byte(policy), "policy.yaml", framework.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := framework.NewManager(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	return m
}

// The Go client against the TypeScript plugin, over STDIO and Streamable
// HTTP, blocks exactly what the in-process deny_list with the same words
// blocks.
func TestTypeScriptPluginMatchesInProcess(t *testing.T) {
	script := tsPlugin(t)
	inproc := loadManager(t, "plugins:\n  - {name: deny, kind: deny_list, config: {words: [forbidden, classified]}}\n")
	env := `env: {KEYWORD_MODERATION_WORDS: "forbidden,classified"}`
	addr := freePort(t)
	server := exec.Command("node", script, "--http", addr)
	server.Env = append(os.Environ(), "KEYWORD_MODERATION_WORDS=forbidden,classified")
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = server.Process.Kill(); _ = server.Wait() })
	waitListening(t, addr)
	for name, mcpBlock := range map[string]string{
		"stdio": fmt.Sprintf(`{proto: STDIO, cmd: [node, %q], %s}`, script, env),
		// script: runs with the interpreter its extension names, from cwd.
		"stdio-script": fmt.Sprintf(`{proto: STDIO, script: dist/server.js, cwd: %q, %s}`, filepath.Dir(filepath.Dir(script)), env),
		"http":         fmt.Sprintf(`{proto: STREAMABLEHTTP, url: "http://%s/mcp"}`, addr),
	} {
		t.Run(name, func(t *testing.T) {
			ext := loadManager(t, "plugins:\n  - name: keyword-moderation\n    kind: external\n    timeout: 10s\n    mcp: "+mcpBlock+"\n")
			for _, args := range []string{`{"text":"hello"}`, `{"text":"this is Classified"}`, `{"deep":{"list":["ok","forbidden"]}}`, `{"n":1}`} {
				p := &framework.ToolPreInvokePayload{Name: "send", Args: []byte(args)}
				a := inproc.ToolPreInvoke(context.Background(), p, framework.NewContextTable(framework.GlobalContext{}))
				b := ext.ToolPreInvoke(context.Background(), p, framework.NewContextTable(framework.GlobalContext{}))
				if a.Blocked() != b.Blocked() || a.Modified || b.Modified {
					t.Errorf("%s: in-process blocked=%v, TypeScript blocked=%v (%+v)", args, a.Blocked(), b.Blocked(), b.Violation)
				}
				if b.Blocked() && b.Violation.Code != "KEYWORD_BLOCKED" {
					t.Errorf("%s: violation %+v", args, b.Violation)
				}
			}
		})
	}
}

// End to end through extproc dev: the TypeScript plugin blocks a tool call
// with a banned word, and a Go plugin served by `extproc plugin-server`
// masks PII in the result.
func TestExternalPluginsThroughDev(t *testing.T) {
	script := tsPlugin(t)
	bin := build(t, "extproc", "./cmd/extproc")
	served := filepath.Join(t.TempDir(), "served.yaml")
	if err := os.WriteFile(served, []byte("plugins:\n  - {name: pii, kind: pii_filter, config: {mask_strategy: redact}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	policy := fmt.Sprintf(`
mcp:
  paths: [/mcp]
plugins:
  - name: keyword-moderation
    kind: external
    mcp: {proto: STDIO, cmd: [node, %q]}
  - name: pii
    kind: external
    mcp: {proto: STDIO, cmd: [%q, plugin-server, --config, %q, --stdio]}
`, script, bin, served)
	up := httptest.NewServer(supportServer())
	t.Cleanup(up.Close) // after the client and the proxy are gone: Close waits for open streams
	base := startDev(t, policy, up.URL)
	cs := connect(t, base, nil)
	ctx := context.Background()

	_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "lookup_customer", Arguments: map[string]any{"note": "share the launch codes"}})
	if err == nil || !strings.Contains(err.Error(), "Keyword moderation") {
		t.Fatalf("banned word: want the TypeScript plugin's block, got %v", err)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "lookup_customer", Arguments: map[string]any{"note": "routine"}})
	if err != nil {
		t.Fatal(err)
	}
	got := text(t, res.Content)
	if strings.Contains(got, "jane.doe@example.com") || strings.Contains(got, "4111 1111 1111 1111") || !strings.Contains(got, "Jane Doe") {
		t.Fatalf("PII not masked by the served Go plugin: %q", got)
	}
}
