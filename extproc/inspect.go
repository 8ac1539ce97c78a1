package extproc

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"strings"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// Rejection reasons, the reason label of mcp_extproc_rejections_total.
const (
	rejectParse               = "parse_error"
	rejectInvalid             = "invalid_request"
	rejectBodyTooLarge        = "body_too_large"
	rejectUnsupportedEncoding = "unsupported_encoding"
	rejectHeaderMismatch      = "header_mismatch"
	rejectBatch               = "batch_rejected"
	rejectResponse            = "uninspectable_response"
)

// requestDecision is what happens to a request body.
type requestDecision struct {
	immediate *extprocv3.ProcessingResponse // answer the client now
	body      []byte                        // forward this body instead (nil: unchanged)
	headers   *extprocv3.HeaderMutation     // request header changes
}

// reject answers the client with a JSON-RPC error before any plugin runs,
// and counts it.
func (e *exchange) reject(reason string, id *mcpparse.ID, status, code int, msg string) []*extprocv3.ProcessingResponse {
	e.done = true
	return one(e.rejectResponse(reason, id, status, code, msg))
}

func (e *exchange) rejectResponse(reason string, id *mcpparse.ID, status, code int, msg string) *extprocv3.ProcessingResponse {
	e.s.metrics.Rejections.WithLabelValues(reason).Inc()
	e.s.metrics.request("unknown", OutcomeRejected)
	e.facts.rejected(reason)
	rid := mcpparse.NullID()
	if id != nil && !id.IsZero() {
		rid = *id
	}
	e.s.logger.Warn("request rejected", "request_id", e.global.RequestID, "reason", reason, "detail", msg)
	return immediate(status, mcpparse.ErrorResponse(rid, code, msg, map[string]any{"code": strings.ToUpper(reason)}), "mcp_extproc_"+reason, nil)
}

// inspectRequest parses a complete, decoded request body and runs the pre
// hooks of every hooked message in it.
func (e *exchange) inspectRequest(body []byte) requestDecision {
	parsed, err := mcpparse.Parse(body, mcpparse.Options{})
	if err != nil {
		var pe *mcpparse.Error
		if !errors.As(err, &pe) {
			return requestDecision{immediate: e.rejectResponse(rejectParse, nil, 400, mcpparse.CodeParseError, "request body could not be parsed")}
		}
		// on_parse_error: allow lets through only a body that is not JSON
		// at all (another protocol on the same path). Anything that looks
		// like JSON but fails validation could be read differently by the
		// server, so it is always rejected.
		if e.cfg.MCP.OnParseError == framework.OnParseErrorAllow && notJSON(body) {
			e.s.metrics.request("unknown", OutcomeAllowed)
			e.s.logger.Info("non-JSON body on an MCP path passed (mcp.on_parse_error: allow)", "request_id", e.global.RequestID)
			return requestDecision{}
		}
		reason := rejectInvalid
		if pe.Code == mcpparse.CodeParseError {
			reason = rejectParse
		}
		return requestDecision{immediate: e.rejectResponse(reason, &pe.ID, 400, pe.Code, strings.TrimPrefix(pe.Error(), "mcpparse: "))}
	}
	if parsed.Batch && e.cfg.MCP.Batches == framework.BatchesReject {
		return requestDecision{immediate: e.rejectResponse(rejectBatch, nil, 400, mcpparse.CodeInvalidRequest, "JSON-RPC batches are not accepted here (mcp.batches: reject)")}
	}
	if d, ok := e.checkMCPHeaders(parsed); !ok {
		return d
	}
	return e.runPreHooks(body, parsed)
}

func notJSON(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) == 0 || (b[0] != '{' && b[0] != '[')
}

// checkMCPHeaders enforces that Mcp-Method and Mcp-Name headers (MCP
// 2026-07-28), when sent, say what the body says: a proxy routing on the
// header and a server reading the body must never disagree.
func (e *exchange) checkMCPHeaders(b *mcpparse.Body) (requestDecision, bool) {
	hm, hasM := e.reqHdrs.lookup("mcp-method")
	hn, hasN := e.reqHdrs.lookup("mcp-name")
	if !hasM && !hasN {
		return requestDecision{}, true
	}
	mismatch := func(msg string) (requestDecision, bool) {
		var id *mcpparse.ID
		if len(b.Messages) == 1 {
			id = &b.Messages[0].ID
		}
		return requestDecision{immediate: e.rejectResponse(rejectHeaderMismatch, id, 400, mcpparse.CodeInvalidRequest, msg)}, false
	}
	if b.Batch {
		return mismatch("Mcp-Method/Mcp-Name headers cannot describe a batch")
	}
	m := &b.Messages[0]
	if hasM && hm != m.Method {
		return mismatch("Mcp-Method header " + jsonQuote(hm) + " does not match the body's method " + jsonQuote(m.Method))
	}
	if hasN {
		t, err := m.Target()
		if err != nil || t.Name != hn {
			return mismatch("Mcp-Name header " + jsonQuote(hn) + " does not match the body")
		}
	}
	return requestDecision{}, true
}

