// Command mcp-server is the example MCP server of the demo and of
// docker-compose.yaml: a small customer-support backend on the official Go
// MCP SDK whose tools, prompt and resources return the kind of data a
// policy should guard (emails, phone numbers, card numbers, a leaked key),
// plus a destructive tool a policy should deny and a slow one that reports
// progress.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func main() {
	addr := flag.String("http", "127.0.0.1:3001", "listen address")
	flag.Parse()
	handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return newServer() },
		&mcp.StreamableHTTPOptions{DisableLocalhostProtection: true})
	mux := http.NewServeMux()
	mux.Handle("/mcp", handler)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	log.Printf("example MCP server on http://%s/mcp", *addr)
	log.Fatal((&http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}).ListenAndServe())
}

type lookupArgs struct {
	CustomerID string `json:"customer_id" jsonschema:"the customer's id, e.g. c-1001"`
}

type noArgs struct{}

func newServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "example-support-desk", Version: "1.0.0"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "lookup_customer", Description: "Look up a customer record"},
		func(_ context.Context, _ *mcp.CallToolRequest, a lookupArgs) (*mcp.CallToolResult, any, error) {
			text := fmt.Sprintf("Customer %s: Jane Doe, jane.doe@example.com, +1 415 555 0142, card 4111 1111 1111 1111, SSN 123-45-6789", a.CustomerID)
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}, nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "get_deploy_config", Description: "Show the deployment configuration"},
		func(context.Context, *mcp.CallToolRequest, noArgs) (*mcp.CallToolResult, any, error) {
			text := "region: eu-west-1\naws_access_key_id: AKIAIOSFODNN7EXAMPLE\n"
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}, nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "delete_customer", Description: "Delete a customer (destructive)"},
		func(_ context.Context, _ *mcp.CallToolRequest, a lookupArgs) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "deleted " + a.CustomerID}}}, nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "export_report", Description: "A slow report that reports progress"},
		func(ctx context.Context, req *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, any, error) {
			for i := 1; i <= 3; i++ {
				if tok := req.Params.GetProgressToken(); tok != nil {
					_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: tok, Progress: float64(i), Total: 3})
				}
				time.Sleep(200 * time.Millisecond)
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "report ready: 3 tickets, contact ops@example.com"}}}, nil, nil
		})
	s.AddPrompt(&mcp.Prompt{Name: "reply_to_customer", Description: "Draft a reply"},
		func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{{Role: "user",
				Content: &mcp.TextContent{Text: "Draft a polite reply to jane.doe@example.com about ticket 42."}}}}, nil
		})
	for _, uri := range []string{"https://docs.example.com/runbook", "file:///etc/passwd"} {
		s.AddResource(&mcp.Resource{URI: uri, Name: uri, MIMEType: "text/plain"},
			func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
				return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, MIMEType: "text/plain",
					Text: "Runbook. On-call: +44 20 7946 0958. password: hunter2"}}}, nil
			})
	}
	return s
}
