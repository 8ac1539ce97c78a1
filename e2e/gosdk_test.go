package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// Test kinds, registered in the default registry like built-in kinds.

type e2eDeny struct{ tools []string }

func (d e2eDeny) ToolPreInvoke(_ context.Context, p *framework.ToolPreInvokePayload, _ *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	if slices.Contains(d.tools, p.Name) {
		return framework.Result[framework.ToolPreInvokePayload]{Violation: &framework.Violation{
			Reason: "tool not allowed", Description: p.Name + " is denied by policy", Code: "E2E_DENIED"}}, nil
	}
	return framework.Result[framework.ToolPreInvokePayload]{}, nil
}

func (d e2eDeny) ResourcePreFetch(_ context.Context, p *framework.ResourcePreFetchPayload, _ *framework.PluginContext) (framework.Result[framework.ResourcePreFetchPayload], error) {
	if strings.HasPrefix(p.URI, "secret://") {
		return framework.Result[framework.ResourcePreFetchPayload]{Violation: &framework.Violation{Reason: "resource not allowed", Code: "E2E_DENIED"}}, nil
	}
	return framework.Result[framework.ResourcePreFetchPayload]{}, nil
}

// e2eMask replaces the word CONFIDENTIAL in arguments and every result.
type e2eMask struct{}

func mask(b []byte) ([]byte, bool) {
	if !bytes.Contains(b, []byte("CONFIDENTIAL")) {
		return b, false
	}
	return bytes.ReplaceAll(b, []byte("CONFIDENTIAL"), []byte("[masked]")), true
}

func (e2eMask) ToolPreInvoke(_ context.Context, p *framework.ToolPreInvokePayload, _ *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	if out, ok := mask(p.Args); ok {
		return framework.Result[framework.ToolPreInvokePayload]{ModifiedPayload: &framework.ToolPreInvokePayload{Name: p.Name, Args: out, Headers: p.Headers}}, nil
	}
	return framework.Result[framework.ToolPreInvokePayload]{}, nil
}

func (e2eMask) ToolPostInvoke(_ context.Context, p *framework.ToolPostInvokePayload, _ *framework.PluginContext) (framework.Result[framework.ToolPostInvokePayload], error) {
	if out, ok := mask(p.Result); ok {
		return framework.Result[framework.ToolPostInvokePayload]{ModifiedPayload: &framework.ToolPostInvokePayload{Name: p.Name, Result: out}}, nil
	}
	return framework.Result[framework.ToolPostInvokePayload]{}, nil
}

func (e2eMask) PromptPostFetch(_ context.Context, p *framework.PromptPostFetchPayload, _ *framework.PluginContext) (framework.Result[framework.PromptPostFetchPayload], error) {
	if out, ok := mask(p.Result); ok {
		return framework.Result[framework.PromptPostFetchPayload]{ModifiedPayload: &framework.PromptPostFetchPayload{PromptID: p.PromptID, Result: out}}, nil
	}
	return framework.Result[framework.PromptPostFetchPayload]{}, nil
}

func (e2eMask) ResourcePostFetch(_ context.Context, p *framework.ResourcePostFetchPayload, _ *framework.PluginContext) (framework.Result[framework.ResourcePostFetchPayload], error) {
	if out, ok := mask(p.Content); ok {
		return framework.Result[framework.ResourcePostFetchPayload]{ModifiedPayload: &framework.ResourcePostFetchPayload{URI: p.URI, Content: out}}, nil
	}
	return framework.Result[framework.ResourcePostFetchPayload]{}, nil
}

func init() {
	framework.Register(framework.Kind{Name: "e2e_deny", Hooks: []framework.HookType{framework.ToolPreInvoke, framework.ResourcePreFetch},
		New: func(pc *framework.PluginConfig) (framework.Plugin, error) {
			var c struct {
				Tools []string `yaml:"tools"`
			}
			if err := pc.DecodeConfig(&c); err != nil {
				return nil, err
			}
			return e2eDeny{tools: c.Tools}, nil
		}})
	framework.Register(framework.Kind{Name: "e2e_mask", Hooks: []framework.HookType{framework.ToolPreInvoke, framework.ToolPostInvoke, framework.PromptPostFetch, framework.ResourcePostFetch},
		New: func(*framework.PluginConfig) (framework.Plugin, error) { return e2eMask{}, nil }})
}

const e2ePolicy = `
mcp:
  paths: [/mcp]
plugins:
  - name: deny
    kind: e2e_deny
    config: {tools: [delete_everything]}
  - name: mask
    kind: e2e_mask
`

