package external

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// ContextForge hands resource_post_fetch plugins one ResourceContent
// ({type: "resource", id, uri, mime_type, text, blob}), not MCP's
// ReadResourceResult ({"contents": [{uri, mimeType, text | blob}, …]}) that
// mcp-extproc's own plugins read. At the external boundary the two are
// converted both ways: the client sends each content item as a
// ResourceContent (one call per item, so that every item is checked) and
// folds what comes back into the item; the server turns a ResourceContent
// it receives into the in-process shape for its plugin and answers in
// ContextForge's shape again.

// resourceContent is ContextForge's ResourceContent. Text and Blob are
// pointers: null and absent mean "none", which ContextForge sends for the
// half it does not use.
type resourceContent struct {
	Type     string  `json:"type"`
	ID       string  `json:"id,omitempty"`
	URI      string  `json:"uri"`
	MimeType *string `json:"mime_type,omitempty"`
	Text     *string `json:"text,omitempty"`
	Blob     *string `json:"blob,omitempty"`
}

// mcpContent is one item of MCP's ReadResourceResult.contents; other
// members of the item (_meta, …) are kept in rest.
type mcpContent struct {
	URI      string
	MimeType *string
	Text     *string
	Blob     *string
	rest     map[string]json.RawMessage
}

func (c *mcpContent) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &c.rest); err != nil {
		return err
	}
	if c.rest == nil {
		return errors.New("a resource content item is null")
	}
	for key, dst := range map[string]**string{"mimeType": &c.MimeType, "text": &c.Text, "blob": &c.Blob} {
		if raw, ok := c.rest[key]; ok {
			var s *string
			if err := json.Unmarshal(raw, &s); err != nil {
				return fmt.Errorf("contents[].%s: %w", key, err)
			}
			*dst = s
			delete(c.rest, key)
		}
	}
	if raw, ok := c.rest["uri"]; ok {
		if err := json.Unmarshal(raw, &c.URI); err != nil {
			return fmt.Errorf("contents[].uri: %w", err)
		}
		delete(c.rest, "uri")
	}
	return nil
}

func (c mcpContent) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(c.rest)+4)
	for k, v := range c.rest {
		m[k] = v
	}
	m["uri"] = c.URI
	for key, v := range map[string]*string{"mimeType": c.MimeType, "text": c.Text, "blob": c.Blob} {
		if v != nil {
			m[key] = *v
		}
	}
	return json.Marshal(m)
}

// readResult splits an MCP ReadResourceResult into its contents and the
// rest of the result (_meta, …). ok is false for anything else (a JSON-RPC
// error handed to a plugin that reads errors, a result of another shape):
// that is sent as it is.
func readResult(content json.RawMessage) (items []mcpContent, rest map[string]json.RawMessage, ok bool) {
	if err := json.Unmarshal(content, &rest); err != nil || rest == nil {
		return nil, nil, false
	}
	raw, has := rest["contents"]
	if !has {
		return nil, nil, false
	}
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, nil, false
	}
	delete(rest, "contents")
	return items, rest, true
}

func joinResult(items []mcpContent, rest map[string]json.RawMessage) (json.RawMessage, error) {
	m := make(map[string]any, len(rest)+1)
	for k, v := range rest {
		m[k] = v
	}
	if items == nil {
		items = []mcpContent{}
	}
	m["contents"] = items
	return json.Marshal(m)
}

func toResourceContent(c *mcpContent, uri string) resourceContent {
	rc := resourceContent{Type: "resource", URI: c.URI, MimeType: c.MimeType, Text: c.Text, Blob: c.Blob}
	if rc.URI == "" {
		rc.URI = uri
	}
	return rc
}

// foldResourceContent applies a ResourceContent a plugin returned to the
// item it was made from. A text or blob the plugin set to null is emptied,
// not restored: a plugin that drops content means to withhold it.
func foldResourceContent(orig mcpContent, rc *resourceContent) mcpContent {
	out := orig
	out.rest = maps.Clone(orig.rest)
	if rc.URI != "" {
		out.URI = rc.URI
	}
	if rc.MimeType != nil {
		out.MimeType = rc.MimeType
	}
	empty := ""
	for _, f := range []struct{ dst, orig, got **string }{{&out.Text, &orig.Text, &rc.Text}, {&out.Blob, &orig.Blob, &rc.Blob}} {
		switch {
		case *f.got != nil:
			*f.dst = *f.got
		case *f.orig != nil:
			*f.dst = &empty
		}
	}
	return out
}

// isResourceContent tells ContextForge's ResourceContent from MCP's
// ReadResourceResult (which has contents) and from an error payload.
func isResourceContent(m map[string]json.RawMessage) bool {
	if _, ok := m["contents"]; ok {
		return false
	}
	if _, ok := m["error"]; ok && len(m) == 1 {
		return false
	}
	_, text := m["text"]
	_, blob := m["blob"]
	return bytes.Equal(bytes.TrimSpace(m["type"]), []byte(`"resource"`)) || text || blob
}

