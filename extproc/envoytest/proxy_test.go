package envoytest

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"
)

// scripted is an ext_proc server whose answers a test writes: answer gets
// each message and returns the responses to send (none, one, or several).
type scripted struct {
	extprocv3.UnimplementedExternalProcessorServer
	mu     sync.Mutex
	seen   []*extprocv3.ProcessingRequest
	answer func(*extprocv3.ProcessingRequest) []*extprocv3.ProcessingResponse
}

func (s *scripted) Process(st extprocv3.ExternalProcessor_ProcessServer) error {
	for {
		req, err := st.Recv()
		if err != nil {
			return nil
		}
		s.mu.Lock()
		s.seen = append(s.seen, req)
		s.mu.Unlock()
		for _, r := range s.answer(req) {
			if err := st.Send(r); err != nil {
				return nil
			}
		}
	}
}

func (s *scripted) messages() []*extprocv3.ProcessingRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*extprocv3.ProcessingRequest(nil), s.seen...)
}

// passAll answers every message with an unmodified continue.
func passAll(req *extprocv3.ProcessingRequest) []*extprocv3.ProcessingResponse {
	return []*extprocv3.ProcessingResponse{pass(req)}
}

func pass(req *extprocv3.ProcessingRequest) *extprocv3.ProcessingResponse {
	c := &extprocv3.CommonResponse{}
	switch req.Request.(type) {
	case *extprocv3.ProcessingRequest_RequestHeaders:
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestHeaders{RequestHeaders: &extprocv3.HeadersResponse{Response: c}}}
	case *extprocv3.ProcessingRequest_RequestBody:
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestBody{RequestBody: &extprocv3.BodyResponse{Response: c}}}
	case *extprocv3.ProcessingRequest_ResponseHeaders:
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseHeaders{ResponseHeaders: &extprocv3.HeadersResponse{Response: c}}}
	case *extprocv3.ProcessingRequest_ResponseBody:
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseBody{ResponseBody: &extprocv3.BodyResponse{Response: c}}}
	}
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestTrailers{RequestTrailers: &extprocv3.TrailersResponse{}}}
}

func withBody(r *extprocv3.ProcessingResponse, body string, setCL bool) *extprocv3.ProcessingResponse {
	var c *extprocv3.CommonResponse
	switch x := r.Response.(type) {
	case *extprocv3.ProcessingResponse_RequestBody:
		c = x.RequestBody.Response
	case *extprocv3.ProcessingResponse_ResponseBody:
		c = x.ResponseBody.Response
	}
	c.BodyMutation = &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_Body{Body: []byte(body)}}
	if setCL {
		c.HeaderMutation = &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{{
			Header: &corev3.HeaderValue{Key: "content-length", RawValue: []byte(strconv.Itoa(len(body)))}, AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD}}}
	}
	return r
}

// upstreamRecord is what the upstream server received.
type upstreamRecord struct {
	mu      sync.Mutex
	method  string
	host    string
	path    string
	header  http.Header
	body    string
	cl      int64
	reached int
}

type rig struct {
	proc     *scripted
	upstream *upstreamRecord
	proxy    *httptest.Server
}

