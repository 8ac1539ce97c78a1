package mcpparse

import (
	"strconv"
)

// ErrorResponse builds the JSON-RPC error response
//
//	{"jsonrpc":"2.0","id":<id>,"error":{"code":<code>,"message":<message>,"data":<data>}}
//
// for a blocked message (design section 6). An absent id is written as null.
// data is encoded with Marshal (a json.RawMessage is embedded as is); it is
// omitted when nil or when it cannot be encoded, so the response is always
// valid JSON.
func ErrorResponse(id ID, code int, message string, data any) []byte {
	var d []byte
	if data != nil {
		d, _ = Marshal(data)
	}
	out := make([]byte, 0, 64+len(message)+len(d)+len(id.raw))
	out = append(out, `{"jsonrpc":"2.0","id":`...)
	out = id.appendJSON(out)
	out = append(out, `,"error":{"code":`...)
	out = strconv.AppendInt(out, int64(code), 10)
	out = append(out, `,"message":`...)
	out = appendQuoted(out, message)
	if len(d) > 0 {
		out = append(out, `,"data":`...)
		out = append(out, d...)
	}
	return append(out, "}}"...)
}

// ErrorResponseFor builds the error response for a Parse error: the *Error's
// own code, reason as message, and id (null if unreadable). Any other error
// becomes -32603 internal error with a null id.
func ErrorResponseFor(err error) []byte {
	if e, ok := err.(*Error); ok {
		msg := string(e.Reason)
		if e.Detail != "" {
			msg += ": " + e.Detail
		}
		id := e.ID
		if id.IsZero() {
			id = NullID()
		}
		return ErrorResponse(id, e.Code, msg, nil)
	}
	return ErrorResponse(NullID(), -32603, "internal error", nil)
}

// ToolErrorResult builds a tools/call result the model can read instead of a
// protocol error (block_response: tool_error):
//
//	{"jsonrpc":"2.0","id":<id>,"result":{"content":[{"type":"text","text":<text>}],"isError":true}}
func ToolErrorResult(id ID, text string) []byte {
	out := make([]byte, 0, 96+len(text)+len(id.raw))
	out = append(out, `{"jsonrpc":"2.0","id":`...)
	out = id.appendJSON(out)
	out = append(out, `,"result":{"content":[{"type":"text","text":`...)
	out = appendQuoted(out, text)
	return append(out, `}],"isError":true}}`...)
}

// BatchResponse assembles the responses to a batch into one JSON array, in
// the order given; nil or empty parts (notifications, which get no answer) are
// skipped. With no parts left it returns nil: JSON-RPC sends nothing back for
// a batch of notifications.
func BatchResponse(parts ...[]byte) []byte {
	size := 1
	for _, p := range parts {
		size += len(p) + 1
	}
	out := make([]byte, 0, size)
	out = append(out, '[')
	n := 0
	for _, p := range parts {
		if len(p) == 0 {
			continue
		}
		if n > 0 {
			out = append(out, ',')
		}
		out = append(out, p...)
		n++
	}
	if n == 0 {
		return nil
	}
	return append(out, ']')
}
