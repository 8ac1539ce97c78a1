package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	toolpin "github.com/mcp-extproc/mcp-extproc/plugins/tool_pin"
)

// pinServer is a Go SDK server with more tools than one page holds, one of
// them with annotations the SDK would re-encode differently (a false hint).
func pinServer(t *testing.T) string {
	s := mcp.NewServer(&mcp.Implementation{Name: "pin-test", Version: "1"}, &mcp.ServerOptions{PageSize: 2})
	f := false
	for i := range 5 {
		tool := &mcp.Tool{Name: fmt.Sprintf("tool_%d", i), Description: fmt.Sprintf("Tool number %d — ünïcödé ✓", i),
			InputSchema: json.RawMessage(`{"type":"object","properties":{"n":{"type":"number","maximum":1e3}}}`)}
		if i == 3 {
			tool.Annotations = &mcp.ToolAnnotations{Title: "T", DestructiveHint: &f, OpenWorldHint: &f}
		}
		s.AddTool(tool, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{}, nil
		})
	}
	srv := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil))
	t.Cleanup(srv.Close)
	return srv.URL
}

func readPins(t *testing.T, path string) *toolpin.Lockfile {
	t.Helper()
	lf, err := toolpin.ReadLockfile(path)
	if err != nil {
		t.Fatal(err)
	}
	return lf
}

func TestPinUpstreamAndFromFileAgree(t *testing.T) {
	url := pinServer(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "pins.yaml")
	code, stdout, stderr := runCLI(t, "pin", "--upstream", url, "--out", out, "--server-id", "srv")
	if code != 0 || stdout != `pinned 5 tools for server "srv" in `+out+"\n" {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	up := readPins(t, out).Servers["srv"].Tools

	// The pages as sent, saved as one tools/list response: --from pins
	// the same fingerprints.
	var raws []string
	pages, err := pagesFromUpstream(context.Background(), url)
	if err != nil || len(pages) != 3 {
		t.Fatalf("pages %d %v", len(pages), err)
	}
	for _, p := range pages {
		raws = append(raws, strings.Trim(string(p), "[]"))
	}
	saved := filepath.Join(dir, "list.json")
	os.WriteFile(saved, []byte(`{"jsonrpc":"2.0","id":3,"result":{"tools":[`+strings.Join(raws, ",")+`]}}`), 0o600)
	out2 := filepath.Join(dir, "pins2.yaml")
	if code, _, stderr := runCLI(t, "pin", "--from", saved, "--out", out2, "--server-id", "srv"); code != 0 {
		t.Fatalf("--from: exit %d %s", code, stderr)
	}
	from := readPins(t, out2).Servers["srv"].Tools
	if len(up) != 5 || fmt.Sprint(up) != fmt.Sprint(from) {
		t.Fatalf("upstream %v\nfrom file %v", up, from)
	}
	// Annotations as sent: the SDK's own types would drop the false hints.
	if !strings.Contains(string(pages[1]), `"destructiveHint":false`) {
		t.Fatalf("page 2 not as sent: %s", pages[1])
	}
	want, _ := toolpin.Fingerprint([]byte(`{"name":"tool_0","description":"Tool number 0 — ünïcödé ✓","inputSchema":{"properties":{"n":{"maximum":1000,"type":"number"}},"type":"object"}}`))
	if up["tool_0"] != want {
		t.Fatalf("tool_0: %s, want %s", up["tool_0"], want)
	}
	want, _ = toolpin.Fingerprint([]byte(`{"name":"tool_3","description":"Tool number 3 — ünïcödé ✓","inputSchema":{"type":"object","properties":{"n":{"type":"number","maximum":1e3}}},` +
		`"annotations":{"title":"T","destructiveHint":false,"idempotentHint":false,"openWorldHint":false,"readOnlyHint":false}}`))
	if up["tool_3"] != want {
		t.Fatalf("tool_3 (annotations as sent): %s, want %s; page: %s", up["tool_3"], want, pages[1])
	}
}

func TestPinKeepsOtherServers(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "pins.yaml")
	a := filepath.Join(dir, "a.json")
	os.WriteFile(a, []byte(`{"tools":[{"name":"a","description":"A"},{"name":"b"}]}`), 0o600)
	b := filepath.Join(dir, "b.json")
	os.WriteFile(b, []byte(`{"tools":[{"name":"c"}]}`), 0o600)
	for _, args := range [][]string{{"--from", a, "--server-id", "one"}, {"--from", b}, {"--from", b, "--server-id", "one"}} {
		if code, _, stderr := runCLI(t, append([]string{"pin", "--out", out}, args...)...); code != 0 {
			t.Fatalf("%v: %s", args, stderr)
		}
	}
	lf := readPins(t, out)
	if len(lf.Servers) != 2 || len(lf.Servers["one"].Tools) != 1 || lf.Servers["*"].Tools["c"] == "" {
		t.Fatalf("servers %+v", lf.Servers)
	}
}

func TestPinUsageAndErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no"}}`), 0o600)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"pin"}, 2, "exactly one of"},
		{[]string{"pin", "--from", bad, "--upstream", "http://x", "--out", "p"}, 2, "exactly one of"},
		{[]string{"pin", "--from", bad}, 2, "exactly one of"},
		{[]string{"pin", "--from", bad, "--out", filepath.Join(dir, "p.yaml")}, 1, "JSON-RPC error"},
		{[]string{"pin", "--upstream", "ftp://x", "--out", filepath.Join(dir, "p.yaml")}, 1, "want an http(s) URL"},
		{[]string{"pin", "-h"}, 0, "RFC 8785"},
	} {
		code, stdout, stderr := runCLI(t, tc.args...)
		if code == 0 {
			stderr = stdout // -h answers on stdout
		}
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}
