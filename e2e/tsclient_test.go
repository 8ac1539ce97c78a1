package e2e

import (
	"encoding/json"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const tsPolicy = `
mcp:
  paths: [/mcp]
plugins:
  - name: no-destruction
    kind: tool_filter
    config:
      deny: ["delete_*"]
`

// A TypeScript SDK client through extproc dev: an allowed tool works, a
// denied one gets the design's JSON-RPC error, and progress notifications
// of a long-running tool arrive before its result (SSE is not buffered).
func TestTypeScriptClientThroughDev(t *testing.T) {
	up := httptest.NewServer(goServer(false))
	t.Cleanup(up.Close) // after the client and the proxy are gone: Close waits for open streams
	base := startDev(t, tsPolicy, up.URL)
	dir := nodeDir(t)
	cmd := exec.Command("node", filepath.Join(dir, "client.mjs"), base+"/mcp")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("client: %v\n%s\n%s", err, out, stderr)
	}
	var got struct {
		Echo    string
		Blocked *struct {
			Code    int
			Message string
			Data    map[string]any
		}
		Events []string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("client output %q: %v", out, err)
	}
	if got.Echo != "echo: hello" {
		t.Fatalf("allowed tool: %q", got.Echo)
	}
	if got.Blocked == nil || got.Blocked.Code != -32000 || got.Blocked.Data["code"] != "TOOL_DENIED" || got.Blocked.Data["plugin"] != "no-destruction" {
		t.Fatalf("blocked tool: %+v", got.Blocked)
	}
	want := []string{"progress 1/3", "progress 2/3", "progress 3/3", "result: done, CONFIDENTIAL"}
	if len(got.Events) != len(want) {
		t.Fatalf("events %v, want %v", got.Events, want)
	}
	for i := range want {
		if got.Events[i] != want[i] {
			t.Fatalf("events %v, want %v", got.Events, want)
		}
	}
}

// What a new user sees when a call is blocked, in the TypeScript SDK: the
// thrown McpError's message carries the reason and the description (not only
// "Tool not allowed"), and with block_response: tool_error the same text is
// the tool result the model reads.
func TestTypeScriptClientSeesWhyACallIsBlocked(t *testing.T) {
	up := httptest.NewServer(goServer(false))
	t.Cleanup(up.Close)
	dir := nodeDir(t)
	const why = `Tool not allowed: tool "delete_everything" is denied (deny pattern "delete_*")`
	for _, tc := range []struct {
		style string
		want  string
	}{
		{"jsonrpc_error", `{"thrown":"MCP error -32000: ` + strings.ReplaceAll(why, `"`, `\"`) + `"}`},
		{"tool_error", `{"isError":true,"text":"` + strings.ReplaceAll(why, `"`, `\"`) + `"}`},
	} {
		t.Run(tc.style, func(t *testing.T) {
			base := startDev(t, strings.Replace(tsPolicy, "  paths: [/mcp]\n", "  paths: [/mcp]\n  block_response: "+tc.style+"\n", 1), up.URL)
			cmd := exec.Command("node", filepath.Join(dir, "blocked.mjs"), base+"/mcp", "delete_everything")
			cmd.Dir = dir
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("client: %v\n%s", err, out)
			}
			if got := strings.TrimSpace(string(out)); got != tc.want {
				t.Fatalf("the TypeScript SDK shows\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}
