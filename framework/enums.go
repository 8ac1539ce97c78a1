package framework

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// scalarSetter is implemented by config types that parse themselves from a
// YAML scalar (enums, durations). expected describes valid input for errors.
type scalarSetter interface {
	setScalar(s string) error
	expected() string
}

// Mode says how a plugin's outcome affects the message (design section 3).
type Mode string

// The modes. ContextForge's names are accepted as aliases when loading.
const (
	ModeEnforce            Mode = "enforce"
	ModeEnforceIgnoreError Mode = "enforce_ignore_error"
	ModePermissive         Mode = "permissive"
	ModeAudit              Mode = "audit"
	ModeConcurrent         Mode = "concurrent"
	ModeFireAndForget      Mode = "fire_and_forget"
	ModeDisabled           Mode = "disabled"
)

var modeAliases = map[string]Mode{
	"enforce": ModeEnforce, "sequential": ModeEnforce,
	"enforce_ignore_error": ModeEnforceIgnoreError,
	"permissive":           ModePermissive, "transform": ModePermissive,
	"audit":           ModeAudit,
	"concurrent":      ModeConcurrent,
	"fire_and_forget": ModeFireAndForget,
	"disabled":        ModeDisabled,
}

// ParseMode reads a mode name, accepting ContextForge's aliases.
func ParseMode(s string) (Mode, error) {
	var m Mode
	err := m.setScalar(s)
	return m, err
}

func (m *Mode) setScalar(s string) error {
	v, ok := modeAliases[strings.ToLower(s)]
	if !ok {
		return fmt.Errorf("unknown mode %q", s)
	}
	*m = v
	return nil
}

// values are the names a mode is written as, ContextForge's aliases included.
func (*Mode) values() []string { return slices.Sorted(maps.Keys(modeAliases)) }

func (*Mode) expected() string {
	return "one of enforce (sequential), enforce_ignore_error, permissive (transform), audit, concurrent, fire_and_forget, disabled"
}

// OnError says what happens when an enforcing plugin fails or times out.
type OnError string

// The on_error choices.
const (
	OnErrorFail    OnError = "fail"
	OnErrorIgnore  OnError = "ignore"
	OnErrorDisable OnError = "disable"
)

// ParseOnError reads an on_error value (a plugin server's, for instance).
func ParseOnError(s string) (OnError, error) {
	var o OnError
	err := o.setScalar(s)
	return o, err
}

func (o *OnError) setScalar(s string) error { return setEnum(o, s, o.values()...) }
func (o *OnError) expected() string         { return oneOf(o.values()) }
func (*OnError) values() []string           { return []string{"fail", "ignore", "disable"} }

// OnParseError says what happens to an MCP body that cannot be parsed.
type OnParseError string

// The on_parse_error choices.
const (
	OnParseErrorReject OnParseError = "reject"
	OnParseErrorAllow  OnParseError = "allow"
)

func (o *OnParseError) setScalar(s string) error { return setEnum(o, s, o.values()...) }
func (o *OnParseError) expected() string         { return oneOf(o.values()) }
func (*OnParseError) values() []string           { return []string{"reject", "allow"} }

// OnUnreadableResponse says what happens to a response the filter cannot
// read: a client might still find a result in it, so by default it does not
// pass unread.
type OnUnreadableResponse string

// The on_unreadable_response choices.
const (
	// OnUnreadableBlock replaces the body with the JSON-RPC error of its
	// request, or ends an event stream with that error event.
	OnUnreadableBlock OnUnreadableResponse = "block"
	// OnUnreadableAllow passes it on unread (logged and counted).
	OnUnreadableAllow OnUnreadableResponse = "allow"
)

func (o *OnUnreadableResponse) setScalar(s string) error { return setEnum(o, s, o.values()...) }
func (o *OnUnreadableResponse) expected() string         { return oneOf(o.values()) }
func (*OnUnreadableResponse) values() []string           { return []string{"block", "allow"} }

// BatchPolicy says how JSON-RPC batches are handled.
type BatchPolicy string

// The batches choices.
const (
	BatchesInspect BatchPolicy = "inspect"
	BatchesReject  BatchPolicy = "reject"
)

func (b *BatchPolicy) setScalar(s string) error { return setEnum(b, s, b.values()...) }
func (b *BatchPolicy) expected() string         { return oneOf(b.values()) }
func (*BatchPolicy) values() []string           { return []string{"inspect", "reject"} }

// BlockResponse is the shape of the answer to a blocked message.
type BlockResponse string

// The block_response choices.
const (
	BlockJSONRPCError BlockResponse = "jsonrpc_error"
	BlockToolError    BlockResponse = "tool_error"
)

func (b *BlockResponse) setScalar(s string) error { return setEnum(b, s, b.values()...) }
func (b *BlockResponse) expected() string         { return oneOf(b.values()) }
func (*BlockResponse) values() []string           { return []string{"jsonrpc_error", "tool_error"} }

// Transport is an external plugin server's MCP transport.
type Transport string

// The transports.
const (
	TransportSTDIO          Transport = "STDIO"
	TransportStreamableHTTP Transport = "STREAMABLEHTTP"
	TransportSSE            Transport = "SSE"
)

func (t *Transport) setScalar(s string) error { return setEnum(t, strings.ToUpper(s), t.values()...) }
func (t *Transport) expected() string         { return oneOf(t.values()) }
func (*Transport) values() []string           { return []string{"STDIO", "STREAMABLEHTTP", "SSE"} }

func (h *HookType) setScalar(s string) error {
	v, err := ParseHookType(s)
	if err != nil {
		return err
	}
	*h = v
	return nil
}

func (h *HookType) expected() string { return oneOf(h.values()) }

func (*HookType) values() []string {
	out := make([]string, len(Hooks))
	for i, h := range Hooks {
		out[i] = string(h)
	}
	return out
}

func setEnum[T ~string](dst *T, s string, valid ...string) error {
	if slices.Contains(valid, s) {
		*dst = T(s)
		return nil
	}
	return fmt.Errorf("unknown value %q", s)
}

func oneOf(values []string) string { return "one of " + strings.Join(values, ", ") }

// Duration is a time.Duration read from YAML as "5s", "1m30s" or a plain
// number of seconds ("5", "0.5"), as ContextForge files write it.
type Duration time.Duration

func (d *Duration) setScalar(s string) error {
	if s == "" {
		return fmt.Errorf("empty duration")
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 || math.IsNaN(f) || f > float64(math.MaxInt64)/float64(time.Second) {
			return fmt.Errorf("duration %q out of range", s)
		}
		*d = Duration(f * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q", s)
	}
	if v < 0 {
		return fmt.Errorf("negative duration %q", s)
	}
	*d = Duration(v)
	return nil
}

func (*Duration) expected() string { return `a duration such as "5s" or a number of seconds` }

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }
