package envoytest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/proto"
)

// Config describes the filter and its surroundings.
type Config struct {
	// Filter is the ext_proc filter's typed_config, as in Envoy's config.
	Filter *filterv3.ExternalProcessor
	// Processor is a client for the ext_proc server.
	Processor extprocv3.ExternalProcessorClient
	// Upstream is the base URL of the upstream cluster (scheme://host:port);
	// paths, queries and the Host header are forwarded as received.
	Upstream *url.URL
	// BufferLimit is Envoy's per_connection_buffer_limit_bytes (default 1 MiB):
	// a body that must be buffered beyond it is answered 413 (request) or
	// 500 (response).
	BufferLimit int
	// Transport sends upstream requests (default: a transport that does not
	// decompress, so bodies travel as the upstream sent them).
	Transport http.RoundTripper
	// Logger receives one line per local reply; nil discards.
	Logger *slog.Logger
}

// Envoy's defaults.
const (
	defaultBufferLimit    = 1 << 20
	defaultMessageTimeout = 200 * time.Millisecond
)

// Proxy is the stand-in for a route with the ext_proc filter before the router.
type Proxy struct {
	cfg     Config
	timeout time.Duration
}

// New checks cfg and returns a Proxy.
func New(cfg Config) (*Proxy, error) {
	if cfg.Filter == nil || cfg.Processor == nil || cfg.Upstream == nil {
		return nil, errors.New("envoytest: Filter, Processor and Upstream are required")
	}
	if cfg.BufferLimit <= 0 {
		cfg.BufferLimit = defaultBufferLimit
	}
	if cfg.Transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DisableCompression = true
		cfg.Transport = t
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	timeout := defaultMessageTimeout
	if d := cfg.Filter.GetMessageTimeout(); d != nil {
		timeout = d.AsDuration()
	}
	return &Proxy{cfg: cfg, timeout: timeout}, nil
}

// modes is the effective processing mode of one exchange, with Envoy's
// defaults filled in (headers SEND, bodies NONE, trailers SKIP).
func initialModes(pm *filterv3.ProcessingMode) *filterv3.ProcessingMode {
	m := &filterv3.ProcessingMode{}
	if pm != nil {
		m = proto.Clone(pm).(*filterv3.ProcessingMode)
	}
	if m.RequestHeaderMode == filterv3.ProcessingMode_DEFAULT {
		m.RequestHeaderMode = filterv3.ProcessingMode_SEND
	}
	if m.ResponseHeaderMode == filterv3.ProcessingMode_DEFAULT {
		m.ResponseHeaderMode = filterv3.ProcessingMode_SEND
	}
	return m
}

// exchange is one request through the proxy.
type exchange struct {
	p    *Proxy
	w    http.ResponseWriter
	r    *http.Request
	mode *filterv3.ProcessingMode
	ps   *procStream
	// bypass: failure_mode_allow took over, no more processing.
	bypass bool
	// reqDone closes when a streamed request body's messages are done.
	reqDone chan struct{}
	// wrote: the response headers have gone to the client.
	wrote bool
}

// localReply is an answer Envoy makes itself (an error or an immediate response).
type localReply struct {
	status  int
	header  http.Header
	body    []byte
	details string
}

func (l *localReply) Error() string { return fmt.Sprintf("local reply %d (%s)", l.status, l.details) }

func errorReply(status int, details string) *localReply {
	return &localReply{status: status, header: http.Header{"Content-Type": {"text/plain"}}, body: []byte(details), details: details}
}

// ServeHTTP forwards one request through the ext_proc filter.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := &exchange{p: p, w: w, r: r, mode: initialModes(p.cfg.Filter.GetProcessingMode())}
	ps, err := openStream(r.Context(), p.cfg.Processor, p.timeout, &extprocv3.ProtocolConfiguration{
		RequestBodyMode:  x.mode.RequestBodyMode,
		ResponseBodyMode: x.mode.ResponseBodyMode,
	})
	if err != nil {
		if !p.cfg.Filter.GetFailureModeAllow() {
			x.reply(errorReply(http.StatusInternalServerError, "ext_proc_error_gRPC_error_open"))
			return
		}
		x.bypass = true
	} else {
		x.ps = ps
		defer ps.close()
	}
	if err := x.run(); err != nil {
		var lr *localReply
		if errors.As(err, &lr) {
			x.reply(lr)
			return
		}
		p.cfg.Logger.Warn("envoytest: exchange aborted", "error", err.Error())
		panic(http.ErrAbortHandler) // the response had started: reset, as Envoy does
	}
}

// call sends one message and maps failures the way Envoy does: a
// message_timeout is 504 and any other stream failure 500, unless
// failure_mode_allow lets the exchange continue unprocessed.
func (x *exchange) call(req *extprocv3.ProcessingRequest) (*extprocv3.ProcessingResponse, error) {
	if x.bypass {
		return nil, nil
	}
	resp, err := x.ps.roundTrip(req)
	if err == nil {
		return resp, nil
	}
	if x.p.cfg.Filter.GetFailureModeAllow() {
		x.bypass = true
		return nil, nil
	}
	if errors.Is(err, errTimeout) {
		return nil, errorReply(http.StatusGatewayTimeout, "ext_proc_error_message_timeout")
	}
	return nil, errorReply(http.StatusInternalServerError, "ext_proc_error_gRPC_error: "+err.Error())
}

