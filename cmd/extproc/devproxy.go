package main

import (
	"net/url"

	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/mcp-extproc/mcp-extproc/extproc/envoytest"
)

// newDevProxy connects the Envoy stand-in to the ext_proc server.
func newDevProxy(filter *filterv3.ExternalProcessor, grpcAddr string, upstream *url.URL) (*envoytest.Proxy, error) {
	conn, err := grpc.NewClient("passthrough:///"+grpcAddr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20), grpc.MaxCallSendMsgSize(64<<20)))
	if err != nil {
		return nil, err
	}
	// Envoy's listener buffer limit in envoy.yaml is 4 MiB.
	return envoytest.New(envoytest.Config{Filter: filter, Processor: extprocv3.NewExternalProcessorClient(conn), Upstream: upstream, BufferLimit: 4 << 20})
}
