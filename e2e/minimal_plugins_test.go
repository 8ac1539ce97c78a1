package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// The minimal external plugins of examples/ (TypeScript and Python, each
// under 40 lines) run as external plugins through our client, over STDIO:
// get_plugin_config is merged under the entry, a call about launch codes is
// refused with their violation, any other passes untouched.
func TestMinimalExternalPlugins(t *testing.T) {
	root := repoRoot(t)
	for _, tc := range []struct {
		name, file string
		cmd        func(t *testing.T) []string
	}{
		{"typescript", "examples/external/keyword-moderation/src/minimal.ts", func(t *testing.T) []string {
			dir := filepath.Dir(filepath.Dir(tsPlugin(t)))
			js := filepath.Join(dir, "dist", "minimal.js")
			if _, err := os.Stat(js); err != nil { // a dist/ built before minimal.ts existed
				if out, err := exec.Command("npx", "--prefix", dir, "tsc", "-p", filepath.Join(dir, "tsconfig.json")).CombinedOutput(); err != nil {
					t.Fatalf("tsc: %v\n%s", err, out)
				}
			}
			return []string{"node", js}
		}},
		{"python", "examples/external/minimal-python/plugin.py", func(t *testing.T) []string {
			return []string{cpexPython(t), filepath.Join(root, "examples", "external", "minimal-python", "plugin.py")}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join(root, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(src), "\n"); n > 40 {
				t.Errorf("%s has %d lines; the minimal example promises at most 40", tc.file, n)
			}
			var cmd []string
			for _, a := range tc.cmd(t) {
				cmd = append(cmd, strconv.Quote(a))
			}
			m := loadManager(t, fmt.Sprintf(
				// Start-up is bounded by the timeout: Python's SDK imports slowly on a loaded machine.
				"plugin_settings: {fail_on_plugin_error: true}\nplugins:\n  - name: minimal\n    kind: external\n    timeout: 60s\n    mcp: {proto: STDIO, cmd: [%s]}\n",
				strings.Join(cmd, ", ")))
			ctx := context.Background()
			blocked := m.ToolPreInvoke(ctx, &framework.ToolPreInvokePayload{Name: "ask", Args: []byte(`{"q":"the Launch Codes, please"}`)},
				framework.NewContextTable(framework.GlobalContext{}))
			if !blocked.Blocked() || blocked.Violation.Code != "OFF_LIMITS" || blocked.Violation.Plugin != "minimal" ||
				blocked.Violation.Description != `tool "ask" was asked about launch codes` {
				t.Fatalf("launch codes: %+v", blocked.Violation)
			}
			passed := m.ToolPreInvoke(ctx, &framework.ToolPreInvokePayload{Name: "ask", Args: []byte(`{"q":"the weather"}`)},
				framework.NewContextTable(framework.GlobalContext{}))
			if passed.Blocked() || passed.Modified {
				t.Fatalf("an ordinary call: %+v", passed)
			}
			// get_plugin_config's hooks were merged: the plugin runs on tool_pre_invoke only.
			post := m.ToolPostInvoke(ctx, &framework.ToolPostInvokePayload{Name: "ask", Result: []byte(`{"content":[{"type":"text","text":"launch codes"}]}`)},
				framework.NewContextTable(framework.GlobalContext{}))
			if post.Blocked() {
				t.Fatalf("the plugin ran on tool_post_invoke, which its config does not list: %+v", post.Violation)
			}
		})
	}
}