// immediateOf turns an ImmediateResponse into a local reply.
func immediateOf(resp *extprocv3.ProcessingResponse) *localReply {
	ir := resp.GetImmediateResponse()
	if ir == nil {
		return nil
	}
	status := int(ir.GetStatus().GetCode())
	if status == 0 {
		status = http.StatusOK
	}
	h := http.Header{}
	applyHeaderMutation(h, ir.GetHeaders())
	return &localReply{status: status, header: h, body: ir.GetBody(), details: "immediate_response: " + ir.GetDetails()}
}

// overrideModes applies mode_override when the filter allows it; otherwise
// it is ignored, as Envoy ignores it.
func (x *exchange) overrideModes(resp *extprocv3.ProcessingResponse) {
	mo := resp.GetModeOverride()
	if mo == nil || !x.p.cfg.Filter.GetAllowModeOverride() || x.p.cfg.Filter.GetSendBodyWithoutWaitingForHeaderResponse() {
		return
	}
	x.mode.RequestBodyMode = mo.RequestBodyMode
	x.mode.ResponseBodyMode = mo.ResponseBodyMode
	x.mode.RequestTrailerMode = mo.RequestTrailerMode
	x.mode.ResponseTrailerMode = mo.ResponseTrailerMode
	if mo.ResponseHeaderMode != filterv3.ProcessingMode_DEFAULT {
		x.mode.ResponseHeaderMode = mo.ResponseHeaderMode
	}
}

// contentLengthKept reports whether Envoy keeps content-length with this
// body mode: only BUFFERED with headers sent (the processor must then keep
// it right), or when the body is not processed at all.
func contentLengthKept(body filterv3.ProcessingMode_BodySendMode, headers filterv3.ProcessingMode_HeaderSendMode, allowCL bool) bool {
	switch body {
	case filterv3.ProcessingMode_NONE:
		return true
	case filterv3.ProcessingMode_BUFFERED:
		return headers == filterv3.ProcessingMode_SEND || allowCL
	}
	return allowCL
}

func (x *exchange) run() error {
	r := x.r
	reqHeader := r.Header.Clone()
	if reqHeader.Get("X-Request-Id") == "" {
		reqHeader.Set("X-Request-Id", newRequestID()) // the HCM's generate_request_id
	}
	hasBody := r.ContentLength != 0
	if x.mode.RequestHeaderMode == filterv3.ProcessingMode_SEND && !x.bypass {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		pseudo := [][2]string{{":method", r.Method}, {":path", r.URL.RequestURI()}, {":authority", r.Host}, {":scheme", scheme}}
		hm := headerMap(pseudo, reqHeader)
		if r.ContentLength > 0 {
			hm.Headers = append(hm.Headers, headerEntry("content-length", strconv.FormatInt(r.ContentLength, 10)))
		}
		resp, err := x.call(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestHeaders{
			RequestHeaders: &extprocv3.HttpHeaders{Headers: hm, EndOfStream: !hasBody}}})
		if err != nil {
			return err
		}
		if resp != nil {
			if lr := immediateOf(resp); lr != nil {
				return lr
			}
			rh := resp.GetRequestHeaders()
			if rh == nil {
				return x.spurious(resp)
			}
			applyHeaderMutation(reqHeader, rh.GetResponse().GetHeaderMutation())
			x.overrideModes(resp)
		}
	}

	// The upstream request, its body shaped by the request body mode.
	body, length, err := x.requestBody(reqHeader, hasBody)
	if err != nil {
		return err
	}
	up := x.p.cfg.Upstream
	target := &url.URL{Scheme: up.Scheme, Host: up.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	out, err := http.NewRequestWithContext(ctx, r.Method, target.String(), body)
	if err != nil {
		return errorReply(http.StatusInternalServerError, err.Error())
	}
	out.Host = r.Host
	out.Header = reqHeader
	out.ContentLength = length
	if length >= 0 {
		out.Header.Set("Content-Length", strconv.FormatInt(length, 10))
	} else {
		out.Header.Del("Content-Length")
	}
	resp, err := x.p.cfg.Transport.RoundTrip(out)
	if err != nil {
		var lr *localReply
		if errors.As(err, &lr) {
			return lr // an immediate response while the request body streamed
		}
		return errorReply(http.StatusServiceUnavailable, "upstream_reset_before_response_started: "+err.Error())
	}
	defer resp.Body.Close()
	return x.response(resp)
}

func (x *exchange) spurious(resp *extprocv3.ProcessingResponse) error {
	if x.p.cfg.Filter.GetFailureModeAllow() {
		x.bypass = true
		return nil
	}
	return errorReply(http.StatusInternalServerError, fmt.Sprintf("ext_proc_error_spurious_message %T", resp.Response))
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// readLimited reads all of r, failing past limit.
func readLimited(r io.Reader, limit int) ([]byte, bool, error) {
	b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, false, err
	}
	if len(b) > limit {
		return b[:limit], false, nil
	}
	return b, true, nil
}
