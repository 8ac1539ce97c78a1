package external

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"github.com/tidwall/gjson"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// Tool names of the cpex 0.1.x plugin server.
const (
	toolInvokeHook       = "invoke_hook"
	toolGetPluginConfig  = "get_plugin_config"
	toolGetPluginConfigs = "get_plugin_configs"
)

// invokeRequest is the arguments of invoke_hook. The per-hook tools take the
// same object without hook_type.
type invokeRequest struct {
	HookType   framework.HookType `json:"hook_type,omitempty"`
	PluginName string             `json:"plugin_name"`
	Payload    json.RawMessage    `json:"payload"`
	Context    *wireContext       `json:"context"`
}

// decode reads invoke arguments the server was sent (valid JSON, sliced
// from a validated message). The envelope is read with gjson and the
// payload sliced, not decoded: the hook's own decode reads it once. The
// payload aliases b. Fields of the wrong type are errors, as with
// encoding/json.
func (r *invokeRequest) decode(b []byte) error {
	*r = invokeRequest{}
	v := parseRaw(b)
	if !v.IsObject() {
		return errors.New("arguments are not an object")
	}
	var err error
	v.ForEach(func(k, v gjson.Result) bool {
		raw := b[v.Index : v.Index+len(v.Raw)]
		switch k.Str {
		case "hook_type", "plugin_name":
			if v.Type != gjson.String && v.Type != gjson.Null {
				err = fmt.Errorf("%s: expected a string, got %s", k.Str, v.Raw)
				return false
			}
			if k.Str == "hook_type" {
				r.HookType = framework.HookType(strings.Clone(v.Str))
			} else {
				r.PluginName = strings.Clone(v.Str)
			}
		case "payload":
			r.Payload = raw
		case "context":
			if err = json.Unmarshal(raw, &r.Context); err != nil {
				err = fmt.Errorf("context: %w", err)
				return false
			}
		}
		return true
	})
	return err
}

// decode reads the JSON text of an invoke answer: the envelope with gjson,
// the context and error with encoding/json; the result is sliced (it
// aliases text) for the caller to decode once.
func (r *invokeResponse) decode(text string) error {
	*r = invokeResponse{}
	if !gjson.Valid(text) {
		return errors.New("not JSON")
	}
	v := gjson.Parse(text)
	if !v.IsObject() {
		return errors.New("not a JSON object")
	}
	var err error
	v.ForEach(func(k, v gjson.Result) bool {
		raw := readOnlyBytes(v.Raw)
		switch k.Str {
		case "plugin_name":
			r.PluginName = v.String()
		case "result":
			if v.Type != gjson.Null {
				r.Result = raw
			}
		case "context":
			err = json.Unmarshal(raw, &r.Context)
		case "error":
			err = json.Unmarshal(raw, &r.Error)
		}
		if err != nil {
			err = fmt.Errorf("%s: %w", k.Str, err)
			return false
		}
		return true
	})
	return err
}

// readOnlyBytes is s as bytes without a copy, for decoders that only read.
func readOnlyBytes(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// wireContext is cpex's PluginContext: the plugin's own state and metadata
// and the exchange's global context.
type wireContext struct {
	State         map[string]any `json:"state"`
	Metadata      map[string]any `json:"metadata"`
	GlobalContext *wireGlobal    `json:"global_context,omitempty"`
}

// wireGlobal is cpex's GlobalContext; identity fields that are unknown are
// omitted, as cpex omits None. ContextForge's gateway sends user as an
// object (its authenticated user: email, full_name, is_admin, …) and may add
// user_context (cpex's UserContext) and content_type; see wireUser.
type wireGlobal struct {
	RequestID   string         `json:"request_id"`
	User        wireUser       `json:"user,omitempty"`
	UserContext *wireUserCtx   `json:"user_context,omitempty"`
	TenantID    string         `json:"tenant_id,omitempty"`
	ServerID    string         `json:"server_id,omitempty"`
	ContentType string         `json:"content_type,omitempty"`
	State       map[string]any `json:"state"`
	Metadata    map[string]any `json:"metadata"`
}

// wireUser is cpex's GlobalContext.user: a string, or an object. An object
// is reduced to the identity mcp-extproc's plugins and conditions see: its
// first non-empty string among email, user_id, id, sub, username, name.
type wireUser string

// userKeys are the fields of a user object that name the user, in the order
// they are tried.
var userKeys = []string{"email", "user_id", "id", "sub", "username", "name"}

func (u *wireUser) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case nil:
		*u = ""
	case string:
		*u = wireUser(v)
	case map[string]any:
		*u = ""
		for _, k := range userKeys {
			if s, ok := v[k].(string); ok && s != "" {
				*u = wireUser(s)
				break
			}
		}
	default:
		return fmt.Errorf("global_context.user: expected a string or an object, got %s", b)
	}
	return nil
}

