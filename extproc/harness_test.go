package extproc

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// harness runs a Server behind an in-process gRPC connection and plays
// Envoy's side of ext_proc streams against it.
type harness struct {
	t       *testing.T
	srv     *Server
	client  extprocv3.ExternalProcessorClient
	reg     *prometheus.Registry
	metrics *Metrics
}

func newHarness(t *testing.T, policyYAML string, reg *framework.Registry) *harness {
	t.Helper()
	return newHarnessWith(t, policyYAML, reg, Options{})
}

// newHarnessWith is newHarness with server options (metrics and registry
// are the harness's own).
func newHarnessWith(t *testing.T, policyYAML string, reg *framework.Registry, opts Options) *harness {
	t.Helper()
	cfg, _, err := framework.Parse([]byte(policyYAML), "test-policy.yaml", framework.LoadOptions{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	promReg := prometheus.NewRegistry()
	metrics := NewMetrics(promReg)
	opts.Metrics, opts.Registry = metrics, reg
	srv, err := NewServer(context.Background(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	lis := bufconn.Listen(1 << 20)
	// The filter's options, with its codec checking each answer it writes.
	gs := grpc.NewServer(append(GRPCServerOptions(cfg), grpc.ForceServerCodecV2(checkingCodec{newExtprocCodec(), t}))...)
	extprocv3.RegisterExternalProcessorServer(gs, srv)
	go func() { _ = gs.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		gs.Stop()
		_ = srv.Close(context.Background())
	})
	return &harness{t: t, srv: srv, client: extprocv3.NewExternalProcessorClient(conn), reg: promReg, metrics: metrics}
}

// stream is one ext_proc stream, as Envoy's filter opens per HTTP request.
type stream struct {
	t *testing.T
	s extprocv3.ExternalProcessor_ProcessClient
	// protocol is sent on the first message, as Envoy does.
	protocol *extprocv3.ProtocolConfiguration
	sent     bool
}

func (h *harness) open(reqBody, respBody filterv3.ProcessingMode_BodySendMode) *stream {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	h.t.Cleanup(cancel)
	s, err := h.client.Process(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	return &stream{t: h.t, s: s, protocol: &extprocv3.ProtocolConfiguration{RequestBodyMode: reqBody, ResponseBodyMode: respBody}}
}

func (st *stream) send(req *extprocv3.ProcessingRequest) {
	st.t.Helper()
	if !st.sent {
		req.ProtocolConfig = st.protocol
		st.sent = true
	}
	if err := st.s.Send(req); err != nil {
		st.t.Fatalf("send: %v", err)
	}
}

func (st *stream) recv() *extprocv3.ProcessingResponse {
	st.t.Helper()
	r, err := st.s.Recv()
	if err != nil {
		st.t.Fatalf("recv: %v", err)
	}
	return r
}

// roundTrip sends one message and returns the one answer.
func (st *stream) roundTrip(req *extprocv3.ProcessingRequest) *extprocv3.ProcessingResponse {
	st.t.Helper()
	st.send(req)
	return st.recv()
}

func (st *stream) close() { _ = st.s.CloseSend() }

func hdrs(kv ...string) *corev3.HeaderMap {
	hm := &corev3.HeaderMap{}
	for i := 0; i+1 < len(kv); i += 2 {
		hm.Headers = append(hm.Headers, &corev3.HeaderValue{Key: kv[i], RawValue: []byte(kv[i+1])})
	}
	return hm
}

func reqHeaders(endOfStream bool, kv ...string) *extprocv3.ProcessingRequest {
	return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestHeaders{
		RequestHeaders: &extprocv3.HttpHeaders{Headers: hdrs(kv...), EndOfStream: endOfStream},
	}}
}

func postHeaders(bodyLen int, extra ...string) *extprocv3.ProcessingRequest {
	kv := append([]string{":method", "POST", ":path", "/mcp", ":authority", "mcp.local", "content-type", "application/json",
		"accept", "application/json, text/event-stream", "content-length", strconv.Itoa(bodyLen), "x-request-id", "req-1"}, extra...)
	return reqHeaders(false, kv...)
}

func reqBody(b string, eos bool) *extprocv3.ProcessingRequest {
	return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestBody{
		RequestBody: &extprocv3.HttpBody{Body: []byte(b), EndOfStream: eos},
	}}
}

func respHeaders(kv ...string) *extprocv3.ProcessingRequest {
	return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseHeaders{
		ResponseHeaders: &extprocv3.HttpHeaders{Headers: hdrs(append([]string{":status", "200"}, kv...)...)},
	}}
}

func respBody(b string, eos bool) *extprocv3.ProcessingRequest {
	return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseBody{
		ResponseBody: &extprocv3.HttpBody{Body: []byte(b), EndOfStream: eos},
	}}
}

// Inspectors of answers.

func commonOf(t *testing.T, r *extprocv3.ProcessingResponse) *extprocv3.CommonResponse {
	t.Helper()
	switch x := r.Response.(type) {
	case *extprocv3.ProcessingResponse_RequestHeaders:
		return x.RequestHeaders.GetResponse()
	case *extprocv3.ProcessingResponse_ResponseHeaders:
		return x.ResponseHeaders.GetResponse()
	case *extprocv3.ProcessingResponse_RequestBody:
		return x.RequestBody.GetResponse()
	case *extprocv3.ProcessingResponse_ResponseBody:
		return x.ResponseBody.GetResponse()
	}
	t.Fatalf("answer %T has no common response", r.Response)
	return nil
}

// mutatedBody returns the body a body answer replaces the body with, and
// whether it replaces it.
func mutatedBody(t *testing.T, r *extprocv3.ProcessingResponse) (string, bool) {
	t.Helper()
	commonOf(t, r) // fails the test on an answer with no common response
	return mutatedBodyOf(r)
}

func headerSet(c *extprocv3.CommonResponse, key string) (string, bool) {
	for _, h := range c.GetHeaderMutation().GetSetHeaders() {
		if strings.EqualFold(h.GetHeader().GetKey(), key) {
			v := h.GetHeader().GetValue()
			if v == "" {
				v = string(h.GetHeader().GetRawValue())
			}
			return v, true
		}
	}
	return "", false
}

func headerRemoved(c *extprocv3.CommonResponse, key string) bool {
	for _, k := range c.GetHeaderMutation().GetRemoveHeaders() {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

func immediateOf(t *testing.T, r *extprocv3.ProcessingResponse) *extprocv3.ImmediateResponse {
	t.Helper()
	ir, ok := r.Response.(*extprocv3.ProcessingResponse_ImmediateResponse)
	if !ok {
		t.Fatalf("answer is %T, want an ImmediateResponse", r.Response)
	}
	return ir.ImmediateResponse
}
