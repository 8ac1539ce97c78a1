package external

import (
	"encoding/json"
	"fmt"

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

// wireContext is cpex's PluginContext: the plugin's own state and metadata
// and the exchange's global context.
type wireContext struct {
	State         map[string]any `json:"state"`
	Metadata      map[string]any `json:"metadata"`
	GlobalContext *wireGlobal    `json:"global_context,omitempty"`
}

// wireGlobal is cpex's GlobalContext; identity fields that are unknown are
// omitted, as cpex omits None.
type wireGlobal struct {
	RequestID string         `json:"request_id"`
	User      string         `json:"user,omitempty"`
	TenantID  string         `json:"tenant_id,omitempty"`
	ServerID  string         `json:"server_id,omitempty"`
	State     map[string]any `json:"state"`
	Metadata  map[string]any `json:"metadata"`
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
		wc.GlobalContext = &wireGlobal{RequestID: g.RequestID, User: g.User, TenantID: g.TenantID, ServerID: g.ServerID,
			State: emptyIfNil(g.State), Metadata: emptyIfNil(g.Metadata)}
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
}
