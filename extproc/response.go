package extproc

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"unsafe"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"github.com/tidwall/gjson"

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

// failClosed replaces a response that cannot be inspected with a JSON-RPC
// error: a result that might need masking never passes unread.
func (e *exchange) failClosed(msg string) []*extprocv3.ProcessingResponse {
	e.done = true
	id := e.withheldID()
	e.s.metrics.Rejections.WithLabelValues(rejectResponse).Inc()
	e.s.logger.Error("response withheld", "request_id", e.global.RequestID, "reason", msg)
	return one(immediate(502, mcpparse.ErrorResponse(id, -32603, "response could not be inspected by policy", map[string]any{"code": "UNINSPECTABLE_RESPONSE", "description": msg}), "mcp_extproc_uninspectable_response", nil))
}

// withheldID is the id an error replacing an unreadable response answers:
// the exchange's one hooked request, or null when that is not known.
func (e *exchange) withheldID() mcpparse.ID {
	if len(e.pending) == 1 {
		for _, pr := range e.pending {
			return pr.id
		}
	}
	return mcpparse.NullID()
}

// readBody reads a complete JSON response body the way clients do and
// post-hooks the results in it. A UTF-8 BOM is skipped (fetch and Node's
// response.json() strip it); a body of only white space carries nothing. A
// body served as both JSON and an event stream that is not JSON is read as
// a whole event stream. Anything else that does not parse is an error: the
// caller decides what on_unreadable_response says.
func (e *exchange) readBody(body []byte) ([]byte, bool, error) {
	text := bytes.TrimPrefix(body, utf8BOM)
	if len(bytes.TrimLeft(text, " \t\r\n")) == 0 {
		return nil, false, nil
	}
	out, changed, err := e.processMessages(text, true)
	if err == nil || !e.respMaybeSSE {
		return out, changed, err
	}
	dec := mcpparse.NewSSEDecoder()
	events := append(dec.Feed(body), dec.Flush()...)
	out = make([]byte, 0, len(body))
	changed = false
	for _, ev := range events {
		var evChanged, end bool
		out, evChanged, end = e.processEvent(out, ev)
		if end {
			return nil, false, errors.New("an event of the response is not JSON-RPC")
		}
		changed = changed || evChanged
	}
	return out, changed, nil
}

var utf8BOM = []byte("\xEF\xBB\xBF")

// processEvent post-hooks the JSON-RPC message an event carries and
// appends to dst what to send for it: the event's raw bytes, or the event
// re-encoded (changed). end reports an event that cannot be read
// (on_unreadable_response: block): what was appended is then the error
// event that ends the stream.
//
// The data is read as the most lenient client reads it (Event.JSONData). An
// event whose lines a client splitting only at LF would frame differently
// (a bare CR) is re-encoded with LF endings, so that every client reads the
// event the filter read. An event of a type other than "message" whose data
// is not JSON (the legacy SSE transport's "endpoint" event) is no result to
// any client and passes.
func (e *exchange) processEvent(dst []byte, ev mcpparse.Event) (out []byte, changed, end bool) {
	reencode := ev.HasBareCR()
	data := ev.JSONData()
	if !ev.HasData || data == "" {
		if reencode {
			return mcpparse.AppendEvent(dst, ev), true, false
		}
		return append(dst, ev.Raw...), false, false
	}
	// The data is read in place: parsing and the plugins only read the
	// message, and a rewrite is a new one (ApplyEdits).
	rewritten, changed, err := e.processMessages(unsafe.Slice(unsafe.StringData(data), len(data)), false)
	switch {
	case err != nil && !isMessageEvent(ev):
	case err != nil && e.cfg.MCP.OnUnreadableResponse == framework.OnUnreadableAllow:
		e.s.metrics.Unreadable.WithLabelValues("allow").Inc()
		e.s.logger.Warn("unreadable event passed unread (mcp.on_unreadable_response: allow)", "request_id", e.global.RequestID, "reason", err.Error())
	case err != nil:
		e.s.metrics.Unreadable.WithLabelValues("block").Inc()
		return append(dst, e.sseError(err.Error())...), true, true
	case changed:
		// rewritten is the filter's own and is not written again: the
		// event is encoded from it without a copy.
		ev.Data = unsafe.String(unsafe.SliceData(rewritten), len(rewritten))
		return mcpparse.AppendEvent(dst, ev), true, false
	}
	if reencode {
		return mcpparse.AppendEvent(dst, ev), true, false
	}
	return append(dst, ev.Raw...), false, false
}