// resourcePostFetch is the client's resource_post_fetch: one call per
// content item, in ContextForge's shape. The first violation stops; the
// items a plugin changed are folded back into the result.
func (p *Plugin) resourcePostFetch(ctx context.Context, pl *framework.ResourcePostFetchPayload, pc *framework.PluginContext) (framework.Result[framework.ResourcePostFetchPayload], error) {
	type res = framework.Result[framework.ResourcePostFetchPayload]
	items, rest, ok := readResult(pl.Content)
	if !ok || len(items) == 0 {
		return call(p, ctx, framework.ResourcePostFetch, pl, pc)
	}
	var (
		out     res
		changed bool
	)
	for i := 0; i < len(items); i++ {
		sent := toResourceContent(&items[i], pl.URI)
		content, err := json.Marshal(sent)
		if err != nil {
			return res{}, err
		}
		r, err := call(p, ctx, framework.ResourcePostFetch, &framework.ResourcePostFetchPayload{URI: pl.URI, Content: content}, pc)
		if err != nil {
			return res{}, err
		}
		mergeAllowed(&out, r.Metadata, r.HTTPHeaders, r.RetryDelayMS)
		if r.Violation != nil {
			out.Violation = r.Violation
			return out, nil
		}
		if r.ModifiedPayload == nil {
			continue
		}
		repl, err := replacement(r.ModifiedPayload.Content, items[i], sent)
		if err != nil {
			return res{}, err
		}
		if repl != nil {
			items = append(items[:i], append(repl, items[i+1:]...)...)
			i += len(repl) - 1
			changed = true
		}
	}
	if changed {
		content, err := joinResult(items, rest)
		if err != nil {
			return res{}, err
		}
		out.ModifiedPayload = &framework.ResourcePostFetchPayload{URI: pl.URI, Content: content}
	}
	return out, nil
}

// mergeAllowed gathers what the calls of one hook said besides their
// verdict: metadata and headers (the first call's word wins) and the
// longest retry delay.
func mergeAllowed[P framework.Payload](out *framework.Result[P], md map[string]any, h map[string]string, delay int) {
	for k, v := range md {
		if out.Metadata == nil {
			out.Metadata = map[string]any{}
		}
		if _, ok := out.Metadata[k]; !ok {
			out.Metadata[k] = v
		}
	}
	out.HTTPHeaders = framework.MergeHTTPHeaders(out.HTTPHeaders, h)
	out.RetryDelayMS = max(out.RetryDelayMS, delay)
}

// replacement reads a modified payload's content as the items that replace
// orig: a ResourceContent (cpex plugins, our server), or MCP contents. It
// returns nil when the content is what was sent.
func replacement(raw json.RawMessage, orig mcpContent, sent resourceContent) ([]mcpContent, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, fmt.Errorf("plugin server modified resource content into something that is neither a ResourceContent nor MCP contents: %.80s", raw)
	}
	if items, _, ok := readResult(raw); ok {
		return append([]mcpContent{}, items...), nil
	}
	var rc resourceContent
	if err := json.Unmarshal(raw, &rc); err != nil {
		return nil, fmt.Errorf("plugin server modified resource content: %w", err)
	}
	if same(rc, sent) {
		return nil, nil
	}
	return []mcpContent{foldResourceContent(orig, &rc)}, nil
}

func same(a, b resourceContent) bool {
	eq := func(x, y *string) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return a.URI == b.URI && eq(a.MimeType, b.MimeType) && eq(a.Text, b.Text) && eq(a.Blob, b.Blob)
}

// serverResourceContent turns a resource_post_fetch payload received in
// ContextForge's shape into the in-process one. restore turns a modified
// in-process payload back into ContextForge's shape; it is nil when the
// payload was not a ResourceContent.
func serverResourceContent(payload json.RawMessage) (json.RawMessage, func(json.RawMessage) (json.RawMessage, error), error) {
	var in struct {
		URI     string          `json:"uri"`
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(payload, &in); err != nil {
		return payload, nil, nil // run reports it as INVALID_PAYLOAD
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(in.Content, &m) != nil || m == nil || !isResourceContent(m) {
		return payload, nil, nil
	}
	var rc resourceContent
	if err := json.Unmarshal(in.Content, &rc); err != nil {
		return nil, nil, fmt.Errorf("content is not a ResourceContent: %w", err)
	}
	item := mcpContent{URI: rc.URI, MimeType: rc.MimeType, Text: rc.Text, Blob: rc.Blob}
	if item.URI == "" {
		item.URI = in.URI
	}
	content, err := joinResult([]mcpContent{item}, nil)
	if err != nil {
		return nil, nil, err
	}
	converted, err := json.Marshal(framework.ResourcePostFetchPayload{URI: in.URI, Content: content})
	if err != nil {
		return nil, nil, err
	}
	restore := func(modified json.RawMessage) (json.RawMessage, error) {
		var p framework.ResourcePostFetchPayload
		if err := json.Unmarshal(modified, &p); err != nil {
			return nil, err
		}
		items, _, ok := readResult(p.Content)
		if !ok || len(items) != 1 {
			// The plugin made something ContextForge's shape cannot hold
			// (several items, another shape): send what it made.
			return modified, nil
		}
		// The fields ContextForge sent (type, id) are kept; the plugin's
		// item replaces uri, mime_type, text and blob.
		for k, v := range map[string]*string{"mime_type": items[0].MimeType, "text": items[0].Text, "blob": items[0].Blob} {
			if v == nil {
				m[k] = json.RawMessage("null")
				continue
			}
			b, _ := json.Marshal(*v)
			m[k] = b
		}
		b, _ := json.Marshal(items[0].URI)
		m["uri"] = b
		return json.Marshal(map[string]any{"uri": p.URI, "content": m})
	}
	return converted, restore, nil
}
