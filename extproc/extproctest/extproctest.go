// Package extproctest runs an mcp-extproc ext_proc server in process and
// plays whole MCP exchanges through it the way Envoy would, so that plugin
// tests can assert what a client and a server would see — including results
// delivered as SSE in arbitrary chunks — without a network or Envoy.
//
//	srv := extproctest.New(t, policyYAML)
//	out := srv.Call(t, `{"jsonrpc":"2.0","id":1,"method":"tools/call",…}`,
//		extproctest.SSE(`{"jsonrpc":"2.0","id":1,"result":{…}}`))
//	out.Blocked, out.Upstream (what the MCP server got), out.Client (what the client got)
package extproctest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/mcp-extproc/mcp-extproc/extproc"
	"github.com/mcp-extproc/mcp-extproc/framework"
)

// Server is an in-process ext_proc server for one policy.
type Server struct {
	Server *extproc.Server
	client extprocv3.ExternalProcessorClient
}

// New starts a server for the policy (kinds resolve in the default
// registry: import the plugin packages the policy uses). It stops with the test.
func New(t testing.TB, policyYAML string) *Server {
	t.Helper()
	cfg, _, err := framework.Parse([]byte(policyYAML), "test-policy.yaml", framework.LoadOptions{})
	if err != nil {
		t.Fatalf("extproctest: policy: %v", err)
	}
	return start(t, cfg)
}

// NewFile is New for a policy file, whose relative paths (Rego files, data
// files) are read from beside it, as the server reads them.
func NewFile(t testing.TB, path string) *Server {
	t.Helper()
	cfg, _, err := framework.Load(path, framework.LoadOptions{})
	if err != nil {
		t.Fatalf("extproctest: policy: %v", err)
	}
	return start(t, cfg)
}

