package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-extproc/mcp-extproc/plugins/llama_guard/llamaguardtest"
	"github.com/mcp-extproc/mcp-extproc/plugins/openai_moderation/moderationtest"
	"github.com/mcp-extproc/mcp-extproc/plugins/webhook/webhooktest"
)

// servicesServer has a tool that posts a message (echoing it), a tool that
// transfers an amount (echoing it), and a tool whose answer is unsafe.
func servicesServer() http.Handler {
	s := mcp.NewServer(&mcp.Implementation{Name: "services", Version: "1.0.0"}, nil)
	type postArgs struct {
		Text string `json:"text"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "post"}, func(_ context.Context, _ *mcp.CallToolRequest, a postArgs) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "posted: " + a.Text}}}, nil, nil
	})
	type transferArgs struct {
		Amount int `json:"amount"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "transfer"}, func(_ context.Context, _ *mcp.CallToolRequest, a transferArgs) (*mcp.CallToolResult, any, error) {
		if a.Amount > 100 {
			panic("the filter must never let this through")
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprintf("moved %d", a.Amount)}}}, nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "chemistry"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "Step one of a pipe bomb: …"}}}, nil, nil
	})
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil)
}

// The three service-calling kinds in one policy, run by `extproc dev`
// between the Go SDK's client and server, each against a stand-in for its
// service: OpenAI's moderation endpoint, a Llama Guard 3 model behind chat
// completions, and a team's policy webhook.
func TestServiceKindsThroughDev(t *testing.T) {
	const key = "sk-e2e-moderation-0a9b8c"
	mod, err := moderationtest.New(key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mod.Close)
	guard, err := llamaguardtest.New("llama-guard3:8b", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(guard.Close)
	hook, err := webhooktest.New(func(c webhooktest.Call) (int, any) {
		var p struct {
			Name string `json:"name"`
			Args struct {
				Amount int `json:"amount"`
			} `json:"args"`
		}
		_ = json.Unmarshal(c.Payload, &p)
		if c.HookType == "tool_pre_invoke" && p.Name == "transfer" && p.Args.Amount > 100 {
			return http.StatusOK, map[string]any{"continue_processing": true, "modified_payload": map[string]any{"name": "transfer", "args": map[string]any{"amount": 100}}}
		}
		return http.StatusNoContent, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hook.Close)
	t.Setenv("E2E_OPENAI_KEY", key) // inherited by the extproc process

	metricsAddr := freeAddr(t)
	policy := fmt.Sprintf(`
server:
  metrics_listen: %s
mcp:
  paths: [/mcp]
plugins:
  - name: moderation
    kind: openai_moderation
    hooks: [tool_pre_invoke]
    priority: 10
    config:
      base_url: %s
      api_key_env: E2E_OPENAI_KEY
      block_categories: [violence, harassment/threatening]
  - name: guard
    kind: llama_guard
    hooks: [tool_post_invoke]
    priority: 20
    config:
      base_url: %s
      model: llama-guard3:8b
      categories: [S1, S9, S10, S11]
  - name: team-policy
    kind: webhook
    hooks: [tool_pre_invoke]
    priority: 30
    config:
      url: %s
`, metricsAddr, mod.URL, guard.URL, hook.URL)
	up := httptest.NewServer(servicesServer())
	t.Cleanup(up.Close)
	cs := connect(t, startDev(t, policy, up.URL), nil)
	ctx := context.Background()

	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "post", Arguments: map[string]any{"text": "good morning"}})
	if err != nil || text(t, res.Content) != "posted: good morning" {
		t.Fatalf("clean call: %v %v", res, err)
	}
	_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "post", Arguments: map[string]any{"text": "I will kill you"}})
	wantRPCError(t, err, "CONTENT_MODERATION", "moderation")

	_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "chemistry"})
	wantRPCError(t, err, "CONTENT_MODERATION", "guard")

	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "transfer", Arguments: map[string]any{"amount": 5000}})
	if err != nil || text(t, res.Content) != "moved 100" {
		t.Fatalf("the webhook's modified arguments did not reach the server: %v %v", res, err)
	}

	mod.SetFault(moderationtest.Fault{Status: http.StatusServiceUnavailable})
	_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "post", Arguments: map[string]any{"text": "a text never seen"}})
	wantRPCError(t, err, "MODERATION_ERROR", "moderation")

	if r := mod.Requests(); len(r) == 0 || r[0].Authorization != "Bearer "+key {
		t.Fatalf("moderation requests: %+v", r)
	}
	if r := guard.Requests(); len(r) == 0 || r[len(r)-1].Prompt.Role != "Agent" {
		t.Fatalf("llama guard requests: %+v", r)
	}

	// Each service's latency, errors and breaker state are on /metrics;
	// the key is not.
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	metrics := string(b)
	for _, want := range []string{
		`mcp_extproc_outbound_request_duration_seconds_count{outcome="ok",service="moderation"}`,
		`mcp_extproc_outbound_request_duration_seconds_count{outcome="ok",service="guard"}`,
		`mcp_extproc_outbound_errors_total{kind="status",service="moderation"} 1`,
		`mcp_extproc_outbound_retries_total{service="moderation"} 2`,
		`mcp_extproc_outbound_breaker_state{service="team-policy"} 0`,
		`mcp_extproc_requests_total`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(metrics, key) {
		t.Error("/metrics shows the API key")
	}
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func wantRPCError(t *testing.T, err error, code, plugin string) {
	t.Helper()
	var rpcErr *jsonrpc.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != -32000 || !strings.Contains(string(rpcErr.Data), `"code":"`+code+`"`) ||
		!strings.Contains(string(rpcErr.Data), `"plugin":"`+plugin+`"`) {
		t.Fatalf("want the design's JSON-RPC error %s from %s, got %v (%+v)", code, plugin, err, rpcErr)
	}
}
