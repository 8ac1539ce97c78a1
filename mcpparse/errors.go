package mcpparse

import (
	"errors"
	"strconv"
	"strings"
)

// JSON-RPC 2.0 error codes this package reports.
const (
	// CodeParseError (-32700): the body is not JSON this package will read.
	CodeParseError = -32700
	// CodeInvalidRequest (-32600): the JSON is not an acceptable JSON-RPC message.
	CodeInvalidRequest = -32600
)

// Reason is the machine-readable cause of a rejection. Every Reason is also an
// error value, so errors.Is(err, ReasonDuplicateKey) works on any error this
// package returns.
type Reason string

// The reasons Parse, WalkStrings and IDFromRaw report.
const (
	// ReasonInvalidJSON: not RFC 8259 JSON (syntax, control characters in
	// strings, bad escapes, empty body).
	ReasonInvalidJSON Reason = "invalid_json"
	// ReasonTrailingData: bytes other than whitespace after the top-level value.
	ReasonTrailingData Reason = "trailing_data"
	// ReasonInvalidUTF8: invalid UTF-8 anywhere, or an escaped lone surrogate.
	ReasonInvalidUTF8 Reason = "invalid_utf8"
	// ReasonBOM: the body starts with a UTF-8 byte order mark.
	ReasonBOM Reason = "bom"
	// ReasonTooDeep: objects and arrays nest deeper than Options.MaxDepth.
	ReasonTooDeep Reason = "too_deep"
	// ReasonTooLarge: the body is larger than this package can index (2 GiB).
	ReasonTooLarge Reason = "too_large"
	// ReasonEmptyBatch: the body is the empty array [].
	ReasonEmptyBatch Reason = "empty_batch"
	// ReasonNotObject: the body, or a batch element, is not a JSON object.
	ReasonNotObject Reason = "not_object"
	// ReasonDuplicateKey: an object has the same key twice (after escape
	// decoding), at any depth.
	ReasonDuplicateKey Reason = "duplicate_key"
	// ReasonCaseVariantKey: a key differs from a protocol key, or from another
	// key of the same object, only by Unicode case folding.
	ReasonCaseVariantKey Reason = "case_variant_key"
	// ReasonBadVersion: "jsonrpc" is missing or not exactly "2.0".
	ReasonBadVersion Reason = "bad_jsonrpc_version"
	// ReasonBadID: "id" is not a string or number (null only in error responses),
	// or a response has no id.
	ReasonBadID Reason = "bad_id"
	// ReasonBadMethod: "method" is not a string.
	ReasonBadMethod Reason = "bad_method"
	// ReasonBadParams: "params" is neither object nor array, or is not an
	// object for tools/call, prompts/get or resources/read.
	ReasonBadParams Reason = "bad_params"
	// ReasonMissingField: a hooked method lacks its string field (tools/call
	// and prompts/get "name", resources/read "uri").
	ReasonMissingField Reason = "missing_field"
	// ReasonBadArguments: "arguments" is present but not an object.
	ReasonBadArguments Reason = "bad_arguments"
	// ReasonBadMessage: neither request, notification, response nor error (for
	// example both "result" and "error", or "method" with "result").
	ReasonBadMessage Reason = "bad_message"
)

// Error implements error.
func (r Reason) Error() string { return "mcpparse: " + string(r) }

// Code is the JSON-RPC error code for the reason: CodeParseError for bodies
// that are not well-formed UTF-8 JSON, CodeInvalidRequest otherwise.
func (r Reason) Code() int {
	switch r {
	case ReasonInvalidJSON, ReasonTrailingData, ReasonInvalidUTF8, ReasonBOM:
		return CodeParseError
	}
	return CodeInvalidRequest
}

// Error is a rejected body or message. It unwraps to its Reason.
type Error struct {
	Code   int    // CodeParseError or CodeInvalidRequest
	Reason Reason // why
	Detail string // human context, e.g. `key "Method"`; may be empty
	Offset int    // byte offset in the body where it was detected; -1 if unknown
	Index  int    // batch element index; -1 when the body is not a batch or the error is the body's
	ID     ID     // the message's id when it could be read unambiguously; zero otherwise
}

func newError(r Reason, offset int, detail string) *Error {
	return &Error{Code: r.Code(), Reason: r, Detail: detail, Offset: offset, Index: -1}
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("mcpparse: ")
	if e.Code == CodeParseError {
		b.WriteString("parse error: ")
	} else {
		b.WriteString("invalid request: ")
	}
	b.WriteString(string(e.Reason))
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.Offset >= 0 {
		b.WriteString(" at offset ")
		b.WriteString(strconv.Itoa(e.Offset))
	}
	if e.Index >= 0 {
		b.WriteString(" in batch element ")
		b.WriteString(strconv.Itoa(e.Index))
	}
	if !e.ID.IsZero() {
		b.WriteString(" (id ")
		b.WriteString(e.ID.String())
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the Reason, so errors.Is matches it.
func (e *Error) Unwrap() error { return e.Reason }

// Sentinel errors outside JSON-RPC validation.
var (
	// ErrWrongFamily: ToolCall, PromptGet or ResourceRead was called on a
	// message that is not a valid request of that family.
	ErrWrongFamily = errors.New("mcpparse: message is not a request of that family")
	// ErrBadEdit: an Edit is out of range or overlaps another.
	ErrBadEdit = errors.New("mcpparse: edit out of range or overlapping")
	// ErrUnsupportedEncoding: a content-encoding DecodeContent does not
	// decode (br, zstd, compress, stacked codings, …). Reject the body.
	ErrUnsupportedEncoding = errors.New("mcpparse: unsupported content-encoding")
	// ErrTooLarge: decoded content exceeds the limit (a decompression bomb
	// stops here, after at most limit+1 bytes of output).
	ErrTooLarge = errors.New("mcpparse: decoded content exceeds limit")
	// ErrCorruptContent: the body is not valid data of its content-encoding.
	ErrCorruptContent = errors.New("mcpparse: corrupt encoded content")
)