// wireUserCtx is the part of cpex's UserContext that names the user.
type wireUserCtx struct {
	UserID string `json:"user_id"`
	Email  string `json:"email,omitempty"`
}

// user is the identity of the call: user, else user_context's email or
// user_id.
func (g *wireGlobal) user() string {
	switch {
	case g.User != "":
		return string(g.User)
	case g.UserContext != nil && g.UserContext.Email != "":
		return g.UserContext.Email
	case g.UserContext != nil:
		return g.UserContext.UserID
	}
	return ""
}

// invokeResponse is the JSON in the first text content of an invoke_hook
// answer: a result, or an error.
type invokeResponse struct {
	PluginName string          `json:"plugin_name"`
	Result     json.RawMessage `json:"result,omitempty"`
	Context    *wireContext    `json:"context,omitempty"`
	Error      *wireError      `json:"error,omitempty"`
}

// wireError is cpex's PluginErrorModel.
type wireError struct {
	Message      string         `json:"message"`
	PluginName   string         `json:"plugin_name"`
	Code         string         `json:"code"`
	Details      map[string]any `json:"details"`
	MCPErrorCode int            `json:"mcp_error_code"`
}

// PluginError is an error a plugin server reported for a call. The executor
// treats it like any plugin error (mode and on_error decide).
type PluginError struct {
	Plugin  string
	Code    string
	Message string
	Details map[string]any
}

func (e *PluginError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("external plugin %q: %s: %s", e.Plugin, e.Code, e.Message)
	}
	return fmt.Sprintf("external plugin %q: %s", e.Plugin, e.Message)
}

func emptyIfNil(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// contextToWire exports a plugin context for a call.
func contextToWire(pc *framework.PluginContext) *wireContext {
	wc := &wireContext{State: emptyIfNil(pc.State), Metadata: emptyIfNil(pc.Metadata)}
	if g := pc.Global; g != nil {
		wc.GlobalContext = &wireGlobal{RequestID: g.RequestID, User: wireUser(g.User), TenantID: g.TenantID, ServerID: g.ServerID,
			ContentType: g.ContentType, State: emptyIfNil(g.State), Metadata: emptyIfNil(g.Metadata)}
	}
	return wc
}

// contextFromWire copies back what the plugin server returned: the plugin's
// state and metadata, and the global state.
func contextFromWire(wc *wireContext, pc *framework.PluginContext) {
	if wc == nil {
		return
	}
	if wc.State != nil {
		pc.State = wc.State
	}
	if wc.Metadata != nil {
		pc.Metadata = wc.Metadata
	}
	if wc.GlobalContext != nil && wc.GlobalContext.State != nil && pc.Global != nil {
		pc.Global.State = wc.GlobalContext.State
	}
}

// remoteConfig is the part of a plugin server's get_plugin_config answer
// that completes a local kind: external entry.
type remoteConfig struct {
	Name        string                `json:"name"`
	Description string                `json:"description"`
	Author      string                `json:"author"`
	Version     string                `json:"version"`
	Tags        []string              `json:"tags"`
	Hooks       []string              `json:"hooks"`
	Mode        string                `json:"mode"`
	Priority    *int                  `json:"priority"`
	Conditions  []framework.Condition `json:"conditions"`
	Config      map[string]any        `json:"config"`
	OnError     string                `json:"on_error"`
	// Capabilities and AppliedTo are cpex's; they are kept on the entry
	// (framework.PluginConfig) but change nothing here: mcp-extproc sends
	// no extensions for capabilities to gate, and cpex 0.1.4 does not apply
	// applied_to either.
	Capabilities []string        `json:"capabilities"`
	AppliedTo    json.RawMessage `json:"applied_to"`
}
