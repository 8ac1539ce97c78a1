package extproc

import (
	"strconv"
	"strings"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// cpex plugins that let a message pass may still ask something of the HTTP
// answer: http_headers (cpex-rate-limiter's X-RateLimit-Limit, -Remaining,
// -Reset on every call it allows) and retry_delay_ms (cpex-retry-with-
// backoff on a failed tool result, which ContextForge's gateway answers by
// calling the tool again). The adapter sets the headers on the response the
// client gets: those of the pre hooks on the response headers, those of
// the post hooks on a buffered JSON response (an event stream's headers
// are gone by then). It cannot retry a call — Envoy's router has settled
// the upstream response before ext_proc sees it — so retry_delay_ms
// becomes a Retry-After header (whole seconds, rounded up) for the client
// to act on, unless a plugin set Retry-After itself.

// noteAllowed gathers what an allowed hook run asked of the answer; the
// first plugin's word on a header wins, the delay is the longest.
func (e *exchange) noteAllowed(h map[string]string, delayMS int) {
	e.allowHeaders = framework.MergeHTTPHeaders(e.allowHeaders, h)
	e.retryDelayMS = max(e.retryDelayMS, delayMS)
}

// takeAllowedHeaders returns the header mutation of what was noted since
// the last call, nil when there is none.
func (e *exchange) takeAllowedHeaders() *extprocv3.HeaderMutation {
	h, delay := e.allowHeaders, e.retryDelayMS
	e.allowHeaders, e.retryDelayMS = nil, 0
	if delay > 0 {
		hasRetryAfter := false
		for k := range h {
			if strings.EqualFold(k, "retry-after") {
				hasRetryAfter = true
			}
		}
		if !hasRetryAfter {
			if h == nil {
				h = map[string]string{}
			}
			h["retry-after"] = strconv.Itoa((delay + 999) / 1000)
		}
	}
	set := pluginHeaders(h)
	if len(set) == 0 {
		return nil
	}
	return &extprocv3.HeaderMutation{SetHeaders: set}
}

// withAllowedHeaders adds what plugins asked of the answer to a response
// headers or body response.
func (e *exchange) withAllowedHeaders(out []*extprocv3.ProcessingResponse) []*extprocv3.ProcessingResponse {
	if len(out) == 0 || (e.allowHeaders == nil && e.retryDelayMS == 0) {
		return out
	}
	last := out[len(out)-1]
	var common *extprocv3.CommonResponse
	switch r := last.Response.(type) {
	case *extprocv3.ProcessingResponse_ResponseHeaders:
		common = r.ResponseHeaders.GetResponse()
		if common == nil {
			common = &extprocv3.CommonResponse{}
			r.ResponseHeaders.Response = common
		}
	case *extprocv3.ProcessingResponse_ResponseBody:
		common = r.ResponseBody.GetResponse()
		if common == nil {
			common = &extprocv3.CommonResponse{}
			r.ResponseBody.Response = common
		}
	default:
		return out // an immediate answer carries its own headers
	}
	mut := e.takeAllowedHeaders()
	if mut == nil {
		return out
	}
	if common.HeaderMutation == nil {
		common.HeaderMutation = mut
	} else {
		common.HeaderMutation.SetHeaders = append(common.HeaderMutation.SetHeaders, mut.SetHeaders...)
	}
	return out
}
