// Package policyinput builds what a policy rule reads about one hook call —
// the variables of cel_policy and the input document of opa_policy — from
// the hook's payload and the exchange's global context, so that both engines
// see the same fields with the same meaning.
//
// Which variables exist on which hook is one table (hookVars); each hook has
// a constructor (ToolPreInvoke, …) that fills an Input from its payload.
// Values are decoded only when a rule asks for them.
//
// It does not evaluate anything, and knows nothing of CEL or Rego.
package policyinput

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// The variables. Every hook has the common ones (hook, method, user,
// tenant, server, claims, now); the others exist only where hookVars lists
// them.
const (
	VarHook     = "hook"
	VarMethod   = "method"
	VarUser     = "user"
	VarTenant   = "tenant"
	VarServer   = "server"
	VarClaims   = "claims"
	VarNow      = "now"
	VarTool     = "tool"
	VarPrompt   = "prompt"
	VarResource = "resource"
	VarHeaders  = "headers"
	VarResult   = "result"
	VarItem     = "item"
)

// Common are the variables every hook has.
var Common = []string{VarHook, VarMethod, VarUser, VarTenant, VarServer, VarClaims, VarNow}

// All lists every variable, in documentation order.
var All = append(append([]string{}, Common...), VarTool, VarPrompt, VarResource, VarHeaders, VarResult, VarItem)

// hookVars lists, per hook, the variables it has beyond Common, and the
// JSON-RPC method it wraps. A new hook is one line here and one
// constructor below.
var hookVars = map[framework.HookType]struct {
	method string
	vars   []string
}{
	framework.ToolPreInvoke:     {"tools/call", []string{VarTool, VarHeaders}},
	framework.ToolPostInvoke:    {"tools/call", []string{VarTool, VarResult}},
	framework.PromptPreFetch:    {"prompts/get", []string{VarPrompt}},
	framework.PromptPostFetch:   {"prompts/get", []string{VarPrompt, VarResult}},
	framework.ResourcePreFetch:  {"resources/read", []string{VarResource}},
	framework.ResourcePostFetch: {"resources/read", []string{VarResource, VarResult}},
	framework.ToolsPostList:     {"tools/list", []string{VarItem}},
	framework.PromptsPostList:   {"prompts/list", []string{VarItem}},
	framework.ResourcesPostList: {"resources/list", []string{VarItem}},
}

// Hooks lists the hooks that have variables, in framework.Hooks order.
func Hooks() []framework.HookType {
	var out []framework.HookType
	for _, h := range framework.Hooks {
		if _, ok := hookVars[h]; ok {
			out = append(out, h)
		}
	}
	return out
}

// Has reports whether variable name exists on hook h.
func Has(h framework.HookType, name string) bool {
	hv, ok := hookVars[h]
	if !ok {
		return false
	}
	for _, v := range Common {
		if v == name {
			return true
		}
	}
	for _, v := range hv.vars {
		if v == name {
			return true
		}
	}
	return false
}

// Vars returns the variables hook h has.
func Vars(h framework.HookType) []string {
	return append(append([]string{}, Common...), hookVars[h].vars...)
}

// Input is one hook call, as a policy reads it. Build it with a hook's
// constructor; read it with Value or Document. An Input caches what it
// decodes and is used by one goroutine.
type Input struct {
	hook    framework.HookType
	global  *framework.GlobalContext
	name    string // the tool or prompt name
	args    json.RawMessage
	uri     string
	result  json.RawMessage
	item    json.RawMessage // one listed tool, prompt or resource
	headers map[string]string

	// decoded caches built variables by their position in All.
	decoded [numVars]any
	built   [numVars]bool
}

const numVars = 13

// varIndex is a variable's position in All, -1 for an unknown name.
func varIndex(name string) int {
	for i, v := range All {
		if v == name {
			return i
		}
	}
	return -1
}

// ToolPreInvoke is the input of a tools/call request.
func ToolPreInvoke(p *framework.ToolPreInvokePayload, g *framework.GlobalContext) *Input {
	return &Input{hook: framework.ToolPreInvoke, global: g, name: p.Name, args: p.Args, headers: p.Headers}
}

// ToolPostInvoke is the input of a tools/call result.
func ToolPostInvoke(p *framework.ToolPostInvokePayload, g *framework.GlobalContext) *Input {
	return &Input{hook: framework.ToolPostInvoke, global: g, name: p.Name, result: p.Result}
}

// PromptPreFetch is the input of a prompts/get request.
func PromptPreFetch(p *framework.PromptPreFetchPayload, g *framework.GlobalContext) *Input {
	return &Input{hook: framework.PromptPreFetch, global: g, name: p.PromptID, args: p.Args}
}

