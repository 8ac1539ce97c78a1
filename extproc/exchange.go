package extproc

import (
	"context"
	"net/url"
	"path"
	"strconv"
	"strings"

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
	reqBody []byte

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
	respKind respKind
	respBody []byte
	sse      *mcpparse.SSEDecoder
	sseEnded bool // an error event ended the stream: drop the rest
	respEnc  string
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

type respKind uint8

const (
	respNone respKind = iota
	respJSON
	respSSE
)

func newExchange(s *Server, p *policy, ctx context.Context) *exchange {
	return &exchange{s: s, p: p, cfg: p.cfg, ctx: ctx}
}

// handle dispatches one message from Envoy.
func (e *exchange) handle(req *extprocv3.ProcessingRequest) []*extprocv3.ProcessingResponse {
	if pc := req.GetProtocolConfig(); pc != nil && e.protocol == nil {
		e.protocol = pc
	}
	var out []*extprocv3.ProcessingResponse
	switch r := req.Request.(type) {
	case *extprocv3.ProcessingRequest_RequestHeaders:
		out = e.onRequestHeaders(r.RequestHeaders)
	case *extprocv3.ProcessingRequest_RequestBody:
		out = e.onRequestBody(r.RequestBody)
	case *extprocv3.ProcessingRequest_RequestTrailers:
		out = e.onRequestTrailers()
	case *extprocv3.ProcessingRequest_ResponseHeaders:
		out = e.onResponseHeaders(r.ResponseHeaders)
	case *extprocv3.ProcessingRequest_ResponseBody:
		out = e.onResponseBody(r.ResponseBody)
	case *extprocv3.ProcessingRequest_ResponseTrailers:
		out = []*extprocv3.ProcessingResponse{trailersResponse(false)}
	}
	if req.GetObservabilityMode() {
		return nil // Envoy ignores answers in observability mode
	}
	return e.withMetadata(out)
}

func one(r *extprocv3.ProcessingResponse) []*extprocv3.ProcessingResponse {
	return []*extprocv3.ProcessingResponse{r}
}

// requestBodyMode is the mode Envoy announced for request bodies (BUFFERED
// when it did not say: then each body message is answered as it comes).
func (e *exchange) requestBodyMode() filterv3.ProcessingMode_BodySendMode {
	if e.protocol != nil {
		return e.protocol.GetRequestBodyMode()
	}
	return filterv3.ProcessingMode_BUFFERED
}

func (e *exchange) onRequestHeaders(h *extprocv3.HttpHeaders) []*extprocv3.ProcessingResponse {
	e.reqHdrs = headersFrom(h.GetHeaders())
	method := e.reqHdrs[":method"]
	path, _, _ := strings.Cut(e.reqHdrs[":path"], "?")
	if !e.isMCPPath(path) || (method != "POST" && method != "GET") {
		resp := continueRequestHeaders(nil)
		resp.ModeOverride = skipBodies
		return one(resp)
	}
	e.global = identity(&e.cfg.MCP.Identity, e.reqHdrs)
	e.session = e.reqHdrs["mcp-session-id"]
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
		if enc := contentEncoding(e.reqHdrs); enc != "" && !mcpparse.SupportedEncoding(enc) {
			return e.reject(rejectUnsupportedEncoding, nil, 415, mcpparse.CodeInvalidRequest,
				"unsupported content-encoding "+strconv.Quote(enc))
		}
		if cl, err := strconv.Atoi(e.reqHdrs["content-length"]); err == nil && cl > e.cfg.MCP.MaxBodyBytes {
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

// isMCPPath matches a request path against mcp.paths. Servers and routers
// disagree on what "/mcp/", "//mcp", "/a/../mcp" or "/%6Dcp" mean, so the
// path is compared in a canonical form (percent-decoded, cleaned,
// case-folded) and a configured path also covers everything below it: a
// request the server might route to its MCP handler is never left
// uninspected.
func (e *exchange) isMCPPath(raw string) bool {
	paths := e.cfg.MCP.Paths
	if len(paths) == 0 {
		return true
	}
	p := canonicalPath(raw)
	for _, c := range paths {
		if prefix, ok := strings.CutSuffix(c, "*"); ok {
			if strings.HasPrefix(p, strings.ToLower(prefix)) {
				return true
			}
			continue
		}
		c = canonicalPath(c)
		if p == c || strings.HasPrefix(p, strings.TrimSuffix(c, "/")+"/") {
			return true
		}
	}
	return false
}

func canonicalPath(p string) string {
	if u, err := url.PathUnescape(p); err == nil {
		p = u
	}
	return strings.ToLower(path.Clean("/" + p))
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
	enc := strings.ToLower(strings.TrimSpace(h["content-encoding"]))
	if enc == "identity" {
		return ""
	}
	return enc
}

func (e *exchange) tooLargeMessage() string {
	return "request body exceeds the " + strconv.Itoa(e.cfg.MCP.MaxBodyBytes) + "-byte limit (mcp.max_body_bytes)"
}

// onRequestBody accumulates the body and, at its end, runs the pre hooks.
// In BUFFERED mode Envoy sends the whole body at once. In STREAMED mode each
// chunk is answered by clearing it (nothing reaches the server before the
// body is inspected) and the last one carries the whole, possibly rewritten,
// body. In FULL_DUPLEX_STREAMED mode nothing is answered until the end, then
// the body is sent back as one streamed response.
func (e *exchange) onRequestBody(b *extprocv3.HttpBody) []*extprocv3.ProcessingResponse {
	if e.done {
		return nil
	}
	mode := e.requestBodyMode()
	if e.kind == kindGet && len(b.GetBody()) > 0 {
		// A GET on an MCP path carries no JSON-RPC; one with a body is not
		// passed on uninspected.
		return e.reject(rejectInvalid, nil, 400, mcpparse.CodeInvalidRequest, "a GET on an MCP path must not have a body")
	}
	if e.kind != kindPost {
		if mode == filterv3.ProcessingMode_FULL_DUPLEX_STREAMED {
			return one(streamedBody(true, b.GetBody(), b.GetEndOfStream()))
		}
		return one(continueBody(true))
	}
	if len(e.reqBody)+len(b.GetBody()) > e.cfg.MCP.MaxBodyBytes {
		return e.reject(rejectBodyTooLarge, nil, 413, mcpparse.CodeInvalidRequest, e.tooLargeMessage())
	}
	e.reqBody = append(e.reqBody, b.GetBody()...)
	if !b.GetEndOfStream() {
		switch mode {
		case filterv3.ProcessingMode_FULL_DUPLEX_STREAMED:
			return nil
		case filterv3.ProcessingMode_BUFFERED_PARTIAL:
			// Envoy would pass the rest of the body on uninspected.
			return e.reject(rejectBodyTooLarge, nil, 413, mcpparse.CodeInvalidRequest,
				"request body exceeds Envoy's buffer (BUFFERED_PARTIAL); it cannot be inspected whole")
		case filterv3.ProcessingMode_STREAMED:
			return one(bodyResponse(true, &extprocv3.CommonResponse{
				BodyMutation: &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_ClearBody{ClearBody: true}},
			}))
		}
		// BUFFERED never sends a partial body; answer and keep going.
		return one(continueBody(true))
	}
	return e.finishRequestBody()
}

func (e *exchange) onRequestTrailers() []*extprocv3.ProcessingResponse {
	var out []*extprocv3.ProcessingResponse
	if e.kind == kindPost && e.reqBody != nil && !e.done && e.requestBodyMode() != filterv3.ProcessingMode_BUFFERED {
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
	body := e.reqBody
	e.reqBody = e.reqBody[:0:0]
	d := e.inspectRequest(body)
	if d.immediate != nil {
		e.done = true
		return one(d.immediate)
	}
	mode := e.requestBodyMode()
	switch mode {
	case filterv3.ProcessingMode_FULL_DUPLEX_STREAMED:
		if d.body == nil {
			d.body = body
		}
		return one(streamedBody(true, d.body, true))
	case filterv3.ProcessingMode_STREAMED:
		// Earlier chunks were cleared: the last one carries the whole body.
		if d.body == nil {
			d.body = body
		}
		return one(withHeaders(replaceBody(true, d.body, false), d.headers))
	}
	if d.body == nil && d.headers == nil {
		return one(continueBody(true))
	}
	if d.body == nil {
		return one(withHeaders(continueBody(true), d.headers))
	}
	return one(withHeaders(replaceBody(true, d.body, true), d.headers))
}

// withHeaders adds header changes to a body response.
func withHeaders(r *extprocv3.ProcessingResponse, mut *extprocv3.HeaderMutation) *extprocv3.ProcessingResponse {
	if mut == nil {
		return r
	}
	var common *extprocv3.CommonResponse
	switch b := r.Response.(type) {
	case *extprocv3.ProcessingResponse_RequestBody:
		common = b.RequestBody.Response
	case *extprocv3.ProcessingResponse_ResponseBody:
		common = b.ResponseBody.Response
	}
	if common.HeaderMutation == nil {
		common.HeaderMutation = mut
		return r
	}
	common.HeaderMutation.SetHeaders = append(common.HeaderMutation.SetHeaders, mut.SetHeaders...)
	common.HeaderMutation.RemoveHeaders = append(common.HeaderMutation.RemoveHeaders, mut.RemoveHeaders...)
	return r
}