func jsonQuote(s string) string { return string(mcpparse.QuoteString(s)) }

// preResult is the outcome of one message's pre hook.
type preResult struct {
	edits   []mcpparse.Edit // rewrites inside the message
	blocked []byte          // the error response that replaces it
	outcome string
}

// runPreHooks runs the pre hook of every hooked message, then builds the
// decision: pass, rewrite (edits applied to the original bytes) or block.
func (e *exchange) runPreHooks(body []byte, b *mcpparse.Body) requestDecision {
	results := make([]preResult, len(b.Messages))
	var headerMut *extprocv3.HeaderMutation
	anyEdit, anyBlock, allBlocked := false, false, true
	if b.Batch {
		// Two requests of one batch with the same id could not be told apart
		// in the response: a result could be post-hooked as the other's.
		seen := make(map[string]bool, len(b.Messages))
		for i := range b.Messages {
			m := &b.Messages[i]
			if m.Kind != mcpparse.KindRequest || m.ID.IsZero() {
				continue
			}
			if seen[m.ID.CorrelationKey()] {
				id := m.ID
				return requestDecision{immediate: e.rejectResponse(rejectInvalid, &id, 400, mcpparse.CodeInvalidRequest, "duplicate request id "+m.ID.String()+" in batch")}
			}
			seen[m.ID.CorrelationKey()] = true
		}
	}
	for i := range b.Messages {
		m := &b.Messages[i]
		r := &results[i]
		r.outcome = OutcomeAllowed
		if m.Family != mcpparse.FamilyNone && (m.Kind == mcpparse.KindRequest || m.Kind == mcpparse.KindNotification) {
			hm := e.preHook(m, r)
			if hm != nil {
				headerMut = hm
			}
		} else if hook := listHook(m.Method); hook != "" && m.Kind == mcpparse.KindRequest {
			e.expectList(m, hook)
		}
		switch {
		case r.blocked != nil:
			anyBlock = true
		default:
			allBlocked = false
			if len(r.edits) > 0 {
				anyEdit = true
			}
		}
		e.s.metrics.request(methodLabel(m.Method), r.outcome)
		e.facts.message(m, r.outcome)
	}

	if len(b.Messages) > 1 && e.p.readsResponses {
		// The response will be read: remember this body's other requests, so
		// that their results are not post-hooked by shape.
		e.known = make(map[string]bool, len(b.Messages))
		for i := range b.Messages {
			if m := &b.Messages[i]; m.Kind == mcpparse.KindRequest && !m.ID.IsZero() {
				e.known[m.ID.CorrelationKey()] = true
			}
		}
	}
	if anyBlock {
		if !b.Batch || allBlocked {
			parts := make([][]byte, 0, len(results))
			status := 200
			for _, r := range results {
				parts = append(parts, r.blocked)
			}
			var resp []byte
			if b.Batch {
				resp = mcpparse.BatchResponse(parts...)
			} else {
				resp = parts[0]
			}
			if e.blockStatus != 0 {
				status = e.blockStatus
			}
			return requestDecision{immediate: immediate(status, resp, "mcp_extproc_blocked", e.blockHeaders)}
		}
		// Some elements of a batch are blocked: forward the others and add the
		// errors of the blocked ones to the batch response.
		var kept [][]byte
		for i, r := range results {
			m := &b.Messages[i]
			if r.blocked != nil {
				e.injected = append(e.injected, r.blocked)
				continue
			}
			elem, err := applyShifted(body, m.Start, m.End, r.edits)
			if err != nil {
				return requestDecision{immediate: e.rejectResponse(rejectInvalid, nil, 500, -32603, "internal error rewriting the request")}
			}
			kept = append(kept, elem)
		}
		out := append([]byte{'['}, bytes.Join(kept, []byte{','})...)
		return requestDecision{body: append(out, ']'), headers: headerMut}
	}
	if anyEdit {
		var edits []mcpparse.Edit
		for _, r := range results {
			edits = append(edits, r.edits...)
		}
		out, err := mcpparse.ApplyEdits(body, edits)
		if err != nil {
			return requestDecision{immediate: e.rejectResponse(rejectInvalid, nil, 500, -32603, "internal error rewriting the request")}
		}
		return requestDecision{body: out, headers: headerMut}
	}
	if headerMut != nil {
		return requestDecision{headers: headerMut}
	}
	return requestDecision{}
}