// PromptPostFetch is the input of a prompts/get result.
func PromptPostFetch(p *framework.PromptPostFetchPayload, g *framework.GlobalContext) *Input {
	return &Input{hook: framework.PromptPostFetch, global: g, name: p.PromptID, result: p.Result}
}

// ResourcePreFetch is the input of a resources/read request.
func ResourcePreFetch(p *framework.ResourcePreFetchPayload, g *framework.GlobalContext) *Input {
	return &Input{hook: framework.ResourcePreFetch, global: g, uri: p.URI}
}

// ResourcePostFetch is the input of a resources/read result.
func ResourcePostFetch(p *framework.ResourcePostFetchPayload, g *framework.GlobalContext) *Input {
	return &Input{hook: framework.ResourcePostFetch, global: g, uri: p.URI, result: p.Content}
}

// ListItem is the input of one item of a list result (list hook h): a rule
// that denies it hides the item.
func ListItem(h framework.HookType, item json.RawMessage, g *framework.GlobalContext) *Input {
	return &Input{hook: h, global: g, item: item}
}

// Item is the raw listed item on list hooks (nil elsewhere).
func (in *Input) Item() []byte { return in.item }

// Hook is the hook the input was built for.
func (in *Input) Hook() framework.HookType { return in.hook }

// Name is the tool or prompt name ("" on resource hooks).
func (in *Input) Name() string { return in.name }

// Args are the raw tool or prompt arguments (nil on post hooks).
func (in *Input) Args() []byte { return in.args }

// Result is the raw result on post hooks (nil on pre hooks).
func (in *Input) Result() []byte { return in.result }

// Value returns variable name as plain Go values (string, bool, int64,
// float64, nil, []any, map[string]any; now is a time.Time). ok is false when the hook has no
// such variable; err is set when the payload cannot be read as the
// variable promises (arguments that are not an object, a resource host that
// does not normalise): the caller must not decide on it.
func (in *Input) Value(name string) (v any, ok bool, err error) {
	i := varIndex(name)
	if i < 0 || !Has(in.hook, name) {
		return nil, false, nil
	}
	if in.built[i] {
		return in.decoded[i], true, nil
	}
	v, err = in.build(name)
	if err != nil {
		return nil, true, err
	}
	in.decoded[i], in.built[i] = v, true
	return v, true, nil
}

func (in *Input) build(name string) (any, error) {
	g := in.global
	if g == nil {
		g = &framework.GlobalContext{}
	}
	switch name {
	case VarHook:
		return string(in.hook), nil
	case VarMethod:
		return hookVars[in.hook].method, nil
	case VarUser:
		return g.User, nil
	case VarTenant:
		return g.TenantID, nil
	case VarServer:
		return g.ServerID, nil
	case VarClaims:
		if g.Claims == nil {
			return map[string]any{}, nil
		}
		return plain(g.Claims), nil
	case VarNow:
		return time.Now().UTC(), nil
	case VarHeaders:
		return lowerKeys(in.headers), nil
	case VarTool, VarPrompt:
		m := map[string]any{"name": in.name}
		if in.hook.IsPre() {
			args, err := DecodeJSON(in.args, true)
			if err != nil {
				return nil, fmt.Errorf("%s arguments: %w", name, err)
			}
			m["args"] = args
		}
		return m, nil
	case VarResource:
		r, err := parseResource(in.uri)
		if err != nil {
			return nil, err
		}
		return r, nil
	case VarResult:
		v, err := DecodeJSON(in.result, false)
		if err != nil {
			return nil, fmt.Errorf("result: %w", err)
		}
		return v, nil
	case VarItem:
		v, err := DecodeJSON(in.item, false)
		if err != nil {
			return nil, fmt.Errorf("item: %w", err)
		}
		return v, nil
	}
	return nil, fmt.Errorf("no variable %q", name)
}

// Document returns every variable of the hook as one JSON-shaped object
// (opa_policy's input; now is an RFC 3339 string). It fails as Value does.
func (in *Input) Document() (map[string]any, error) {
	vars := Vars(in.hook)
	doc := make(map[string]any, len(vars))
	for _, name := range vars {
		v, _, err := in.Value(name)
		if err != nil {
			return nil, err
		}
		if t, ok := v.(time.Time); ok {
			v = t.Format(time.RFC3339Nano)
		}
		doc[name] = v
	}
	return doc, nil
}

// lowerKeys returns headers with lower-case names (HTTP/2 and Envoy write
// them so; a header set elsewhere may not be).
func lowerKeys(h map[string]string) map[string]any {
	out := make(map[string]any, len(h))
	for k, v := range h {
		out[strings.ToLower(k)] = v
	}
	return out
}

func init() {
	if len(All) != numVars {
		panic("policyinput: numVars does not match All")
	}
}
