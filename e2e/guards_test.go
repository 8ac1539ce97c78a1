package e2e

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// catalogueServer has a search tool whose calls it counts, and a report
// tool that returns structuredContent breaking its own output schema.
func catalogueServer(calls *atomic.Int64) http.Handler {
	s := mcp.NewServer(&mcp.Implementation{Name: "catalogue", Version: "1.0.0"}, nil)
	s.AddTool(&mcp.Tool{Name: "search", InputSchema: map[string]any{"type": "object"}},
		func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			calls.Add(1)
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "3 hits"}}, StructuredContent: map[string]any{"hits": []any{"a", "b", "c"}}}, nil
		})
	s.AddTool(&mcp.Tool{Name: "report", InputSchema: map[string]any{"type": "object"}},
		func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "{}"}}, StructuredContent: map[string]any{"total": "many"}}, nil
		})
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil)
}

const guardsPolicy = `
mcp:
  paths: [/mcp]
  identity:
    user_header: x-user-id
plugins:
  - name: per-user
    kind: rate_limit
    priority: 10
    config:
      limits:
        - {by: [user], tools: [search], rate: "1/s", burst: 3}
  - name: schemas
    kind: schema_guard
    priority: 20
    config:
      tools:
        search:
          input_schema:
            type: object
            required: [query]
            properties:
              query: {type: string, maxLength: 100}
              limit: {type: integer, maximum: 50}
          output_schema:
            type: object
            required: [hits]
        report:
          output_schema:
            type: object
            properties:
              total: {type: integer}
`

// userTransport sends every request as one user, as a gateway in front of
// the filter would.
type userTransport struct{ user string }

func (u userTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("x-user-id", u.user)
	return http.DefaultTransport.RoundTrip(r)
}

func connectAsUser(t *testing.T, base, user string) *mcp.ClientSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := mcp.NewClient(&mcp.Implementation{Name: "e2e-client", Version: "1.0.0"}, nil)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: &http.Client{Transport: userTransport{user}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// rate_limit and schema_guard through extproc dev, between the Go SDK
// client and server: bad arguments never reach the server and come back as
// Invalid params naming the path; a result breaking its output schema is
// withheld; an exceeded limit is HTTP 429 with Retry-After, the session
// survives it, and the call works again after Retry-After.
func TestGuardsThroughDev(t *testing.T) {
	var calls atomic.Int64
	up := httptest.NewServer(catalogueServer(&calls))
	t.Cleanup(up.Close)
	base := startDev(t, guardsPolicy, up.URL)
	ctx := context.Background()
	ann := connectAsUser(t, base, "ann")

	// schema_guard on arguments.
	_, err := ann.CallTool(ctx, &mcp.CallToolParams{Name: "search", Arguments: map[string]any{"query": "mcp", "limit": 500}})
	var rpcErr *jsonrpc.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != -32602 || !strings.Contains(rpcErr.Message, "Invalid tool arguments") ||
		!strings.Contains(string(rpcErr.Data), `"code":"SCHEMA_INVALID_ARGUMENTS"`) || !strings.Contains(string(rpcErr.Data), "/limit: maximum") {
		t.Fatalf("bad arguments: %v (%+v)", err, rpcErr)
	}
	if calls.Load() != 0 {
		t.Fatal("the server got arguments that fail the schema")
	}
	// schema_guard on results.
	_, err = ann.CallTool(ctx, &mcp.CallToolParams{Name: "report", Arguments: map[string]any{}})
	if !errors.As(err, &rpcErr) || !strings.Contains(string(rpcErr.Data), `"code":"SCHEMA_INVALID_RESULT"`) || !strings.Contains(string(rpcErr.Data), "/total: type") {
		t.Fatalf("bad result: %v", err)
	}

	// rate_limit: a burst of 3 searches for ann. The limiter runs before the
	// schema check, so the refused search above used one; report is not limited.
	for i := range 2 {
		res, err := ann.CallTool(ctx, &mcp.CallToolParams{Name: "search", Arguments: map[string]any{"query": "mcp"}})
		if err != nil || text(t, res.Content) != "3 hits" {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	_, err = ann.CallTool(ctx, &mcp.CallToolParams{Name: "search", Arguments: map[string]any{"query": "mcp"}})
	if err == nil || !strings.Contains(err.Error(), "Too Many Requests") {
		t.Fatalf("over the limit: %v", err)
	}
	// What the HTTP client sees: 429, Retry-After, the JSON-RPC error.
	req, _ := http.NewRequest("POST", base+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"search","arguments":{"query":"q"}}}`))
	req.Header.Set("content-type", "application/json")
	req.Header.Set("accept", "application/json, text/event-stream")
	req.Header.Set("x-user-id", "ann")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(raw)
	retry, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != 429 || retry < 1 || retry > 2 || !strings.Contains(body, `"id":9`) || !strings.Contains(body, `"code":"RATE_LIMITED"`) {
		t.Fatalf("raw: %d, Retry-After %q, %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	// bob is not limited by ann's calls.
	bob := connectAsUser(t, base, "bob")
	if _, err := bob.CallTool(ctx, &mcp.CallToolParams{Name: "search", Arguments: map[string]any{"query": "mcp"}}); err != nil {
		t.Fatalf("bob: %v", err)
	}
	// After Retry-After, ann's session works again.
	time.Sleep(time.Duration(retry) * time.Second)
	if _, err := ann.CallTool(ctx, &mcp.CallToolParams{Name: "search", Arguments: map[string]any{"query": "mcp"}}); err != nil {
		t.Fatalf("after Retry-After: %v", err)
	}
}
