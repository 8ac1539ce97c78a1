package extproc

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/mcp-extproc/mcp-extproc/framework"
	"golang.org/x/net/http/httpguts"
)

// Builders for the ProcessingResponses the exchange sends. Each phase of
// Envoy's filter expects its own response type; these keep that mapping in
// one place.

func continueRequestHeaders(mut *extprocv3.HeaderMutation) *extprocv3.ProcessingResponse {
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestHeaders{
		RequestHeaders: &extprocv3.HeadersResponse{Response: &extprocv3.CommonResponse{HeaderMutation: mut}},
	}}
}

func continueResponseHeaders(mut *extprocv3.HeaderMutation) *extprocv3.ProcessingResponse {
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseHeaders{
		ResponseHeaders: &extprocv3.HeadersResponse{Response: &extprocv3.CommonResponse{HeaderMutation: mut}},
	}}
}

// skipBodies tells Envoy to send nothing more of this exchange.
var skipBodies = &filterv3.ProcessingMode{
	RequestBodyMode:     filterv3.ProcessingMode_NONE,
	ResponseHeaderMode:  filterv3.ProcessingMode_SKIP,
	ResponseBodyMode:    filterv3.ProcessingMode_NONE,
	RequestTrailerMode:  filterv3.ProcessingMode_SKIP,
	ResponseTrailerMode: filterv3.ProcessingMode_SKIP,
}

func bodyResponse(request bool, common *extprocv3.CommonResponse) *extprocv3.ProcessingResponse {
	br := &extprocv3.BodyResponse{Response: common}
	if request {
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestBody{RequestBody: br}}
	}
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseBody{ResponseBody: br}}
}

// continueBody lets a body (chunk) pass unchanged.
func continueBody(request bool) *extprocv3.ProcessingResponse {
	return bodyResponse(request, &extprocv3.CommonResponse{})
}

// clearBody drops the body chunk.
func clearBody(request bool) *extprocv3.ProcessingResponse {
	return bodyResponse(request, &extprocv3.CommonResponse{
		BodyMutation: &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_ClearBody{ClearBody: true}},
	})
}

// replaceBody replaces the body (BUFFERED) or the current chunk (STREAMED)
// with b. In BUFFERED mode Envoy keeps the content-length header it sent, so
// setLength rewrites it to match; in STREAMED mode Envoy has removed it.
func replaceBody(request bool, b []byte, setLength bool) *extprocv3.ProcessingResponse {
	common := &extprocv3.CommonResponse{
		BodyMutation: &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_Body{Body: b}},
	}
	if setLength {
		common.HeaderMutation = &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{
			setHeader("content-length", strconv.Itoa(len(b))),
		}}
	}
	return bodyResponse(request, common)
}

// streamedBody answers a FULL_DUPLEX_STREAMED body: Envoy forwards exactly
// the bytes sent here, in order, and ends the body with endOfStream.
func streamedBody(request bool, b []byte, endOfStream bool) *extprocv3.ProcessingResponse {
	return bodyResponse(request, &extprocv3.CommonResponse{
		BodyMutation: &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_StreamedResponse{
			StreamedResponse: &extprocv3.StreamedBodyResponse{Body: b, EndOfStream: endOfStream},
		}},
	})
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

func trailersResponse(request bool) *extprocv3.ProcessingResponse {
	if request {
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestTrailers{RequestTrailers: &extprocv3.TrailersResponse{}}}
	}
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseTrailers{ResponseTrailers: &extprocv3.TrailersResponse{}}}
}

// immediate answers the client directly with a JSON body; the MCP server
// never sees the request (or its response is replaced). headers are a
// violation's (Retry-After, X-RateLimit-*: cpex's http_headers): names and
// values that are not valid HTTP, pseudo-headers and the headers that frame
// the body are left out, so a plugin cannot break the response or smuggle a
// second one.
func immediate(status int, body []byte, details string, headers map[string]string) *extprocv3.ProcessingResponse {
	if status == 0 {
		status = 200
	}
	set := append([]*corev3.HeaderValueOption{setHeader("content-type", "application/json")}, pluginHeaders(headers)...)
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ImmediateResponse{
		ImmediateResponse: &extprocv3.ImmediateResponse{
			Status:  &typev3.HttpStatus{Code: typev3.StatusCode(status)},
			Headers: &extprocv3.HeaderMutation{SetHeaders: set},
			Body:    body,
			Details: details,
		},
	}}
}

// pluginHeaders are the headers plugins asked for, less those that frame the
// body or are not valid HTTP.
func pluginHeaders(headers map[string]string) []*corev3.HeaderValueOption {
	var set []*corev3.HeaderValueOption
	for _, k := range slices.Sorted(maps.Keys(headers)) {
		name := strings.ToLower(k)
		if framingHeaders[name] || strings.HasPrefix(name, ":") || !httpguts.ValidHeaderFieldName(name) || !httpguts.ValidHeaderFieldValue(headers[k]) {
			continue
		}
		set = append(set, setHeader(name, headers[k]))
	}
	return set
}

// framingHeaders are the headers the filter sets itself on a blocking answer.
var framingHeaders = map[string]bool{"content-type": true, "content-length": true, "transfer-encoding": true, "connection": true, "host": true}

func setHeader(k, v string) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{
		Header:       &corev3.HeaderValue{Key: k, RawValue: []byte(v)},
		AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
	}
}

// maxBlockMessage bounds the error message (and tool_error text) of a
// blocked message, in bytes of UTF-8. MCP clients show error.message and
// little else, so it carries the violation's reason and description; a
// plugin's long description must not turn it into a wall of text.
const maxBlockMessage = 300

// blockMessage is what a client shows for a blocked message:
// "<reason>: <description>", bounded to maxBlockMessage bytes and cut on a
// rune boundary with "…". A description that merely repeats the reason is
// not written twice; a violation without a reason falls back to its code.
func blockMessage(v *framework.Violation) string {
	reason, desc := strings.TrimSpace(v.Reason), strings.TrimSpace(v.Description)
	if reason == "" {
		reason = v.Code
	}
	if reason == "" {
		reason = "blocked by policy"
	}
	msg := reason
	if desc != "" && !strings.EqualFold(desc, reason) {
		msg += ": " + desc
	}
	return truncateUTF8(msg, maxBlockMessage)
}

// truncateUTF8 shortens s to at most n bytes, ending with "…" when cut, and
// never splits a rune. Invalid UTF-8 is cut at a byte like any rune start,
// and the JSON encoder replaces it.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	cut := n - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.TrimRight(s[:cut], " ") + ellipsis
}