func newRig(t *testing.T, filter *filterv3.ExternalProcessor, answer func(*extprocv3.ProcessingRequest) []*extprocv3.ProcessingResponse, handler http.HandlerFunc) *rig {
	t.Helper()
	proc := &scripted{answer: answer}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	extprocv3.RegisterExternalProcessorServer(gs, proc)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	rec := &upstreamRecord{}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.method, rec.host, rec.path, rec.header, rec.body, rec.cl = r.Method, r.Host, r.URL.RequestURI(), r.Header.Clone(), string(b), r.ContentLength
		rec.reached++
		rec.mu.Unlock()
		if handler != nil {
			handler(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(up.Close)
	srv, err := NewServer(filter, lis.Addr().String(), up.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return &rig{proc: proc, upstream: rec, proxy: srv.http}
}

func buffered(allowOverride bool) *filterv3.ExternalProcessor {
	return &filterv3.ExternalProcessor{
		ProcessingMode: &filterv3.ProcessingMode{
			RequestHeaderMode: filterv3.ProcessingMode_SEND, RequestBodyMode: filterv3.ProcessingMode_BUFFERED,
			ResponseHeaderMode: filterv3.ProcessingMode_SEND, ResponseBodyMode: filterv3.ProcessingMode_BUFFERED,
		},
		AllowModeOverride: allowOverride,
		MessageTimeout:    durationpb.New(2 * time.Second),
	}
}

func post(t *testing.T, url, body string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Post(url+"/mcp?x=1", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func kinds(msgs []*extprocv3.ProcessingRequest) string {
	var out []string
	for _, m := range msgs {
		switch x := m.Request.(type) {
		case *extprocv3.ProcessingRequest_RequestHeaders:
			out = append(out, fmt.Sprintf("reqH(eos=%v)", x.RequestHeaders.EndOfStream))
		case *extprocv3.ProcessingRequest_RequestBody:
			out = append(out, fmt.Sprintf("reqB(%d,eos=%v)", len(x.RequestBody.Body), x.RequestBody.EndOfStream))
		case *extprocv3.ProcessingRequest_ResponseHeaders:
			out = append(out, fmt.Sprintf("respH(eos=%v)", x.ResponseHeaders.EndOfStream))
		case *extprocv3.ProcessingRequest_ResponseBody:
			out = append(out, fmt.Sprintf("respB(%d,eos=%v)", len(x.ResponseBody.Body), x.ResponseBody.EndOfStream))
		}
	}
	return strings.Join(out, " ")
}

// Envoy: with BUFFERED bodies, each body arrives whole in one message with
// end_of_stream; headers carry pseudo-headers; the path, query and Host are
// forwarded as received; x-request-id is generated.
func TestBufferedModeSequence(t *testing.T) {
	rg := newRig(t, buffered(false), passAll, nil)
	resp, body := post(t, rg.proxy.URL, `{"a":1}`)
	if resp.StatusCode != 200 || body != `{"ok":true}` {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if got := kinds(rg.proc.messages()); got != "reqH(eos=false) reqB(7,eos=true) respH(eos=false) respB(11,eos=true)" {
		t.Fatalf("sequence %s", got)
	}
	first := rg.proc.messages()[0]
	if first.GetProtocolConfig().GetRequestBodyMode() != filterv3.ProcessingMode_BUFFERED {
		t.Fatal("protocol_config must be sent on the first message")
	}
	hs := map[string]string{}
	for _, h := range first.GetRequestHeaders().GetHeaders().GetHeaders() {
		hs[h.Key] = string(h.RawValue)
	}
	if hs[":method"] != "POST" || hs[":path"] != "/mcp?x=1" || hs[":authority"] == "" || hs["content-length"] != "7" || hs["x-request-id"] == "" {
		t.Fatalf("headers %v", hs)
	}
	if rg.upstream.path != "/mcp?x=1" || rg.upstream.body != `{"a":1}` || !strings.HasPrefix(rg.upstream.host, "127.0.0.1:") {
		t.Fatalf("upstream got %+v", rg.upstream)
	}
}

// Envoy: in BUFFERED mode with headers sent, content-length is kept and the
// processor must set it to match a mutated body; if it does not, the
// mutation is rejected with a local reply (500).
func TestBufferedContentLengthRule(t *testing.T) {
	for _, setCL := range []bool{true, false} {
		rg := newRig(t, buffered(false), func(req *extprocv3.ProcessingRequest) []*extprocv3.ProcessingResponse {
			if req.GetRequestBody() != nil {
				return []*extprocv3.ProcessingResponse{withBody(pass(req), `{"rewritten":true}`, setCL)}
			}
			return passAll(req)
		}, nil)
		resp, _ := post(t, rg.proxy.URL, `{"a":1}`)
		if setCL {
			if resp.StatusCode != 200 || rg.upstream.body != `{"rewritten":true}` || rg.upstream.cl != 18 {
				t.Fatalf("with content-length set: %d, upstream %q cl %d", resp.StatusCode, rg.upstream.body, rg.upstream.cl)
			}
		} else if resp.StatusCode != 500 || rg.upstream.reached != 0 {
			t.Fatalf("stale content-length must be refused: %d, upstream reached %d", resp.StatusCode, rg.upstream.reached)
		}
	}
}

// Envoy: mode_override is honoured only with allow_mode_override.
func TestModeOverrideNeedsAllow(t *testing.T) {
	for _, allow := range []bool{true, false} {
		rg := newRig(t, buffered(allow), func(req *extprocv3.ProcessingRequest) []*extprocv3.ProcessingResponse {
			r := pass(req)
			if req.GetRequestHeaders() != nil {
				r.ModeOverride = &filterv3.ProcessingMode{RequestBodyMode: filterv3.ProcessingMode_NONE, ResponseHeaderMode: filterv3.ProcessingMode_SKIP}
			}
			return []*extprocv3.ProcessingResponse{r}
		}, nil)
		post(t, rg.proxy.URL, `{"a":1}`)
		got := kinds(rg.proc.messages())
		if allow && got != "reqH(eos=false)" {
			t.Fatalf("override allowed, sequence %s", got)
		}
		if !allow && got != "reqH(eos=false) reqB(7,eos=true) respH(eos=false) respB(11,eos=true)" {
			t.Fatalf("override not allowed must be ignored, sequence %s", got)
		}
	}
}

// Envoy: an ImmediateResponse answers the client; the upstream is not called.
func TestImmediateResponse(t *testing.T) {
	rg := newRig(t, buffered(false), func(req *extprocv3.ProcessingRequest) []*extprocv3.ProcessingResponse {
		if req.GetRequestBody() != nil {
			return []*extprocv3.ProcessingResponse{{Response: &extprocv3.ProcessingResponse_ImmediateResponse{ImmediateResponse: &extprocv3.ImmediateResponse{
				Status: &typev3.HttpStatus{Code: typev3.StatusCode_Forbidden}, Body: []byte(`{"denied":true}`),
				Headers: &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "content-type", RawValue: []byte("application/json")}}}},
			}}}}
		}
		return passAll(req)
	}, nil)
	resp, body := post(t, rg.proxy.URL, `{"a":1}`)
	if resp.StatusCode != 403 || body != `{"denied":true}` || resp.Header.Get("Content-Type") != "application/json" || rg.upstream.reached != 0 {
		t.Fatalf("%d %s %v reached=%d", resp.StatusCode, body, resp.Header, rg.upstream.reached)
	}
}

// Envoy: header mutations apply to the upstream request; pseudo-headers and
// host cannot be changed by default mutation rules.
func TestHeaderMutation(t *testing.T) {
	rg := newRig(t, buffered(false), func(req *extprocv3.ProcessingRequest) []*extprocv3.ProcessingResponse {
		r := pass(req)
		if req.GetRequestHeaders() != nil {
			r.GetRequestHeaders().Response.HeaderMutation = &extprocv3.HeaderMutation{
				SetHeaders: []*corev3.HeaderValueOption{
					{Header: &corev3.HeaderValue{Key: "x-added", RawValue: []byte("1")}},
					{Header: &corev3.HeaderValue{Key: "host", RawValue: []byte("evil")}},
				},
				RemoveHeaders: []string{"x-remove-me"},
			}
		}
		return []*extprocv3.ProcessingResponse{r}
	}, nil)
	req, _ := http.NewRequest("POST", rg.proxy.URL+"/mcp", strings.NewReader("{}"))
	req.Header.Set("X-Remove-Me", "x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if rg.upstream.header.Get("X-Added") != "1" || rg.upstream.header.Get("X-Remove-Me") != "" || rg.upstream.host == "evil" {
		t.Fatalf("upstream headers %v host %s", rg.upstream.header, rg.upstream.host)
	}
}

// Envoy: in STREAMED mode the body goes chunk by chunk, content-length is
// removed, and each chunk is forwarded as soon as its answer comes back —
// the client sees the first event before the upstream has finished.
func TestStreamedResponseChunkByChunk(t *testing.T) {
	release := make(chan struct{})
	filter := buffered(true)
	rg := newRig(t, filter, func(req *extprocv3.ProcessingRequest) []*extprocv3.ProcessingResponse {
		r := pass(req)
		if req.GetResponseHeaders() != nil {
			r.ModeOverride = &filterv3.ProcessingMode{ResponseBodyMode: filterv3.ProcessingMode_STREAMED}
		}
		if b := req.GetResponseBody(); b != nil {
			return []*extprocv3.ProcessingResponse{withBody(r, strings.ToUpper(string(b.Body)), false)}
		}
		return []*extprocv3.ProcessingResponse{r}
	}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(200)
		_, _ = w.Write([]byte("data: first\n\n"))
		w.(http.Flusher).Flush()
		<-release
		_, _ = w.Write([]byte("data: second\n\n"))
	})
	resp, err := http.Post(rg.proxy.URL+"/mcp", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ContentLength != -1 || resp.Header.Get("Content-Length") != "" {
		t.Fatal("content-length must be removed in STREAMED mode")
	}
	buf := make([]byte, 64)
	n, err := io.ReadAtLeast(resp.Body, buf, len("DATA: FIRST\n\n"))
	if err != nil || string(buf[:n]) != "DATA: FIRST\n\n" {
		t.Fatalf("first event: %q %v", buf[:n], err)
	}
	close(release)
	rest, _ := io.ReadAll(resp.Body)
	if string(rest) != "DATA: SECOND\n\n" {
		t.Fatalf("rest %q", rest)
	}
}

// Envoy: in STREAMED request mode content-length is removed and chunks are
// answered one by one; in FULL_DUPLEX_STREAMED the processor streams back
// whatever it wants and ends with end_of_stream.
func TestStreamedAndDuplexRequestBodies(t *testing.T) {
	for _, mode := range []filterv3.ProcessingMode_BodySendMode{filterv3.ProcessingMode_STREAMED, filterv3.ProcessingMode_FULL_DUPLEX_STREAMED} {
		t.Run(mode.String(), func(t *testing.T) {
			filter := buffered(false)
			filter.ProcessingMode.RequestBodyMode = mode
			var mu sync.Mutex
			var acc []byte
			rg := newRig(t, filter, func(req *extprocv3.ProcessingRequest) []*extprocv3.ProcessingResponse {
				b := req.GetRequestBody()
				if b == nil {
					return passAll(req)
				}
				if mode == filterv3.ProcessingMode_STREAMED {
					if len(b.Body) == 0 {
						return passAll(req) // a bare end_of_stream
					}
					return []*extprocv3.ProcessingResponse{withBody(pass(req), "<"+string(b.Body)+">", false)}
				}
				mu.Lock()
				defer mu.Unlock()
				acc = append(acc, b.Body...)
				if !b.EndOfStream {
					return nil
				}
				return []*extprocv3.ProcessingResponse{{Response: &extprocv3.ProcessingResponse_RequestBody{RequestBody: &extprocv3.BodyResponse{Response: &extprocv3.CommonResponse{
					BodyMutation: &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_StreamedResponse{StreamedResponse: &extprocv3.StreamedBodyResponse{Body: []byte("[" + string(acc) + "]"), EndOfStream: true}}}}}}}}
			}, nil)
			pr, pw := io.Pipe()
			go func() {
				_, _ = pw.Write([]byte("abc"))
				time.Sleep(50 * time.Millisecond)
				_, _ = pw.Write([]byte("def"))
				pw.Close()
			}()
			resp, err := http.Post(rg.proxy.URL+"/mcp", "application/json", pr)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			want := "<abc><def>"
			if mode == filterv3.ProcessingMode_FULL_DUPLEX_STREAMED {
				want = "[abcdef]"
			}
			if rg.upstream.body != want || rg.upstream.cl != -1 {
				t.Fatalf("upstream got %q (content-length %d), want %q chunked", rg.upstream.body, rg.upstream.cl, want)
			}
		})
	}
}

// Envoy: a processor that does not answer within message_timeout gets 504;
// with failure_mode_allow the request continues unprocessed.
func TestMessageTimeoutAndFailureModeAllow(t *testing.T) {
	for _, allow := range []bool{false, true} {
		filter := buffered(false)
		filter.MessageTimeout = durationpb.New(100 * time.Millisecond)
		filter.FailureModeAllow = allow
		rg := newRig(t, filter, func(req *extprocv3.ProcessingRequest) []*extprocv3.ProcessingResponse {
			if req.GetRequestBody() != nil {
				return nil // never answers
			}
			return passAll(req)
		}, nil)
		resp, body := post(t, rg.proxy.URL, `{"a":1}`)
		if !allow && (resp.StatusCode != 504 || rg.upstream.reached != 0) {
			t.Fatalf("timeout: %d %s reached=%d", resp.StatusCode, body, rg.upstream.reached)
		}
		if allow && (resp.StatusCode != 200 || rg.upstream.body != `{"a":1}`) {
			t.Fatalf("failure_mode_allow: %d upstream %q", resp.StatusCode, rg.upstream.body)
		}
	}
}

// Envoy: a processor that cannot be reached fails the request (500), unless
// failure_mode_allow.
func TestProcessorDown(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("up")) }))
	defer up.Close()
	lis, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := lis.Addr().String()
	lis.Close() // nothing listens there
	for _, allow := range []bool{false, true} {
		filter := buffered(false)
		filter.FailureModeAllow = allow
		srv, err := NewServer(filter, addr, up.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp, body := post(t, srv.URL, "{}")
		srv.Close()
		if !allow && resp.StatusCode != 500 {
			t.Fatalf("fail closed: %d %s", resp.StatusCode, body)
		}
		if allow && (resp.StatusCode != 200 || body != "up") {
			t.Fatalf("fail open: %d %s", resp.StatusCode, body)
		}
	}
}

// Envoy: a BUFFERED request body over the buffer limit is answered 413.
func TestBufferLimit(t *testing.T) {
	rg := newRig(t, buffered(false), passAll, nil)
	resp, _ := post(t, rg.proxy.URL, strings.Repeat("x", defaultBufferLimit+1))
	if resp.StatusCode != 413 || rg.upstream.reached != 0 {
		t.Fatalf("%d reached=%d", resp.StatusCode, rg.upstream.reached)
	}
}

// Envoy: a message of the wrong type for the phase is a protocol error (500).
func TestSpuriousMessage(t *testing.T) {
	rg := newRig(t, buffered(false), func(req *extprocv3.ProcessingRequest) []*extprocv3.ProcessingResponse {
		if req.GetRequestHeaders() != nil {
			return []*extprocv3.ProcessingResponse{pass(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseBody{}})}
		}
		return passAll(req)
	}, nil)
	if resp, _ := post(t, rg.proxy.URL, "{}"); resp.StatusCode != 500 {
		t.Fatalf("%d", resp.StatusCode)
	}
}
