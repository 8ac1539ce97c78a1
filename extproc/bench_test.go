package extproc

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/mcp-extproc/mcp-extproc/examples"
	"github.com/mcp-extproc/mcp-extproc/framework"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/all"
)

// BenchmarkExchange plays one whole exchange — request headers, a 1 KiB
// tools/call body, response headers and a JSON result — over a real
// loopback gRPC connection, as Envoy would, for several policies side by side.
func BenchmarkExchange(b *testing.B) {
	args := `{"text":"` + strings.Repeat("lorem ipsum ", 80) + `"}`
	req := toolCallBody("1", "get_weather", args)
	resp := `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"` + strings.Repeat("sunny and warm ", 60) + `"}]}}`
	policies := []struct {
		name, yaml string
		reg        *framework.Registry
	}{
		{"empty", "plugins: []\n", testRegistry()},
		{"default", string(examples.DefaultPolicy), framework.DefaultRegistry()},
		{"deny+mask", testPolicy, testRegistry()},
	}
	for _, pc := range policies {
		b.Run(pc.name, func(b *testing.B) {
			cfg, _, err := framework.Parse([]byte(pc.yaml), pc.name, framework.LoadOptions{Registry: pc.reg, LookupEnv: func(string) (string, bool) { return "", false }})
			if err != nil {
				b.Fatal(err)
			}
			srv, err := NewServer(context.Background(), cfg, Options{Registry: pc.reg})
			if err != nil {
				b.Fatal(err)
			}
			client := loopbackClient(b, srv)
			msgs := []*extprocv3.ProcessingRequest{
				postHeaders(len(req)), reqBody(req, true),
				respHeaders("content-type", "application/json", "content-length", strconv.Itoa(len(resp))), respBody(resp, true),
			}
			b.SetBytes(int64(len(req) + len(resp)))
			b.ReportAllocs()
			for b.Loop() {
				if err := playExchange(client, msgs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// loopbackClient serves srv over a real loopback gRPC connection, as Envoy
// reaches it, for the life of the benchmark.
func loopbackClient(b *testing.B, srv *Server) extprocv3.ExternalProcessorClient {
	b.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	gs := grpc.NewServer(streamOptions()...)
	extprocv3.RegisterExternalProcessorServer(gs, srv)
	go func() { _ = gs.Serve(lis) }()
	b.Cleanup(gs.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	return extprocv3.NewExternalProcessorClient(conn)
}