// applyShifted applies edits (offsets in body) to the element body[start:end].
func applyShifted(body []byte, start, end int, edits []mcpparse.Edit) ([]byte, error) {
	shifted := make([]mcpparse.Edit, len(edits))
	for i, ed := range edits {
		shifted[i] = mcpparse.Edit{Start: ed.Start - start, End: ed.End - start, New: ed.New}
	}
	return mcpparse.ApplyEdits(body[start:end], shifted)
}

// preHook runs the pre hook of one hooked message and records what to do
// with it. It returns request header changes asked by a tool_pre_invoke
// plugin.
func (e *exchange) preHook(m *mcpparse.Message, r *preResult) *extprocv3.HeaderMutation {
	mgr := e.p.mgr
	t, err := m.Target()
	if err != nil {
		return nil // Parse already validated hooked messages
	}
	var hook, post framework.HookType
	switch t.Family {
	case mcpparse.FamilyTool:
		hook, post = framework.ToolPreInvoke, framework.ToolPostInvoke
	case mcpparse.FamilyPrompt:
		hook, post = framework.PromptPreFetch, framework.PromptPostFetch
	case mcpparse.FamilyResource:
		hook, post = framework.ResourcePreFetch, framework.ResourcePostFetch
	}
	if !mgr.HasHook(hook) && !mgr.HasHook(post) {
		return nil
	}
	tbl := framework.NewContextTable(e.global)
	var hm *extprocv3.HeaderMutation
	if mgr.HasHook(hook) {
		var (
			v        *framework.Violation
			modified bool
			name     string
			args     json.RawMessage
			argsKey  = "arguments"
			asked    map[string]string
			delay    int
		)
		switch t.Family {
		case mcpparse.FamilyTool:
			p := &framework.ToolPreInvokePayload{Name: t.Name, Args: argsOrEmpty(t.Args), Headers: e.forwardedHeaders()}
			out := mgr.ToolPreInvoke(e.ctx, p, tbl)
			v, modified, name, args, asked, delay = out.Violation, out.Modified, out.Payload.Name, out.Payload.Args, out.HTTPHeaders, out.RetryDelayMS
			if modified {
				hm = headerChanges(p.Headers, out.Payload.Headers)
			}
		case mcpparse.FamilyPrompt:
			out := mgr.PromptPreFetch(e.ctx, &framework.PromptPreFetchPayload{PromptID: t.Name, Args: argsOrEmpty(t.Args)}, tbl)
			v, modified, name, args, asked, delay = out.Violation, out.Modified, out.Payload.PromptID, out.Payload.Args, out.HTTPHeaders, out.RetryDelayMS
		case mcpparse.FamilyResource:
			out := mgr.ResourcePreFetch(e.ctx, &framework.ResourcePreFetchPayload{URI: t.Name, Metadata: json.RawMessage(t.Args.Bytes)}, tbl)
			v, modified, name, args, argsKey, asked, delay = out.Violation, out.Modified, out.Payload.URI, out.Payload.Metadata, "_meta", out.HTTPHeaders, out.RetryDelayMS
		}
		if e.settlePre(m, v, hook, r) {
			return nil
		}
		e.noteAllowed(asked, delay)
		if modified {
			if (argsKey == "arguments" || len(args) > 0) && e.badRewrite(m, r, args) {
				return nil
			}
			r.outcome = OutcomeModified
			r.edits = targetEdits(m, t, name, args, argsKey)
		}
	}
	if mgr.HasHook(post) && !m.ID.IsZero() {
		name := t.Name
		pr := &mcpCall{id: m.ID, hook: post, name: name, contexts: tbl}
		if e.pending == nil {
			e.pending = map[string]*mcpCall{}
		}
		e.pending[m.ID.CorrelationKey()] = pr
		e.s.sessions.Put(e.session, m.ID.CorrelationKey(), pr)
	}
	return hm
}

// listHook is the post hook of a list method, or "".
func listHook(method string) framework.HookType {
	switch method {
	case "tools/list":
		return framework.ToolsPostList
	case "prompts/list":
		return framework.PromptsPostList
	case "resources/list":
		return framework.ResourcesPostList
	}
	return ""
}

// expectList remembers a list request whose result a list hook governs: it
// has no pre hook, but its result must be matched to it by id like any
// other (on this stream, another of the session, or by shape).
func (e *exchange) expectList(m *mcpparse.Message, hook framework.HookType) {
	if m.ID.IsZero() || !e.p.mgr.HasHook(hook) {
		return
	}
	pr := &mcpCall{id: m.ID, hook: hook, contexts: framework.NewContextTable(e.global)}
	if e.pending == nil {
		e.pending = map[string]*mcpCall{}
	}
	key := m.ID.CorrelationKey()
	e.pending[key] = pr
	e.s.sessions.Put(e.session, key, pr)
}