// goServer is an MCP server on the official Go SDK with a tool, a prompt
// and a resource that all return CONFIDENTIAL data, a tool that echoes its
// arguments, and a long-running tool that reports progress.
func goServer(jsonResponse bool) http.Handler {
	s := mcp.NewServer(&mcp.Implementation{Name: "e2e-server", Version: "1.0.0"}, nil)
	type echoArgs struct {
		Text string `json:"text"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "echoes text"}, func(_ context.Context, _ *mcp.CallToolRequest, a echoArgs) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "echo: " + a.Text}}}, nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "read_file"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "the CONFIDENTIAL plan"}}}, nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "delete_everything"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		panic("the filter must never let this through")
	})
	mcp.AddTool(s, &mcp.Tool{Name: "long_job"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		for i := 1; i <= 3; i++ {
			if tok := req.Params.GetProgressToken(); tok != nil {
				_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: tok, Progress: float64(i), Total: 3, Message: fmt.Sprintf("step %d", i)})
			}
			time.Sleep(20 * time.Millisecond)
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "done, CONFIDENTIAL"}}}, nil, nil
	})
	s.AddPrompt(&mcp.Prompt{Name: "briefing"}, func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: "a CONFIDENTIAL briefing"}}}}, nil
	})
	for _, uri := range []string{"docs://readme", "secret://keys"} {
		s.AddResource(&mcp.Resource{URI: uri, Name: uri, MIMEType: "text/plain"}, func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, MIMEType: "text/plain", Text: "CONFIDENTIAL contents"}}}, nil
		})
	}
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{JSONResponse: jsonResponse})
}

func connect(t *testing.T, url string, opts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := mcp.NewClient(&mcp.Implementation{Name: "e2e-client", Version: "1.0.0"}, opts)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url + "/mcp"}, nil)
	if err != nil {
		t.Fatalf("connect through the filter: %v", err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

func text(t *testing.T, content []mcp.Content) string {
	t.Helper()
	var b strings.Builder
	for _, c := range content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// The Go SDK client and server talk through the Envoy stand-in and the
// ext_proc server, with JSON and with SSE responses: an allowed call works,
// arguments and results are rewritten, a denied tool and resource are
// blocked with the design's error, and progress arrives before the result.
func TestGoSDKThroughFilter(t *testing.T) {
	for _, jsonResp := range []bool{true, false} {
		name := "sse"
		if jsonResp {
			name = "json"
		}
		t.Run(name, func(t *testing.T) {
			st := startStack(t, e2ePolicy, goServer(jsonResp))
			var mu sync.Mutex
			var progress []string
			cs := connect(t, st.URL, &mcp.ClientOptions{ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
				mu.Lock()
				progress = append(progress, r.Params.Message)
				mu.Unlock()
			}})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()

			// Allowed, with arguments rewritten on the way in.
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "CONFIDENTIAL memo"}})
			if err != nil || res.IsError || text(t, res.Content) != "echo: [masked] memo" {
				t.Fatalf("echo: %v %+v", err, res)
			}
			// Result rewritten on the way out.
			res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "read_file"})
			if err != nil || text(t, res.Content) != "the [masked] plan" {
				t.Fatalf("read_file: %v %q", err, text(t, res.Content))
			}
			// Blocked before the server.
			_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "delete_everything"})
			if err == nil || !strings.Contains(err.Error(), "tool not allowed") {
				t.Fatalf("delete_everything: want the policy error, got %v", err)
			}
			// Prompts and resources.
			pr, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "briefing"})
			if err != nil || text(t, []mcp.Content{pr.Messages[0].Content}) != "a [masked] briefing" {
				t.Fatalf("prompt: %v %+v", err, pr)
			}
			rr, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "docs://readme"})
			if err != nil || rr.Contents[0].Text != "[masked] contents" {
				t.Fatalf("resource: %v %+v", err, rr)
			}
			if _, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "secret://keys"}); err == nil || !strings.Contains(err.Error(), "resource not allowed") {
				t.Fatalf("secret resource: %v", err)
			}
			// A long-running tool: progress first, then the (masked) result.
			res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "long_job", Meta: mcp.Meta{"progressToken": "job-1"}})
			if err != nil || text(t, res.Content) != "done, [masked]" {
				t.Fatalf("long_job: %v %+v", err, res)
			}
			if !jsonResp {
				mu.Lock()
				got := strings.Join(progress, ",")
				mu.Unlock()
				if got != "step 1,step 2,step 3" {
					t.Fatalf("progress notifications: %q", got)
				}
			}
		})
	}
}

// The policy's tool_error style reaches the Go SDK client as a tool result
// the model can read.
func TestGoSDKToolErrorStyle(t *testing.T) {
	policy := strings.Replace(e2ePolicy, "  paths: [/mcp]\n", "  paths: [/mcp]\n  block_response: tool_error\n", 1)
	st := startStack(t, policy, goServer(false))
	cs := connect(t, st.URL, nil)
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "delete_everything"})
	if err != nil || !res.IsError || text(t, res.Content) != "tool not allowed: delete_everything is denied by policy" {
		t.Fatalf("%v %+v", err, res)
	}
}
