package mcpparse

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/tidwall/gjson"
)

// The JSON-RPC methods that map to hooks.
const (
	MethodToolsCall     = "tools/call"
	MethodPromptsGet    = "prompts/get"
	MethodResourcesRead = "resources/read"
)

// Family is the MCP hook family of a method or result.
type Family uint8

// The families.
const (
	FamilyNone     Family = iota // not hooked
	FamilyTool                   // tools/call: tool_pre_invoke, tool_post_invoke
	FamilyPrompt                 // prompts/get: prompt_pre_fetch, prompt_post_fetch
	FamilyResource               // resources/read: resource_pre_fetch, resource_post_fetch
)

var familyNames = [...]string{"none", "tool", "prompt", "resource"}

// String returns the family's lower-case name.
func (f Family) String() string {
	if int(f) < len(familyNames) {
		return familyNames[f]
	}
	return "unknown"
}

// FamilyOf maps a decoded JSON-RPC method to its family. The match is exact:
// case variants such as "Tools/Call" are not MCP methods, and MCP servers
// (official SDKs) dispatch on the exact string too.
func FamilyOf(method string) Family {
	switch method {
	case MethodToolsCall:
		return FamilyTool
	case MethodPromptsGet:
		return FamilyPrompt
	case MethodResourcesRead:
		return FamilyResource
	}
	return FamilyNone
}

// Target is the payload of a hooked request, as the design's hook payloads
// need it.
type Target struct {
	Family Family
	// Name is the tool name (tools/call), prompt name (prompts/get) or
	// resource URI (resources/read), escape-decoded.
	Name string
	// NameRaw is that JSON string as written, to replace it in place.
	NameRaw Raw
	// Args is params.arguments for tools and prompts (always an object when
	// present), or params._meta for resources; absent when the request has
	// none.
	Args Raw
}

// Target returns the payload of a valid tools/call, prompts/get or
// resources/read request (or notification). It returns the message's own
// error if it failed validation, or ErrWrongFamily if it is not hooked.
func (m *Message) Target() (Target, error) {
	if m.Err != nil {
		return Target{}, m.Err
	}
	if m.Family == FamilyNone {
		return Target{}, fmt.Errorf("%w: %q", ErrWrongFamily, m.Method)
	}
	return Target{Family: m.Family, Name: m.target, NameRaw: m.targetRaw, Args: m.args}, nil
}

func (m *Message) targetOf(f Family) (string, Raw, error) {
	t, err := m.Target()
	if err != nil {
		return "", Raw{}, err
	}
	if t.Family != f {
		return "", Raw{}, fmt.Errorf("%w: %q is not %s", ErrWrongFamily, m.Method, f)
	}
	return t.Name, t.Args, nil
}

// ToolCall returns the tool name and raw arguments of a tools/call request.
func (m *Message) ToolCall() (name string, args Raw, err error) {
	return m.targetOf(FamilyTool)
}

// PromptGet returns the prompt name and raw arguments of a prompts/get request.
func (m *Message) PromptGet() (name string, args Raw, err error) {
	return m.targetOf(FamilyPrompt)
}

// ResourceRead returns the URI and raw params._meta of a resources/read
// request. The whole params object is m.Params.
func (m *Message) ResourceRead() (uri string, meta Raw, err error) {
	return m.targetOf(FamilyResource)
}

// ClassifyResult guesses the family of a response's result by its shape, for
// results whose request is unknown: a "content" array is a tool result,
// "contents" a resource, "messages" a prompt (checked in that order). Anything
// else, including a result that is not an object, is FamilyNone. A result
// with only an object structuredContent is a tool result. result must
// be valid JSON (for example a Message's Result from Parse).
func ClassifyResult(result []byte) Family {
	r := gjson.Parse(bstr(result))
	if !r.IsObject() {
		return FamilyNone
	}
	var tool, resource, prompt bool
	r.ForEach(func(k, v gjson.Result) bool {
		// structuredContent alone is a tool result too: content is
		// optional in both SDKs' CallToolResult.
		if k.Str == "structuredContent" && v.IsObject() {
			tool = true
		}
		if v.IsArray() {
			switch k.Str {
			case "content":
				tool = true
			case "contents":
				resource = true
			case "messages":
				prompt = true
			}
		}
		return true
	})
	switch {
	case tool:
		return FamilyTool
	case resource:
		return FamilyResource
	case prompt:
		return FamilyPrompt
	}
	return FamilyNone
}

// ClassifyList guesses which list method a result answers by its shape, for
// results whose request is unknown: a "tools" array is a tools/list result,
// "prompts" a prompts/list one, "resources" a resources/list one. It returns
// the method, or "" for anything else.
func ClassifyList(result []byte) string {
	r := gjson.Parse(bstr(result))
	if !r.IsObject() {
		return ""
	}
	for _, c := range [...]struct{ key, method string }{{"tools", "tools/list"}, {"prompts", "prompts/list"}, {"resources", "resources/list"}} {
		if r.Get(c.key).IsArray() {
			return c.method
		}
	}
	return ""
}

// DecodeArguments decodes a JSON object (typically Target.Args) into a map for
// plugins that need one. Numbers are json.Number, so they re-encode exactly as
// written. An empty raw decodes to an empty map. Use it only for plugins that
// run: the rest of the package works on raw bytes.
func DecodeArguments(raw []byte) (map[string]any, error) {
	out := map[string]any{}
	if len(bytes.TrimSpace(raw)) == 0 {
		return out, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("mcpparse: decode arguments: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("mcpparse: decode arguments: %w", ReasonTrailingData)
	}
	if out == nil { // the JSON was null
		out = map[string]any{}
	}
	return out, nil
}

// Marshal encodes v as compact JSON without HTML escaping and without a
// trailing newline — the form to splice into a body with an Edit. json.Number
// values are written as they are, so maps from DecodeArguments round-trip.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}
