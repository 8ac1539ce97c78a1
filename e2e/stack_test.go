package e2e

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"

	"github.com/mcp-extproc/mcp-extproc/envoy"
	"github.com/mcp-extproc/mcp-extproc/extproc"
	"github.com/mcp-extproc/mcp-extproc/extproc/envoytest"
	"github.com/mcp-extproc/mcp-extproc/framework"
)

// stack is an MCP server behind the Envoy stand-in (configured with the
// ext_proc filter of envoy/envoy.yaml) and the ext_proc server.
type stack struct {
	URL      string // the proxy's base URL: clients use URL + "/mcp"
	Upstream string
	Server   *extproc.Server
}

func startStack(t *testing.T, policy string, upstream http.Handler) *stack {
	t.Helper()
	up := httptest.NewServer(upstream)
	t.Cleanup(up.Close)
	return startStackFor(t, policy, up.URL)
}

func startStackFor(t *testing.T, policy, upstreamURL string) *stack {
	t.Helper()
	cfg, _, err := framework.Parse([]byte(policy), "e2e-policy.yaml", framework.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := extproc.NewServer(context.Background(), cfg, extproc.Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(extproc.GRPCServerOptions(cfg)...)
	extprocv3.RegisterExternalProcessorServer(gs, srv)
	go func() { _ = gs.Serve(lis) }()
	filter, err := envoy.ShippedExtProcFilter()
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := envoytest.NewServer(filter, lis.Addr().String(), upstreamURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		proxy.Close()
		gs.Stop()
		_ = srv.Close(context.Background())
	})
	return &stack{URL: proxy.URL, Upstream: upstreamURL, Server: srv}
}