// isMessageEvent reports whether a client dispatches the event as a
// JSON-RPC message: its type is empty or "message" (the Go SDK trims the
// field of white space first, so " message" counts too).
func isMessageEvent(ev mcpparse.Event) bool {
	t := strings.TrimSpace(ev.Type)
	return t == "" || t == "message"
}

func (e *exchange) sseError(msg string) []byte {
	e.s.metrics.Rejections.WithLabelValues(rejectResponse).Inc()
	e.s.logger.Error("response event withheld", "request_id", e.global.RequestID, "reason", msg)
	body := mcpparse.ErrorResponse(e.withheldID(), -32603, "response could not be inspected by policy", map[string]any{"code": "UNINSPECTABLE_RESPONSE", "description": msg})
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
		hook := e.postHook
		switch {
		case m.Kind == mcpparse.KindResponse && m.Result.Present():
		case m.Kind == mcpparse.KindError && m.Error.Present():
			hook = e.postHookError
		default:
			continue
		}
		if ed, ok := hook(m); ok {
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

// claimCall finds the remembered request a result (or error) with this id
// answers and takes ownership of it: this exchange's own request, or one
// the session table hands over. It reports false when none is found, when
// another stream already took it, or when id is one of this exchange's
// requests that no hook wraps.
func (e *exchange) claimCall(key string) (*mcpCall, string, bool) {
	if c, ok := e.pending[key]; ok {
		if !c.claim() {
			return nil, "", false // delivered once already, elsewhere
		}
		e.s.sessions.Drop(e.session, key, c)
		return c, matchStream, true
	}
	if e.known[key] {
		return nil, "", false
	}
	if c, ok := e.s.sessions.Take(e.session, key); ok {
		return c, matchSession, true
	}
	return nil, "", false
}

// lookup finds the request a result answers, or classifies the result by
// its shape when no remembered request claims it.
func (e *exchange) lookup(id mcpparse.ID, result []byte) (*mcpCall, string, bool) {
	key := id.CorrelationKey()
	if c, how, ok := e.claimCall(key); ok {
		return c, how, true
	}
	if e.known[key] {
		return nil, "", false // a request of this exchange that no hook wraps
	}
	hook := e.hookByShape(result)
	if hook == "" || !e.p.mgr.HasHook(hook) {
		return nil, "", false
	}
	return unmatched(hook, e.global), matchShape, true
}

// hookByShape is the post hook a result of unknown request gets by its
// shape (a tool, prompt or resource result first, then a list), or "".
// The shape is not looked at when the policy has no hook it could name.
func (e *exchange) hookByShape(result []byte) framework.HookType {
	mgr := e.p.mgr
	resultHooks := mgr.HasHook(framework.ToolPostInvoke) || mgr.HasHook(framework.PromptPostFetch) || mgr.HasHook(framework.ResourcePostFetch)
	listHooks := mgr.HasHook(framework.ToolsPostList) || mgr.HasHook(framework.PromptsPostList) || mgr.HasHook(framework.ResourcesPostList)
	if !resultHooks && !listHooks {
		return ""
	}
	switch mcpparse.ClassifyResult(result) {
	case mcpparse.FamilyTool:
		return framework.ToolPostInvoke
	case mcpparse.FamilyPrompt:
		return framework.PromptPostFetch
	case mcpparse.FamilyResource:
		return framework.ResourcePostFetch
	}
	if !listHooks {
		return ""
	}
	return listHook(mcpparse.ClassifyList(result))
}

// postHook runs the post hook for one result and returns the edit to make:
// the result replaced, or the whole message replaced by an error.
func (e *exchange) postHook(m *mcpparse.Message) (mcpparse.Edit, bool) {
	pr, how, ok := e.lookup(m.ID, m.Result.Bytes)
	if !ok || !e.p.mgr.HasHook(pr.hook) {
		return mcpparse.Edit{}, false
	}
	if pr.hook.IsList() {
		return e.listHook(m, pr, how)
	}
	mgr := e.p.mgr
	var (
		v        *framework.Violation
		modified bool
		newRes   json.RawMessage
		asked    map[string]string // what the plugins asked of the answer
		delay    int
	)
	result := json.RawMessage(m.Result.Bytes)
	switch pr.hook {
	case framework.ToolPostInvoke:
		out := mgr.ToolPostInvoke(e.ctx, &framework.ToolPostInvokePayload{Name: pr.name, Result: result}, pr.contexts)
		v, modified, newRes, asked, delay = out.Violation, out.Modified, out.Payload.Result, out.HTTPHeaders, out.RetryDelayMS
	case framework.PromptPostFetch:
		out := mgr.PromptPostFetch(e.ctx, &framework.PromptPostFetchPayload{PromptID: pr.name, Result: result}, pr.contexts)
		v, modified, newRes, asked, delay = out.Violation, out.Modified, out.Payload.Result, out.HTTPHeaders, out.RetryDelayMS
	case framework.ResourcePostFetch:
		out := mgr.ResourcePostFetch(e.ctx, &framework.ResourcePostFetchPayload{URI: pr.name, Content: result}, pr.contexts)
		v, modified, newRes, asked, delay = out.Violation, out.Modified, out.Payload.Content, out.HTTPHeaders, out.RetryDelayMS
	}
	e.noteAllowed(asked, delay)
	if v != nil {
		// A post-hook block cannot change the status any more, but its
		// headers (Retry-After) still reach a buffered answer.
		e.noteAllowed(v.HTTPHeaders, 0)
	}
	changed := modified && !bytes.Equal(newRes, result)
	e.facts.result(pr.hook, pr.name, v, changed)
	switch {
	case v != nil:
		e.s.metrics.result(pr.hook, OutcomeBlocked, how)
		return mcpparse.Edit{Start: m.Start, End: m.End, New: e.blockBody(m.ID, v, pr.hook == framework.ToolPostInvoke)}, true
	case changed:
		if !gjson.ValidBytes(newRes) { // json.Valid's grammar, several times faster
			e.s.logger.Error("a plugin returned a result that is not JSON; result withheld", "request_id", e.global.RequestID, "hook", string(pr.hook))
			return mcpparse.Edit{Start: m.Start, End: m.End, New: mcpparse.ErrorResponse(m.ID, -32603, "result could not be rewritten by policy", nil)}, true
		}
		e.s.metrics.result(pr.hook, OutcomeModified, how)
		return m.Result.Replace(newRes), true
	}
	e.s.metrics.result(pr.hook, OutcomeAllowed, how)
	return mcpparse.Edit{}, false
}

// postHookError runs the post hook's error-reading plugins over a JSON-RPC
// error that answers a hooked request: clients show its message (and often
// its data) to the model like a result. Errors are matched to requests like
// results, but never by shape: an error has none.
func (e *exchange) postHookError(m *mcpparse.Message) (mcpparse.Edit, bool) {
	if !e.p.mgr.ReadsErrors(e.hookOf(m.ID)) {
		return mcpparse.Edit{}, false
	}
	pr, how, ok := e.claimCall(m.ID.CorrelationKey())
	if !ok {
		return mcpparse.Edit{}, false
	}
	mgr := e.p.mgr
	in := framework.ErrorPayload(m.Error.Bytes)
	var (
		v        *framework.Violation
		modified bool
		out      json.RawMessage
	)
	switch pr.hook {
	case framework.ToolPostInvoke:
		o := mgr.ToolPostInvokeError(e.ctx, &framework.ToolPostInvokePayload{Name: pr.name, Result: in}, pr.contexts)
		v, modified, out = o.Violation, o.Modified, o.Payload.Result
	case framework.PromptPostFetch:
		o := mgr.PromptPostFetchError(e.ctx, &framework.PromptPostFetchPayload{PromptID: pr.name, Result: in}, pr.contexts)
		v, modified, out = o.Violation, o.Modified, o.Payload.Result
	case framework.ResourcePostFetch:
		o := mgr.ResourcePostFetchError(e.ctx, &framework.ResourcePostFetchPayload{URI: pr.name, Content: in}, pr.contexts)
		v, modified, out = o.Violation, o.Modified, o.Payload.Content
	}
	switch {
	case v != nil:
		e.s.metrics.result(pr.hook, OutcomeBlocked, how)
		return mcpparse.Edit{Start: m.Start, End: m.End, New: e.blockBody(m.ID, v, pr.hook == framework.ToolPostInvoke)}, true
	case modified && !bytes.Equal(out, in):
		errObj, ok := unwrapError(out)
		if !ok {
			e.s.logger.Error("a plugin rewrote an error into something that is not {\"error\": {code, message}}; error withheld", "request_id", e.global.RequestID, "hook", string(pr.hook))
			return mcpparse.Edit{Start: m.Start, End: m.End, New: mcpparse.ErrorResponse(m.ID, -32603, "error could not be rewritten by policy", nil)}, true
		}
		e.s.metrics.result(pr.hook, OutcomeModified, how)
		return m.Error.Replace(errObj), true
	}
	e.s.metrics.result(pr.hook, OutcomeAllowed, how)
	return mcpparse.Edit{}, false
}

// unwrapError takes the error object back out of a plugin's rewrite of an
// ErrorPayload; it must still be a JSON-RPC error (integer code, string
// message).
func unwrapError(b json.RawMessage) (json.RawMessage, bool) {
	var w struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(b, &w) != nil || len(w.Error) == 0 {
		return nil, false
	}
	var obj struct {
		Code    *json.Number `json:"code"`
		Message *string      `json:"message"`
	}
	if json.Unmarshal(w.Error, &obj) != nil || obj.Code == nil || obj.Message == nil {
		return nil, false
	}
	if _, err := obj.Code.Int64(); err != nil {
		return nil, false
	}
	return w.Error, true
}

// listHook runs a list hook over one page of a tools/list, prompts/list or
// resources/list result: its items array is the payload, and only that
// array is replaced (nextCursor and the rest of the page are kept).
func (e *exchange) listHook(m *mcpparse.Message, pr *mcpCall, how string) (mcpparse.Edit, bool) {
	mgr := e.p.mgr
	items := m.Result.Member(listKey(pr.hook))
	if !items.Present() || items.Bytes[0] != '[' {
		return mcpparse.Edit{}, false // not a list a client can read
	}
	in := json.RawMessage(items.Bytes)
	var (
		v        *framework.Violation
		modified bool
		out      json.RawMessage
	)
	switch pr.hook {
	case framework.ToolsPostList:
		o := mgr.ToolsPostList(e.ctx, &framework.ToolsPostListPayload{Tools: in, ServerID: e.global.ServerID}, pr.contexts)
		v, modified, out = o.Violation, o.Modified, o.Payload.Tools
	case framework.PromptsPostList:
		o := mgr.PromptsPostList(e.ctx, &framework.PromptsPostListPayload{Prompts: in, ServerID: e.global.ServerID}, pr.contexts)
		v, modified, out = o.Violation, o.Modified, o.Payload.Prompts
	case framework.ResourcesPostList:
		o := mgr.ResourcesPostList(e.ctx, &framework.ResourcesPostListPayload{Resources: in, ServerID: e.global.ServerID}, pr.contexts)
		v, modified, out = o.Violation, o.Modified, o.Payload.Resources
	}
	switch {
	case v != nil:
		e.s.metrics.result(pr.hook, OutcomeBlocked, how)
		return mcpparse.Edit{Start: m.Start, End: m.End, New: e.blockBody(m.ID, v, false)}, true
	case modified && !bytes.Equal(out, in):
		if t := bytes.TrimSpace(out); len(t) == 0 || t[0] != '[' || !gjson.ValidBytes(t) {
			e.s.logger.Error("a plugin rewrote a list into something that is not a JSON array; list withheld", "request_id", e.global.RequestID, "hook", string(pr.hook))
			return mcpparse.Edit{Start: m.Start, End: m.End, New: mcpparse.ErrorResponse(m.ID, -32603, "list could not be rewritten by policy", nil)}, true
		}
		e.s.metrics.result(pr.hook, OutcomeModified, how)
		return items.Replace(out), true
	}
	e.s.metrics.result(pr.hook, OutcomeAllowed, how)
	return mcpparse.Edit{}, false
}

// listKey is the member of a list result that holds its items.
func listKey(h framework.HookType) string {
	switch h {
	case framework.ToolsPostList:
		return "tools"
	case framework.PromptsPostList:
		return "prompts"
	}
	return "resources"
}

// hookOf is the post hook of this exchange's own request with the id, or of
// any post hook when the error may answer a request of another stream (the
// claim that follows decides which).
func (e *exchange) hookOf(id mcpparse.ID) framework.HookType {
	if c, ok := e.pending[id.CorrelationKey()]; ok {
		return c.hook
	}
	for _, h := range []framework.HookType{framework.ToolPostInvoke, framework.PromptPostFetch, framework.ResourcePostFetch} {
		if e.p.mgr.ReadsErrors(h) {
			return h
		}
	}
	return ""
}
