package envoytest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"

	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Server is a Proxy listening on 127.0.0.1, like httptest.Server: start it
// with NewServer, send requests to URL, stop it with Close.
type Server struct {
	URL   string
	Proxy *Proxy
	http  *httptest.Server
	conn  *grpc.ClientConn
}

// NewServer starts a proxy on a loopback port that sends ext_proc streams
// to the processor at processorAddr ("host:port" or "unix:///path") and
// requests to upstream.
func NewServer(filter *filterv3.ExternalProcessor, processorAddr, upstream string) (*Server, error) {
	u, err := url.Parse(upstream)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("envoytest: upstream %q is not a base URL", upstream)
	}
	conn, err := grpc.NewClient(dialTarget(processorAddr),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20), grpc.MaxCallSendMsgSize(64<<20)))
	if err != nil {
		return nil, err
	}
	p, err := New(Config{Filter: filter, Processor: extprocv3.NewExternalProcessorClient(conn), Upstream: u})
	if err != nil {
		conn.Close()
		return nil, err
	}
	hs := httptest.NewUnstartedServer(p)
	hs.Config.BaseContext = func(net.Listener) context.Context { return context.Background() }
	hs.Start()
	return &Server{URL: hs.URL, Proxy: p, http: hs, conn: conn}, nil
}

// Close stops the proxy and its processor connection.
func (s *Server) Close() {
	s.http.Close()
	s.conn.Close()
}

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.http.Client() }

func dialTarget(addr string) string {
	if len(addr) > 7 && addr[:7] == "unix://" {
		return addr
	}
	return "passthrough:///" + addr
}