func start(t testing.TB, cfg *framework.Config) *Server {
	t.Helper()
	srv, err := extproc.NewServer(context.Background(), cfg, extproc.Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("extproctest: %v", err)
	}
	lis := bufconn.Listen(1 << 20)
	gs := grpc.NewServer(append(extproc.GRPCServerOptions(cfg), grpc.MaxRecvMsgSize(64<<20))...)
	extprocv3.RegisterExternalProcessorServer(gs, srv)
	go func() { _ = gs.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///extproctest",
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
	return &Server{Server: srv, client: extprocv3.NewExternalProcessorClient(conn)}
}

// Response is what the MCP server answers.
type Response struct {
	ContentType string
	Body        string
	// ChunkSize splits the body into chunks of this many bytes (SSE); 0
	// sends it whole.
	ChunkSize int
}

// JSON is a JSON response.
func JSON(body string) Response { return Response{ContentType: "application/json", Body: body} }

// SSE wraps JSON-RPC messages as one event each, preceded by a priming
// event, and delivers the stream in 5-byte chunks so that events straddle
// chunk boundaries.
func SSE(messages ...string) Response {
	var b strings.Builder
	b.WriteString("id: prime\ndata:\n\n")
	for i, m := range messages {
		b.WriteString("event: message\nid: e" + strconv.Itoa(i) + "\ndata: " + m + "\n\n")
	}
	return Response{ContentType: "text/event-stream", Body: b.String(), ChunkSize: 5}
}

// Outcome is what each side saw.
type Outcome struct {
	// Blocked: the request never reached the server; Client holds the
	// immediate response and Status its HTTP status.
	Blocked bool
	Status  int
	// Headers are the immediate response's headers, when Blocked.
	Headers map[string]string
	// Upstream is the request body the MCP server received.
	Upstream string
	// Client is the response body the client received.
	Client string
}

// Call plays one POST exchange with its response and returns what each side saw.
func (s *Server) Call(t testing.TB, request string, resp Response, headers ...string) Outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := s.client.Process(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.CloseSend() }()
	rt := func(r *extprocv3.ProcessingRequest) *extprocv3.ProcessingResponse {
		t.Helper()
		if err := st.Send(r); err != nil {
			t.Fatalf("extproctest: send: %v", err)
		}
		out, err := st.Recv()
		if err != nil {
			t.Fatalf("extproctest: recv: %v", err)
		}
		return out
	}
	kv := append([]string{":method", "POST", ":path", "/mcp", "content-type", "application/json",
		"content-length", strconv.Itoa(len(request))}, headers...)
	h := rt(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestHeaders{
		RequestHeaders: &extprocv3.HttpHeaders{Headers: headerMap(kv...)}}})
	if out, done := immediate(h); done {
		return out
	}
	out := Outcome{Upstream: request}
	r := rt(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestBody{
		RequestBody: &extprocv3.HttpBody{Body: []byte(request), EndOfStream: true}}})
	if o, done := immediate(r); done {
		return o
	}
	if b, ok := mutation(r); ok {
		out.Upstream = b
	}
	h = rt(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseHeaders{
		ResponseHeaders: &extprocv3.HttpHeaders{Headers: headerMap(":status", "200", "content-type", resp.ContentType)}}})
	if o, done := immediate(h); done {
		o.Upstream = out.Upstream
		return o
	}
	if mo := h.GetModeOverride(); mo != nil && mo.GetResponseBodyMode() == filterv3.ProcessingMode_NONE {
		out.Client = resp.Body
		return out
	}
	chunks := []string{resp.Body}
	if resp.ChunkSize > 0 && h.GetModeOverride().GetResponseBodyMode() == filterv3.ProcessingMode_STREAMED {
		chunks = nil
		for i := 0; i < len(resp.Body); i += resp.ChunkSize {
			chunks = append(chunks, resp.Body[i:min(i+resp.ChunkSize, len(resp.Body))])
		}
	}
	var client strings.Builder
	for i, c := range chunks {
		r := rt(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseBody{
			ResponseBody: &extprocv3.HttpBody{Body: []byte(c), EndOfStream: i == len(chunks)-1}}})
		if o, done := immediate(r); done {
			o.Upstream = out.Upstream
			return o
		}
		if b, ok := mutation(r); ok {
			client.WriteString(b)
		} else {
			client.WriteString(c)
		}
	}
	out.Client = client.String()
	return out
}

func headerMap(kv ...string) *corev3.HeaderMap {
	hm := &corev3.HeaderMap{}
	for i := 0; i+1 < len(kv); i += 2 {
		hm.Headers = append(hm.Headers, &corev3.HeaderValue{Key: kv[i], RawValue: []byte(kv[i+1])})
	}
	return hm
}

func immediate(r *extprocv3.ProcessingResponse) (Outcome, bool) {
	ir := r.GetImmediateResponse()
	if ir == nil {
		return Outcome{}, false
	}
	headers := map[string]string{}
	for _, h := range ir.GetHeaders().GetSetHeaders() {
		headers[h.GetHeader().GetKey()] = string(h.GetHeader().GetRawValue())
	}
	return Outcome{Blocked: true, Status: int(ir.GetStatus().GetCode()), Headers: headers, Client: string(ir.GetBody())}, true
}

func mutation(r *extprocv3.ProcessingResponse) (string, bool) {
	var c *extprocv3.CommonResponse
	switch x := r.Response.(type) {
	case *extprocv3.ProcessingResponse_RequestBody:
		c = x.RequestBody.GetResponse()
	case *extprocv3.ProcessingResponse_ResponseBody:
		c = x.ResponseBody.GetResponse()
	}
	switch m := c.GetBodyMutation().GetMutation().(type) {
	case *extprocv3.BodyMutation_Body:
		return string(m.Body), true
	case *extprocv3.BodyMutation_StreamedResponse:
		return string(m.StreamedResponse.GetBody()), true
	case *extprocv3.BodyMutation_ClearBody:
		return "", m.ClearBody
	}
	return "", false
}
