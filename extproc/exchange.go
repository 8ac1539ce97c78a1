package extproc

import (
	"context"
	"errors"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync/atomic"

	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"go.opentelemetry.io/otel/trace"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// exchange is the state of one ext_proc stream: one HTTP request through
// Envoy and its response (design section 1, "One exchange"). Its methods
// are the phases, in the order Envoy sends them; each returns the responses
// to send (exactly one per message, except in FULL_DUPLEX_STREAMED mode,
// where body responses are sent when there is something to send).
type exchange struct {
	s   *Server
	p   *policy
	cfg *framework.Config
	ctx context.Context

	protocol *extprocv3.ProtocolConfiguration
	done     bool // an immediate response ended the exchange

	// Request side.
	kind    exchangeKind
	reqHdrs headers
	session string
	global  framework.GlobalContext
	req     bodyStream

	// What the request asked, by JSON-RPC id: hooked requests wait for their
	// post hook; the others are known so that their results are not
	// mistaken for hooked ones by shape.
	pending     map[string]*mcpCall
	known       map[string]bool
	injected    [][]byte // errors of blocked batch elements, added to the response
	blockStatus int      // HTTP status a violation asked for
	// blockHeaders are the headers the violation that blocked asked for
	// (cpex's http_headers: Retry-After, X-RateLimit-*).
	blockHeaders map[string]string
	// allowHeaders and retryDelayMS are what the plugins that let a
	// message pass asked of the answer (cpex's result http_headers and
	// retry_delay_ms): set on the response headers after the pre hooks, on
	// a buffered JSON response body's answer after the post hooks.
	allowHeaders map[string]string
	retryDelayMS int

	// Response side.
	resp            bodyStream
	respHeadersSeen bool // Envoy sent the response headers
	// respMaybeSSE: the content type names an event stream among other
	// types; the buffered body is read as JSON, else as an event stream.
	respMaybeSSE bool

	facts exchangeFacts // told to Envoy as dynamic metadata (metadata.go)
	span  trace.Span    // the exchange's span when tracing (tracing.go)
}

type exchangeKind uint8

const (
	kindOther exchangeKind = iota // not MCP: no bodies requested
	kindPost                      // POST on an MCP path: JSON-RPC in the body
	kindGet                       // GET on an MCP path: a server-to-client SSE stream
)

func newExchange(s *Server, p *policy, ctx context.Context) *exchange {
	return &exchange{s: s, p: p, cfg: p.cfg, ctx: ctx, req: newBodyStream(true), resp: newBodyStream(false)}
}

// handle dispatches one message from Envoy.
func (e *exchange) handle(req *extprocv3.ProcessingRequest) []*extprocv3.ProcessingResponse {
	if pc := req.GetProtocolConfig(); pc != nil && e.protocol == nil {
		// The modes Envoy announces on the first message of the stream.
		e.protocol = pc
		e.req.mode, e.resp.mode = pc.GetRequestBodyMode(), pc.GetResponseBodyMode()
	}
	var out []*extprocv3.ProcessingResponse
	switch r := req.Request.(type) {
	case *extprocv3.ProcessingRequest_RequestHeaders:
		out = e.onRequestHeaders(r.RequestHeaders)
	case *extprocv3.ProcessingRequest_RequestBody:
		growStack()
		out = e.onRequestBody(r.RequestBody)
	case *extprocv3.ProcessingRequest_RequestTrailers:
		out = e.onRequestTrailers()
	case *extprocv3.ProcessingRequest_ResponseHeaders:
		out = e.onResponseHeaders(r.ResponseHeaders)
	case *extprocv3.ProcessingRequest_ResponseBody:
		growStack()
		out = e.onResponseBody(r.ResponseBody)
	case *extprocv3.ProcessingRequest_ResponseTrailers:
		out = []*extprocv3.ProcessingResponse{trailersResponse(false)}
	}
	if req.GetObservabilityMode() {
		return nil // Envoy ignores answers in observability mode
	}
	return e.withMetadata(out)
}

// stackReserve is how much stack a body phase may need: parsing, the
// pre or post hook, the plugins and their string walks, with room to
// spare (the deepest path measured about 10 KiB).
const stackReserve = 10 << 10

// growStack makes sure the goroutine has stackReserve of stack. gRPC
// serves each stream on a fresh goroutine with a 2 KiB stack; left to
// itself the stack doubles three times as a hook descends, each time
// copying the deep stack and adjusting every frame on it
// (runtime.copystack was 15% of an exchange's CPU). Asked for at a shallow
// point — when the stream starts, and again before each body phase in
// case a garbage collection shrank the stack of the waiting stream — the
// runtime grows it once to the size that fits, copying only the few
// frames above. On a stack already that large a call costs a few
// instructions: the frame is reserved, never cleared (clearing its 10 KiB
// on every call was 2% of the filter's CPU under load).
//
//go:noinline
func growStack() byte {
	// The frame holds reserve, so the prologue's stack check asks for all
	// of it; the array is declared (and so cleared) only in a branch never
	// taken, so a call on a stack already large enough costs nothing.
	if n := stackTouch.Load(); n != 0 {
		var reserve [stackReserve]byte
		reserve[n%stackReserve] = 1
		return reserve[(n+1)%stackReserve]
	}
	return 0
}

// stackTouch keeps growStack's frame from being optimised away; it is
// never set, so its branch is never taken.
var stackTouch atomic.Uint32

func one(r *extprocv3.ProcessingResponse) []*extprocv3.ProcessingResponse {
	return []*extprocv3.ProcessingResponse{r}
}

func (e *exchange) onRequestHeaders(h *extprocv3.HttpHeaders) []*extprocv3.ProcessingResponse {
	e.reqHdrs = headersFrom(h.GetHeaders())
	method := e.reqHdrs.get(":method")
	path, _, _ := strings.Cut(e.reqHdrs.get(":path"), "?")
	if !e.isMCPPath(path) || (method != "POST" && method != "GET") {
		resp := continueRequestHeaders(nil)
		resp.ModeOverride = skipBodies
		return one(resp)
	}
	e.global = identity(&e.cfg.MCP.Identity, e.reqHdrs)
	e.session = strings.Clone(e.reqHdrs.get("mcp-session-id")) // a key of the session table: not a view of the message
	e.startTrace()
	mut := &extprocv3.HeaderMutation{}
	if method == "GET" {
		if !e.p.readsResponses {
			resp := continueRequestHeaders(nil)
			resp.ModeOverride = skipBodies
			return one(resp)
		}
		e.kind = kindGet
	} else {
		e.kind = kindPost
		if enc := contentEncoding(e.reqHdrs); e.req.readWhole(enc, e.cfg.MCP.MaxBodyBytes) != nil {
			return e.reject(rejectUnsupportedEncoding, nil, 415, mcpparse.CodeInvalidRequest,
				"unsupported content-encoding "+strconv.Quote(enc))
		}
		if cl, err := strconv.Atoi(e.reqHdrs.get("content-length")); err == nil && cl > e.cfg.MCP.MaxBodyBytes {
			return e.reject(rejectBodyTooLarge, nil, 413, mcpparse.CodeInvalidRequest, e.tooLargeMessage())
		}
		if h.GetEndOfStream() {
			// A POST without a body cannot be MCP; the server will refuse it.
			return one(continueRequestHeaders(nil))
		}
	}
	// Ask the server for an uncompressed response so that hooked responses
	// can be read without decompressing (a compressed one is still decoded).
	if e.p.readsResponses {
		mut.SetHeaders = append(mut.SetHeaders, setHeader("accept-encoding", "identity"))
	}
	return one(continueRequestHeaders(mut))
}

// onRequestBody takes the request body as Envoy's mode delivers it (see
// bodyStream) and, once it is complete, runs the pre hooks on it. Only a
// POST's body is read; a GET on an MCP path must have none, and other
// exchanges' bodies (when Envoy sends them anyway) pass.
func (e *exchange) onRequestBody(b *extprocv3.HttpBody) []*extprocv3.ProcessingResponse {
	if e.done {
		return nil
	}
	if !e.reqHdrs.read {
		// Envoy's processing_mode skips request headers yet sends the
		// body: without the path, method, session and identity the body
		// cannot be judged as policy says, and passing it would let every
		// request through unread.
		return e.reject(rejectInvalid, nil, 500, -32603, // JSON-RPC internal error
			"mcp-extproc was sent a request body without its headers (ext_proc processing_mode request_header_mode: SKIP); it needs them to inspect the request")
	}
	if e.kind == kindGet && len(b.GetBody()) > 0 {
		// A GET on an MCP path carries no JSON-RPC; one with a body is not
		// passed on uninspected.
		return e.reject(rejectInvalid, nil, 400, mcpparse.CodeInvalidRequest, "a GET on an MCP path must not have a body")
	}
	answer, whole, err := e.req.add(b)
	switch {
	case err != nil:
		return e.rejectRequestBody(err)
	case whole:
		return e.finishRequestBody()
	case answer == nil:
		return nil
	}
	return one(answer)
}

func (e *exchange) onRequestTrailers() []*extprocv3.ProcessingResponse {
	var out []*extprocv3.ProcessingResponse
	if e.req.pending() && !e.done {
		// The body ended with trailers rather than an end-of-stream chunk.
		out = append(out, e.finishRequestBody()...)
		if e.done {
			return out
		}
	}
	return append(out, trailersResponse(true))
}

// finishRequestBody inspects the complete request body and answers Envoy.
func (e *exchange) finishRequestBody() []*extprocv3.ProcessingResponse {
	raw := e.req.raw()
	body, err := e.req.decode(raw)
	if err != nil {
		return e.rejectRequestBody(err)
	}
	d := e.inspectRequest(body)
	switch {
	case d.immediate != nil:
		e.done = true
		return one(d.immediate)
	case d.body != nil:
		return one(e.req.replace(d.body, d.headers))
	}
	return one(e.req.pass(raw, d.headers))
}

// rejectRequestBody answers a request body the server cannot read whole.
func (e *exchange) rejectRequestBody(err error) []*extprocv3.ProcessingResponse {
	switch {
	case errors.Is(err, errBodyTooLarge):
		return e.reject(rejectBodyTooLarge, nil, 413, mcpparse.CodeInvalidRequest, e.tooLargeMessage())
	case errors.Is(err, errPartialBody):
		// Envoy would pass the rest of the body on uninspected.
		return e.reject(rejectBodyTooLarge, nil, 413, mcpparse.CodeInvalidRequest,
			"request body exceeds Envoy's buffer (BUFFERED_PARTIAL); it cannot be inspected whole")
	case errors.Is(err, mcpparse.ErrTooLarge):
		return e.reject(rejectBodyTooLarge, nil, 413, mcpparse.CodeInvalidRequest, "decoded "+e.tooLargeMessage())
	case errors.Is(err, mcpparse.ErrUnsupportedEncoding):
		return e.reject(rejectUnsupportedEncoding, nil, 415, mcpparse.CodeInvalidRequest, err.Error())
	}
	return e.reject(rejectParse, nil, 400, mcpparse.CodeParseError, "request body could not be decoded ("+e.req.coding+")")
}

// hooked reports whether the response must be read: it may carry results
// that post hooks must see. With any post hook in the policy that is every
// POST and GET on an MCP path, not only those that asked something hooked:
// a server may answer a hooked request on the SSE stream of a later,
// unrelated POST of the same session (a ping), and a result is post-hooked
// by its shape when nothing else matches it.
func (e *exchange) hooked() bool {
	return e.kind == kindGet || len(e.injected) > 0 || (e.kind == kindPost && e.p.readsResponses)
}

func (e *exchange) onResponseHeaders(h *extprocv3.HttpHeaders) []*extprocv3.ProcessingResponse {
	if e.done {
		return nil
	}
	e.respHeadersSeen = true
	// What the pre hooks' plugins asked of the answer (resultheaders.go).
	return e.withAllowedHeaders(e.responseHeaders(h))
}

func (e *exchange) responseHeaders(h *extprocv3.HttpHeaders) []*extprocv3.ProcessingResponse {
	rh := headersFrom(h.GetHeaders())
	status, _ := strconv.Atoi(rh.get(":status"))
	if e.kind == kindOther || !e.hooked() || status < 200 || status > 299 || h.GetEndOfStream() {
		return one(e.skipResponseBody())
	}
	enc := contentEncoding(rh)
	switch mt := rh.mediaType(); {
	case mt != "text/event-stream" && strings.Contains(strings.ToLower(rh.get("content-type")), "text/event-stream"):
		// A content type that names an event stream among other things
		// ("text/event-stream,application/json", from a repeated header):
		// the Python and TypeScript SDKs read such a body as SSE, others as
		// JSON. It is buffered and read both ways.
		if e.resp.readWhole(enc, e.responseLimit()) != nil {
			return e.failClosed("response content-encoding " + strconv.Quote(enc) + " cannot be inspected")
		}
		e.respMaybeSSE = true
		return one(continueResponseHeaders(nil))
	case mt == "text/event-stream":
		if err := e.resp.readEvents(enc, e.responseLimit()); err != nil {
			return e.failClosed(err.Error())
		}
		resp := continueResponseHeaders(&extprocv3.HeaderMutation{RemoveHeaders: []string{"content-length"}})
		resp.ModeOverride = &filterv3.ProcessingMode{
			ResponseHeaderMode:  filterv3.ProcessingMode_SEND,
			ResponseBodyMode:    filterv3.ProcessingMode_STREAMED,
			ResponseTrailerMode: filterv3.ProcessingMode_SKIP,
		}
		return one(resp)
	default:
		// application/json, and any other type a hooked request is answered
		// with: a client might still read a result from it, so it is read too.
		if e.resp.readWhole(enc, e.responseLimit()) != nil {
			return e.failClosed("response content-encoding " + strconv.Quote(enc) + " cannot be inspected")
		}
		return one(continueResponseHeaders(nil))
	}
}

func (e *exchange) skipResponseBody() *extprocv3.ProcessingResponse {
	resp := continueResponseHeaders(nil)
	resp.ModeOverride = &filterv3.ProcessingMode{
		ResponseHeaderMode:  filterv3.ProcessingMode_SEND,
		ResponseBodyMode:    filterv3.ProcessingMode_NONE,
		ResponseTrailerMode: filterv3.ProcessingMode_SKIP,
	}
	return resp
}

// onResponseBody takes the response body as Envoy's mode delivers it: a
// body read whole is post-hooked once it is complete, an event stream
// event by event (onEvents).
func (e *exchange) onResponseBody(b *extprocv3.HttpBody) []*extprocv3.ProcessingResponse {
	if e.done {
		return nil
	}
	if e.resp.eventStream() {
		return one(e.onEvents(b))
	}
	if !e.respHeadersSeen && e.kind != kindOther && e.hooked() && !e.resp.read {
		// Envoy's processing_mode skips response headers but sends the
		// body: its content type and coding are unknown, so it is read
		// whole both ways (JSON, else an event stream), like a body whose
		// content type names both. Passing it would hand the client
		// results no post hook saw.
		e.s.logger.Warn("response body without its headers (ext_proc processing_mode response_header_mode: SKIP): read without its content type", "request_id", e.global.RequestID)
		_ = e.resp.readWhole("", e.responseLimit())
		e.respMaybeSSE = true
	}
	answer, whole, err := e.resp.add(b)
	switch {
	case errors.Is(err, errBodyTooLarge):
		return e.failClosed("response larger than " + strconv.Itoa(e.responseLimit()) + " bytes")
	case errors.Is(err, errPartialBody):
		return e.failClosed("response exceeds Envoy's buffer (BUFFERED_PARTIAL)")
	case whole && e.resp.mode == filterv3.ProcessingMode_BUFFERED:
		// What the post hooks' plugins ask of the answer can still be
		// set: a buffered body's headers have not left Envoy yet.
		return e.withAllowedHeaders(e.finishResponseBody())
	case whole:
		return e.finishResponseBody()
	case answer == nil:
		return nil
	}
	return one(answer)
}

// finishResponseBody post-hooks the results of a complete response body
// and answers Envoy. A body that arrived coded goes on decoded, changed or
// not: the client then reads exactly the bytes the filter read.
func (e *exchange) finishResponseBody() []*extprocv3.ProcessingResponse {
	raw := e.resp.raw()
	body, err := e.resp.decode(raw)
	if err != nil {
		return e.failClosed("response could not be decoded: " + err.Error())
	}
	out, changed, err := e.readBody(body)
	if err != nil {
		if e.cfg.MCP.OnUnreadableResponse != framework.OnUnreadableAllow {
			e.s.metrics.Unreadable.WithLabelValues("block").Inc()
			return e.failClosed(err.Error())
		}
		e.s.metrics.Unreadable.WithLabelValues("allow").Inc()
		e.s.logger.Warn("unreadable response passed unread (mcp.on_unreadable_response: allow)", "request_id", e.global.RequestID, "reason", err.Error())
		out, changed = nil, false
	}
	switch {
	case changed:
		return one(e.resp.replace(out, nil))
	case e.resp.coded():
		return one(e.resp.replace(body, nil))
	}
	return one(e.resp.pass(raw, nil))
}

// onEvents answers one chunk of an event stream with the complete events
// it ends — the unchanged ones byte for byte, the rewritten ones
// re-encoded. An incomplete trailing event is held back and sent with a
// later chunk; nothing else is buffered. An event that grows past the
// limit, or that cannot be read (on_unreadable_response: block), ends the
// stream: an error event is sent in its place and nothing after it reaches
// the client.
func (e *exchange) onEvents(b *extprocv3.HttpBody) *extprocv3.ProcessingResponse {
	events, err := e.resp.nextEvents(b)
	// The events go on mostly as they came (a mask is about the size of
	// what it hides), so one allocation with some room holds them.
	n := len(b.GetBody())
	out := make([]byte, 0, n+n/8+64)
	for _, ev := range events {
		var end bool
		if out, _, end = e.processEvent(out, ev); end {
			return e.resp.endEvents(out)
		}
	}
	if err != nil {
		e.s.metrics.Unreadable.WithLabelValues("block").Inc()
		out = append(out, e.sseError("event larger than "+strconv.Itoa(e.responseLimit())+" bytes")...)
		return e.resp.endEvents(out)
	}
	if b.GetEndOfStream() && len(e.injected) > 0 {
		for _, inj := range e.injected {
			out = mcpparse.AppendEvent(out, mcpparse.Event{Data: string(inj), HasData: true, Type: "message"})
		}
		e.injected = nil
	}
	return e.resp.answerEvents(b, out)
}

func (e *exchange) responseLimit() int {
	return max(e.cfg.MCP.MaxBodyBytes, e.cfg.Server.MaxMessageBytes)
}

// isMCPPath matches a request path against mcp.paths. Servers and routers
// disagree on what "/mcp/", "//mcp", "/a/../mcp" or "/%6Dcp" mean, so the
// path is compared in a canonical form (percent-decoded, cleaned,
// case-folded) and a configured path also covers everything below it: a
// request the server might route to its MCP handler is never left
// uninspected.
func (e *exchange) isMCPPath(raw string) bool {
	if len(e.p.paths) == 0 {
		return true
	}
	p := canonicalPath(raw)
	for _, c := range e.p.paths {
		if c.wildcard {
			if strings.HasPrefix(p, c.path) {
				return true
			}
			continue
		}
		if p == c.path || strings.HasPrefix(p, c.under) {
			return true
		}
	}
	return false
}

// mcpPath is one entry of mcp.paths as requests' paths are compared with
// it: a prefix ending in "*" (lower-cased), or a path (canonical) and the
// prefix of the paths below it.
type mcpPath struct {
	path, under string
	wildcard    bool
}

func mcpPaths(paths []string) []mcpPath {
	out := make([]mcpPath, 0, len(paths))
	for _, c := range paths {
		if prefix, ok := strings.CutSuffix(c, "*"); ok {
			out = append(out, mcpPath{path: strings.ToLower(prefix), wildcard: true})
			continue
		}
		c = canonicalPath(c)
		out = append(out, mcpPath{path: c, under: strings.TrimSuffix(c, "/") + "/"})
	}
	return out
}

func canonicalPath(p string) string {
	if u, err := url.PathUnescape(p); err == nil {
		p = u
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return strings.ToLower(path.Clean(p))
}

// anyPostHook reports whether any hook of the policy runs on responses
// (results or list results): then every response on an MCP path is read.
func anyPostHook(m *framework.Manager) bool {
	for _, h := range framework.Hooks {
		if !h.IsPre() && m.HasHook(h) {
			return true
		}
	}
	return false
}

func contentEncoding(h headers) string {
	enc := strings.ToLower(strings.TrimSpace(h.get("content-encoding")))
	if enc == "identity" {
		return ""
	}
	return enc
}

func (e *exchange) tooLargeMessage() string {
	return "request body exceeds the " + strconv.Itoa(e.cfg.MCP.MaxBodyBytes) + "-byte limit (mcp.max_body_bytes)"
}
