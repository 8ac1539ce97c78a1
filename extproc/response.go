package extproc

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"

	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// How a result was matched to its request: on its own stream, through the
// session table (another stream, a resumed GET), or by its shape.
const (
	matchStream  = "stream"
	matchSession = "session"
	matchShape   = "shape"
)

func (e *exchange) responseBodyMode() filterv3.ProcessingMode_BodySendMode {
	if e.respKind == respSSE {
		return filterv3.ProcessingMode_STREAMED // our own mode_override
	}
	if e.protocol != nil {
		return e.protocol.GetResponseBodyMode()
	}
	return filterv3.ProcessingMode_BUFFERED
}

// hooked reports whether the response must be read: it may carry results
// that post hooks must see.
func (e *exchange) hooked() bool {
	return e.kind == kindGet || len(e.pending) > 0 || len(e.injected) > 0
}

func (e *exchange) onResponseHeaders(h *extprocv3.HttpHeaders) []*extprocv3.ProcessingResponse {
	if e.done {
		return nil
	}
	rh := headersFrom(h.GetHeaders())
	status, _ := strconv.Atoi(rh[":status"])
	if e.kind == kindOther || !e.hooked() || status < 200 || status > 299 || h.GetEndOfStream() {
		return one(e.skipResponseBody())
	}
	e.respEnc = contentEncoding(rh)
	switch mt := rh.mediaType(); {
	case mt == "text/event-stream":
		if e.respEnc != "" {
			return e.failClosed("a compressed event stream cannot be inspected")
		}
		e.respKind = respSSE
		e.sse = mcpparse.NewSSEDecoder()
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
		if !mcpparse.SupportedEncoding(e.respEnc) {
			return e.failClosed("response content-encoding " + strconv.Quote(e.respEnc) + " cannot be inspected")
		}
		e.respKind = respJSON
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

// failClosed replaces a response that cannot be inspected with a JSON-RPC
// error: a result that might need masking never passes unread.
func (e *exchange) failClosed(msg string) []*extprocv3.ProcessingResponse {
	e.done = true
	id := mcpparse.NullID()
	if len(e.pending) == 1 {
		for _, pr := range e.pending {
			id = pr.id
		}
	}
	e.s.metrics.Rejections.WithLabelValues(rejectResponse).Inc()
	e.s.logger.Error("response withheld", "request_id", e.global.RequestID, "reason", msg)
	return one(immediate(502, mcpparse.ErrorResponse(id, -32603, "response could not be inspected by policy", map[string]any{"code": "UNINSPECTABLE_RESPONSE", "description": msg}), "mcp_extproc_uninspectable_response"))
}

func (e *exchange) responseLimit() int {
	return max(e.cfg.MCP.MaxBodyBytes, e.cfg.Server.MaxMessageBytes)
}

func (e *exchange) onResponseBody(b *extprocv3.HttpBody) []*extprocv3.ProcessingResponse {
	if e.done {
		return nil
	}
	switch e.respKind {
	case respJSON:
		return e.onJSONResponseBody(b)
	case respSSE:
		return e.onSSEResponseBody(b)
	}
	if e.responseBodyMode() == filterv3.ProcessingMode_FULL_DUPLEX_STREAMED {
		return one(streamedBody(false, b.GetBody(), b.GetEndOfStream()))
	}
	return one(continueBody(false))
}

func (e *exchange) onJSONResponseBody(b *extprocv3.HttpBody) []*extprocv3.ProcessingResponse {
	if len(e.respBody)+len(b.GetBody()) > e.responseLimit() {
		return e.failClosed("response larger than " + strconv.Itoa(e.responseLimit()) + " bytes")
	}
	e.respBody = append(e.respBody, b.GetBody()...)
	mode := e.responseBodyMode()
	if !b.GetEndOfStream() {
		switch mode {
		case filterv3.ProcessingMode_FULL_DUPLEX_STREAMED:
			return nil
		case filterv3.ProcessingMode_STREAMED:
			return one(bodyResponse(false, &extprocv3.CommonResponse{
				BodyMutation: &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_ClearBody{ClearBody: true}},
			}))
		case filterv3.ProcessingMode_BUFFERED_PARTIAL:
			return e.failClosed("response exceeds Envoy's buffer (BUFFERED_PARTIAL)")
		}
		return one(continueBody(false))
	}
	raw := e.respBody
	body := raw
	if e.respEnc != "" {
		dec, err := mcpparse.DecodeContent(e.respEnc, raw, e.responseLimit())
		if err != nil {
			return e.failClosed("response could not be decoded: " + err.Error())
		}
		body = dec
	}
	out, changed, err := e.processMessages(body, true)
	if err != nil && notJSON(body) {
		// Not JSON at all: no client reads a result from it.
		out, changed, err = nil, false, nil
	}
	if err != nil {
		return e.failClosed(err.Error())
	}
	if !changed && e.respEnc == "" {
		switch mode {
		case filterv3.ProcessingMode_FULL_DUPLEX_STREAMED:
			return one(streamedBody(false, raw, true))
		case filterv3.ProcessingMode_STREAMED:
			return one(replaceBody(false, raw, false))
		}
		return one(continueBody(false))
	}
	if !changed {
		out = body
	}
	var resp *extprocv3.ProcessingResponse
	switch mode {
	case filterv3.ProcessingMode_FULL_DUPLEX_STREAMED:
		resp = streamedBody(false, out, true)
	case filterv3.ProcessingMode_STREAMED:
		resp = replaceBody(false, out, false)
	default:
		resp = replaceBody(false, out, true)
	}
	if e.respEnc != "" {
		resp = withHeaders(resp, &extprocv3.HeaderMutation{RemoveHeaders: []string{"content-encoding"}})
	}
	return one(resp)
}

// onSSEResponseBody decodes events across chunk boundaries and answers each
// chunk with the complete events it ended — the unchanged ones byte for
// byte, the rewritten ones re-encoded. An incomplete trailing event is held
// back and sent with a later chunk; nothing else is buffered.
func (e *exchange) onSSEResponseBody(b *extprocv3.HttpBody) []*extprocv3.ProcessingResponse {
	events := e.sse.Feed(b.GetBody())
	if e.sse.Buffered() > e.responseLimit() {
		return one(replaceBody(false, e.sseError("event larger than "+strconv.Itoa(e.responseLimit())+" bytes"), false))
	}
	if b.GetEndOfStream() {
		events = append(events, e.sse.Flush()...)
	}
	var out bytes.Buffer
	changed := false
	for _, ev := range events {
		data, evChanged := e.processEvent(ev)
		if evChanged {
			changed = true
			out.Write(data)
		} else {
			out.Write(ev.Raw)
		}
	}
	if b.GetEndOfStream() && len(e.injected) > 0 {
		for _, inj := range e.injected {
			out.Write(mcpparse.EncodeEvent(mcpparse.Event{Data: string(inj), HasData: true, Type: "message"}))
		}
		e.injected = nil
		changed = true
	}
	if !changed && bytes.Equal(out.Bytes(), b.GetBody()) {
		return one(continueBody(false))
	}
	return one(replaceBody(false, out.Bytes(), false))
}

// processEvent post-hooks the JSON-RPC message an event carries.
func (e *exchange) processEvent(ev mcpparse.Event) ([]byte, bool) {
	data := []byte(ev.Data)
	if !ev.HasData || notJSON(data) {
		return nil, false // priming events, keep-alives, comments
	}
	out, changed, err := e.processMessages(data, false)
	if err != nil {
		return e.sseError(err.Error()), true
	}
	if !changed {
		return nil, false
	}
	ev.Data = string(out)
	return mcpparse.EncodeEvent(ev), true
}

func (e *exchange) sseError(msg string) []byte {
	e.s.metrics.Rejections.WithLabelValues(rejectResponse).Inc()
	e.s.logger.Error("response event withheld", "request_id", e.global.RequestID, "reason", msg)
	body := mcpparse.ErrorResponse(mcpparse.NullID(), -32603, "response could not be inspected by policy", map[string]any{"code": "UNINSPECTABLE_RESPONSE", "description": msg})
	return mcpparse.EncodeEvent(mcpparse.Event{Data: string(body), HasData: true})
}

var errUnreadable = errors.New("response is not valid JSON-RPC")

// processMessages runs the post hook of every result in body (one message
// or a batch) and returns the rewritten body. A body that cannot be parsed
// is an error: the caller withholds it.
func (e *exchange) processMessages(body []byte, injectBatch bool) ([]byte, bool, error) {
	// Protocol keys are still checked; case variants of other keys inside a
	// result are let through (plugins walk every string whatever its key).
	parsed, err := mcpparse.Parse(body, mcpparse.Options{AllowCaseVariantKeys: true})
	if err != nil {
		return nil, false, errors.Join(errUnreadable, err)
	}
	var edits []mcpparse.Edit
	var owner []int // the message each edit belongs to
	for i := range parsed.Messages {
		m := &parsed.Messages[i]
		if m.Kind != mcpparse.KindResponse || !m.Result.Present() {
			continue
		}
		if ed, ok := e.postHook(m); ok {
			edits = append(edits, ed)
			owner = append(owner, i)
		}
	}
	out, err := mcpparse.ApplyEdits(body, edits)
	if err != nil {
		return nil, false, err
	}
	changed := len(edits) > 0
	if injectBatch && len(e.injected) > 0 {
		parts := make([][]byte, 0, len(e.injected)+len(parsed.Messages))
		if parsed.Batch {
			// Each element, with its own edits, becomes one part.
			for i, m := range parsed.Messages {
				var own []mcpparse.Edit
				for k, o := range owner {
					if o == i {
						own = append(own, edits[k])
					}
				}
				part, err := applyShifted(body, m.Start, m.End, own)
				if err != nil {
					return nil, false, err
				}
				parts = append(parts, part)
			}
		} else {
			parts = append(parts, out)
		}
		parts = append(parts, e.injected...)
		e.injected = nil
		out, changed = mcpparse.BatchResponse(parts...), true
	}
	return out, changed, nil
}

// lookup finds the request a result answers.
func (e *exchange) lookup(id mcpparse.ID, result []byte) (pendingRequest, string, bool) {
	key := id.Key()
	if pr, ok := e.pending[key]; ok {
		return *pr, matchStream, true
	}
	if e.known[key] {
		return pendingRequest{}, "", false // a request of this exchange that no hook wraps
	}
	if pr, ok := e.s.sessions.Get(e.session, key); ok && !pr.ambiguous {
		return pr, matchSession, true
	}
	var hook framework.HookType
	switch mcpparse.ClassifyResult(result) {
	case mcpparse.FamilyTool:
		hook = framework.ToolPostInvoke
	case mcpparse.FamilyPrompt:
		hook = framework.PromptPostFetch
	case mcpparse.FamilyResource:
		hook = framework.ResourcePostFetch
	default:
		return pendingRequest{}, "", false
	}
	return pendingRequest{hook: hook, contexts: framework.NewContextTable(e.global)}, matchShape, true
}

// postHook runs the post hook for one result and returns the edit to make:
// the result replaced, or the whole message replaced by an error.
func (e *exchange) postHook(m *mcpparse.Message) (mcpparse.Edit, bool) {
	pr, how, ok := e.lookup(m.ID, m.Result.Bytes)
	if !ok || !e.p.mgr.HasHook(pr.hook) {
		return mcpparse.Edit{}, false
	}
	mgr := e.p.mgr
	var (
		v        *framework.Violation
		modified bool
		newRes   json.RawMessage
	)
	result := json.RawMessage(m.Result.Bytes)
	switch pr.hook {
	case framework.ToolPostInvoke:
		out := mgr.ToolPostInvoke(e.ctx, &framework.ToolPostInvokePayload{Name: pr.name, Result: result}, pr.contexts)
		v, modified = out.Violation, out.Modified
		if modified {
			newRes = out.Payload.Result
		}
	case framework.PromptPostFetch:
		out := mgr.PromptPostFetch(e.ctx, &framework.PromptPostFetchPayload{PromptID: pr.name, Result: result}, pr.contexts)
		v, modified = out.Violation, out.Modified
		if modified {
			newRes = out.Payload.Result
		}
	case framework.ResourcePostFetch:
		out := mgr.ResourcePostFetch(e.ctx, &framework.ResourcePostFetchPayload{URI: pr.name, Content: result}, pr.contexts)
		v, modified = out.Violation, out.Modified
		if modified {
			newRes = out.Payload.Content
		}
	}
	e.facts.result(pr.hook, pr.name, v, modified && !bytes.Equal(newRes, result))
	switch {
	case v != nil:
		e.s.metrics.Results.WithLabelValues(string(pr.hook), OutcomeBlocked, how).Inc()
		return mcpparse.Edit{Start: m.Start, End: m.End, New: e.blockBody(m.ID, v, pr.hook == framework.ToolPostInvoke)}, true
	case modified && !bytes.Equal(newRes, result):
		if !json.Valid(newRes) {
			e.s.logger.Error("a plugin returned a result that is not JSON; result withheld", "request_id", e.global.RequestID, "hook", string(pr.hook))
			return mcpparse.Edit{Start: m.Start, End: m.End, New: mcpparse.ErrorResponse(m.ID, -32603, "result could not be rewritten by policy", nil)}, true
		}
		e.s.metrics.Results.WithLabelValues(string(pr.hook), OutcomeModified, how).Inc()
		return m.Result.Replace(newRes), true
	}
	e.s.metrics.Results.WithLabelValues(string(pr.hook), OutcomeAllowed, how).Inc()
	return mcpparse.Edit{}, false
}
