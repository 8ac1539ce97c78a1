package e2e

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

var e2eGitHubToken = "ghp" + "_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8" // not a real token

// guardServer is an MCP server (Go SDK) with a URL fetcher, a SQL runner
// that counts the queries it runs, a tool whose result links to a denied
// host, one whose result carries a base64-encoded token, and resources.
func guardServer(queries *atomic.Int32) http.Handler {
	s := mcp.NewServer(&mcp.Implementation{Name: "guards", Version: "1.0.0"}, nil)
	type urlArgs struct {
		URL string `json:"url"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "fetch_url"}, func(_ context.Context, _ *mcp.CallToolRequest, a urlArgs) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "fetched " + a.URL}}}, nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "search"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "best match: https://login.evil.example/reset?u=1"}}}, nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "read_env"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		enc := base64.StdEncoding.EncodeToString([]byte("export GITHUB_TOKEN=" + e2eGitHubToken))
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "env dump: " + enc + " (end)"}}}, nil, nil
	})
	type queryArgs struct {
		Query string `json:"query"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "run_query"}, func(_ context.Context, _ *mcp.CallToolRequest, a queryArgs) (*mcp.CallToolResult, any, error) {
		queries.Add(1)
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "1 row"}}}, nil, nil
	})
	for _, uri := range []string{"https://docs.good.example/readme", "https://cdn.listed.example/x"} {
		s.AddResource(&mcp.Resource{URI: uri, Name: uri, MIMEType: "text/plain"}, func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, MIMEType: "text/plain", Text: "docs"}}}, nil
		})
	}
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil)
}

// code returns data.code of the JSON-RPC error a call got, "" if none.
func code(err error) string {
	var rpcErr *jsonrpc.Error
	if !errors.As(err, &rpcErr) {
		return ""
	}
	for _, c := range []string{"URL_BLOCKED", "UNSAFE_SQL", "ENCODED_EXFIL_DETECTED"} {
		if strings.Contains(string(rpcErr.Data), `"code":"`+c+`"`) {
			return c
		}
	}
	return "other: " + string(rpcErr.Data)
}

// url_reputation, encoded_exfil and sql_sanitizer (under ContextForge's
// class path) between the Go SDK client and server, through extproc dev:
// what each refuses is refused before the server acts, what each lets
// through works, the encoded token is redacted, and a blocklist file is
// read again when the policy reloads.
func TestContentGuardsThroughDev(t *testing.T) {
	dir := t.TempDir()
	blocklist := filepath.Join(dir, "blocklist.txt")
	if err := os.WriteFile(blocklist, []byte("# bad hosts\n0.0.0.0 tracker.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	policy := fmt.Sprintf(`
mcp:
  paths: [/mcp]
plugins:
  - name: urls
    kind: url_reputation
    config: {deny_domains: [evil.example], deny_domain_files: [%q]}
  - name: exfil
    kind: encoded_exfil
    config: {action: redact}
  - name: sql
    kind: cpex_sql_sanitizer.sql_sanitizer.SQLSanitizerPlugin
    config: {fields: [query]}
`, blocklist)
	path := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(path, []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	var queries atomic.Int32
	up := httptest.NewServer(guardServer(&queries))
	t.Cleanup(up.Close)
	cs := connect(t, startDevWith(t, path, up.URL), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// url_reputation: arguments (a full-width spelling), results, resource URIs.
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "fetch_url", Arguments: map[string]any{"url": "https://ＡＰＩ．ＥＶＩＬ．example/a"}}); code(err) != "URL_BLOCKED" {
		t.Errorf("denied host in arguments: %v", err)
	}
	if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "fetch_url", Arguments: map[string]any{"url": "https://docs.good.example/"}}); err != nil || text(t, res.Content) != "fetched https://docs.good.example/" {
		t.Errorf("allowed URL: %v", err)
	}
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "search"}); code(err) != "URL_BLOCKED" {
		t.Errorf("denied host in a result: %v", err)
	}
	if _, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "https://cdn.listed.example/x"}); err != nil {
		t.Errorf("host not yet listed: %v", err)
	}

	// encoded_exfil: the base64 token is replaced, the rest of the text kept.
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "read_env"})
	if err != nil || text(t, res.Content) != "env dump: [ENCODED_REDACTED] (end)" {
		t.Errorf("encoded token: %v %q", err, text(t, res.Content))
	}

	// sql_sanitizer: refused queries never reach the server.
	for _, q := range []string{"SELECT 1; DROP TABLE users", "DELETE FROM users", "SELECT 1 /*! ; DROP TABLE t */"} {
		if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "run_query", Arguments: map[string]any{"query": q}}); code(err) != "UNSAFE_SQL" {
			t.Errorf("%q: %v", q, err)
		}
	}
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "run_query", Arguments: map[string]any{"query": "SELECT name FROM users WHERE id = $1"}}); err != nil {
		t.Errorf("safe query: %v", err)
	}
	if n := queries.Load(); n != 1 {
		t.Errorf("the server ran %d queries, want only the safe one", n)
	}

	// A new blocklist entry takes effect when the policy reloads.
	if err := os.WriteFile(blocklist, []byte("tracker.example\nlisted.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(policy+"\n# reload\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "https://cdn.listed.example/x"})
		if code(err) == "URL_BLOCKED" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("blocklist not re-read on reload: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