func argsOrEmpty(r mcpparse.Raw) json.RawMessage {
	if !r.Present() {
		return json.RawMessage("{}")
	}
	return json.RawMessage(r.Bytes)
}

// validObject reports whether b is one JSON object (what arguments and
// _meta must be after a plugin rewrote them).
func validObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 1 && b[0] == '{' && json.Valid(b)
}

// targetEdits rewrites what a pre-hook plugin changed: the name (or URI)
// and the arguments (or _meta), each in place.
func targetEdits(m *mcpparse.Message, t mcpparse.Target, name string, args json.RawMessage, argsKey string) []mcpparse.Edit {
	var edits []mcpparse.Edit
	if name != t.Name {
		edits = append(edits, t.NameRaw.Replace(mcpparse.QuoteString(name)))
	}
	orig := argsOrEmpty(t.Args)
	if argsKey == "_meta" {
		orig = json.RawMessage(t.Args.Bytes)
	}
	if len(args) > 0 && !bytes.Equal(args, orig) {
		if t.Args.Present() {
			edits = append(edits, t.Args.Replace(args))
		} else {
			edits = append(edits, mcpparse.AddMember(m.Params, argsKey, args))
		}
	}
	return edits
}

// badRewrite blocks a message whose pre-hook rewrite is not a JSON object:
// forwarding it would corrupt the request.
func (e *exchange) badRewrite(m *mcpparse.Message, r *preResult, b []byte) bool {
	if validObject(b) {
		return false
	}
	e.s.logger.Error("a plugin rewrote arguments into something that is not a JSON object; request blocked", "request_id", e.global.RequestID)
	r.outcome = OutcomeBlocked
	id := m.ID
	if id.IsZero() {
		id = mcpparse.NullID()
	}
	r.blocked = mcpparse.ErrorResponse(id, -32603, "request could not be rewritten by policy", nil)
	return true
}

// settlePre records a blocked message: the error response it gets.
func (e *exchange) settlePre(m *mcpparse.Message, v *framework.Violation, hook framework.HookType, r *preResult) bool {
	if v == nil {
		return false
	}
	r.outcome = OutcomeBlocked
	e.facts.violation(v)
	r.blocked = e.blockBody(m.ID, v, hook.Family() == mcpparse.FamilyTool)
	if v.HTTPStatusCode != 0 && e.blockStatus == 0 {
		e.blockStatus = v.HTTPStatusCode
	}
	if len(v.HTTPHeaders) > 0 && e.blockHeaders == nil {
		e.blockHeaders = v.HTTPHeaders
	}
	return true
}

// blockBody is the answer to a blocked message (design section 6).
func (e *exchange) blockBody(id mcpparse.ID, v *framework.Violation, isTool bool) []byte {
	if id.IsZero() {
		id = mcpparse.NullID()
	}
	if isTool && e.cfg.MCP.BlockResponse == framework.BlockToolError {
		return mcpparse.ToolErrorResult(id, blockMessage(v))
	}
	code := v.MCPErrorCode
	if code == 0 {
		code = e.cfg.MCP.BlockErrorCode
	}
	details := v.Details
	if details == nil {
		details = map[string]any{}
	}
	return mcpparse.ErrorResponse(id, code, blockMessage(v), map[string]any{
		"code": v.Code, "description": v.Description, "plugin": v.Plugin, "details": details,
	})
}

// forwardedHeaders are the request headers exposed to tool_pre_invoke.
func (e *exchange) forwardedHeaders() map[string]string {
	if len(e.cfg.MCP.ForwardHeaders) == 0 {
		return nil
	}
	out := make(map[string]string, len(e.cfg.MCP.ForwardHeaders))
	for _, k := range e.cfg.MCP.ForwardHeaders {
		if v, ok := e.reqHdrs.lookup(k); ok {
			out[k] = v
		}
	}
	return out
}

// headerChanges turns a plugin's edits of payload.headers into a mutation.
func headerChanges(before, after map[string]string) *extprocv3.HeaderMutation {
	if maps.Equal(before, after) {
		return nil
	}
	hm := &extprocv3.HeaderMutation{}
	for k, v := range after {
		if before[k] != v {
			hm.SetHeaders = append(hm.SetHeaders, setHeader(strings.ToLower(k), v))
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			hm.RemoveHeaders = append(hm.RemoveHeaders, strings.ToLower(k))
		}
	}
	return hm
}
