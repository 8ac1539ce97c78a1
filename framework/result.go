package framework

import (
	"encoding/json"
	"fmt"
)

// Result is what a plugin returns from a hook. The zero value means "carry
// on, nothing changed".
type Result[P Payload] struct {
	// ModifiedPayload, when set, replaces the payload for the plugins that
	// follow and, at the end of the pipeline, in the MCP message.
	ModifiedPayload *P `json:"modified_payload,omitempty"`
	// Violation, when set, stops processing: the message is blocked (in the
	// modes that enforce; others log it).
	Violation *Violation `json:"violation,omitempty"`
	// Metadata is free-form information for logs and the caller.
	Metadata map[string]any `json:"metadata,omitempty"`
	// HTTPHeaders and RetryDelayMS are cpex's result fields (rate-limit
	// headers, a retry hint); they are read from and written to the wire so
	// that they survive a plugin-server hop, gathered into the Outcome, and
	// set on the client's answer by the Envoy adapter (RetryDelayMS as
	// Retry-After: nothing retries the call).
	HTTPHeaders  map[string]string `json:"http_headers,omitempty"`
	RetryDelayMS int               `json:"retry_delay_ms,omitempty"`
}

// MergeHTTPHeaders adds the headers of src that dst does not have yet (the
// first plugin's word on a header wins) and returns dst, made when needed.
func MergeHTTPHeaders(dst, src map[string]string) map[string]string {
	for k, v := range src {
		if dst == nil {
			dst = make(map[string]string, len(src))
		}
		if _, ok := dst[k]; !ok {
			dst[k] = v
		}
	}
	return dst
}

// ContinueProcessing reports whether the plugin let the message pass.
func (r Result[P]) ContinueProcessing() bool { return r.Violation == nil }

// MarshalJSON writes the cpex wire shape, with continue_processing.
func (r Result[P]) MarshalJSON() ([]byte, error) {
	type wire struct {
		ContinueProcessing bool              `json:"continue_processing"`
		ModifiedPayload    *P                `json:"modified_payload,omitempty"`
		Violation          *Violation        `json:"violation,omitempty"`
		Metadata           map[string]any    `json:"metadata,omitempty"`
		HTTPHeaders        map[string]string `json:"http_headers,omitempty"`
		RetryDelayMS       int               `json:"retry_delay_ms,omitempty"`
	}
	return json.Marshal(wire{r.Violation == nil, r.ModifiedPayload, r.Violation, r.Metadata, r.HTTPHeaders, r.RetryDelayMS})
}

// UnmarshalJSON reads the cpex wire shape. A result that stops processing
// without saying why gets a PLUGIN_HALTED violation, so that a halt is never
// mistaken for a pass. A violation sent with continue_processing true is kept
// as information only, as cpex does: it does not block.
func (r *Result[P]) UnmarshalJSON(b []byte) error {
	var w struct {
		ContinueProcessing *bool             `json:"continue_processing"`
		ModifiedPayload    *P                `json:"modified_payload"`
		Violation          *Violation        `json:"violation"`
		Metadata           map[string]any    `json:"metadata"`
		HTTPHeaders        map[string]string `json:"http_headers"`
		RetryDelayMS       int               `json:"retry_delay_ms"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	cont := w.ContinueProcessing == nil || *w.ContinueProcessing
	*r = Result[P]{ModifiedPayload: w.ModifiedPayload, Metadata: w.Metadata, HTTPHeaders: w.HTTPHeaders, RetryDelayMS: w.RetryDelayMS}
	switch {
	case !cont && w.Violation != nil:
		r.Violation = w.Violation
	case !cont:
		r.Violation = &Violation{Reason: "plugin halted processing", Code: CodePluginHalted}
	case w.Violation != nil:
		if r.Metadata == nil {
			r.Metadata = map[string]any{}
		}
		r.Metadata["informational_violation"] = w.Violation
	}
	return nil
}

// Violation codes set by the framework itself. Plugins define their own
// (PII_DETECTED, TOOL_DENIED, …) and document them in their README.
const (
	CodePayloadTooLarge = "PAYLOAD_TOO_LARGE"
	CodePluginError     = "PLUGIN_ERROR"
	CodePluginTimeout   = "PLUGIN_TIMEOUT"
	CodePluginHalted    = "PLUGIN_HALTED"
)

// Violation says why a plugin stopped a message. Reason and Description are
// shown to the client; Details must never hold the sensitive value itself.
type Violation struct {
	Reason      string         `json:"reason"`
	Description string         `json:"description"`
	Code        string         `json:"code"`
	Details     map[string]any `json:"details,omitempty"`
	// MCPErrorCode is the JSON-RPC error code to answer with; 0 means the
	// configured mcp.block_error_code.
	MCPErrorCode int `json:"mcp_error_code,omitempty"`
	// HTTPStatusCode is the HTTP status of the blocking response; 0 means 200.
	HTTPStatusCode int `json:"http_status_code,omitempty"`
	// HTTPHeaders are set on the blocking response (Retry-After from a rate
	// limiter, for instance), as cpex's PluginViolation.http_headers.
	HTTPHeaders map[string]string `json:"http_headers,omitempty"`
	// Plugin is the name of the plugin that raised it, set by the executor.
	Plugin string `json:"plugin_name,omitempty"`
}

func (v *Violation) Error() string {
	return fmt.Sprintf("violation %s by plugin %q: %s", v.Code, v.Plugin, v.Reason)
}
