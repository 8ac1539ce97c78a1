// Command testpluginserver is a plugin server for framework/external's tests:
// it serves test kinds (a crashing one, a hanging one, a keyword blocker
// with a state counter) and every built-in kind, over STDIO or HTTP.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/framework/external"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/all"
)

type keyword struct{}

func (keyword) ToolPreInvoke(ctx context.Context, p *framework.ToolPreInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	n, _ := pc.State["calls"].(float64)
	pc.State = map[string]any{"calls": n + 1}
	if pc.Global != nil {
		pc.Global.State = map[string]any{"seen_by": "keyword"}
	}
	args := string(p.Args)
	switch {
	case strings.Contains(args, "crash-now"):
		os.Exit(3) // the server dies mid-call
	case strings.Contains(args, "hang-now"):
		<-ctx.Done()
		time.Sleep(time.Hour)
	case strings.Contains(args, "stderr-now"):
		// What a plugin's own prints look like: whole lines, a warning, and
		// a last line without its newline.
		fmt.Fprint(os.Stderr, "checking the arguments\nWARNING: the deny list is empty\n")
		fmt.Fprint(os.Stderr, "done, no news")
	case strings.Contains(args, "fail-now"):
		return framework.Result[framework.ToolPreInvokePayload]{}, fmt.Errorf("internal failure")
	case strings.Contains(args, "forbidden"):
		return framework.Result[framework.ToolPreInvokePayload]{Violation: &framework.Violation{
			Reason: "Keyword moderation", Description: "a banned word", Code: "KEYWORD_BLOCKED", Details: map[string]any{"word": "forbidden"}}}, nil
	case strings.Contains(args, "mask-me"):
		out := strings.ReplaceAll(args, "mask-me", "[masked]")
		return framework.Result[framework.ToolPreInvokePayload]{ModifiedPayload: &framework.ToolPreInvokePayload{Name: p.Name, Args: []byte(out), Headers: p.Headers}}, nil
	}
	return framework.Result[framework.ToolPreInvokePayload]{}, nil
}

func main() {
	framework.Register(framework.Kind{Name: "test_keyword", Hooks: []framework.HookType{framework.ToolPreInvoke},
		New: func(*framework.PluginConfig) (framework.Plugin, error) { return keyword{}, nil }})
	config := flag.String("config", "", "policy file")
	listen := flag.String("listen", "", "serve Streamable HTTP here instead of STDIO")
	flag.Parse()
	cfg, _, err := framework.Load(*config, framework.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	srv, err := external.NewServer(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	if *listen == "" {
		if err := srv.ServeStdio(context.Background()); err != nil {
			log.Print(err)
		}
		return
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on http://%s/mcp\n", l.Addr())
	log.Fatal(http.Serve(l, srv.Handler()))
}
