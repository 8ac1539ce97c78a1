package external

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/tidwall/gjson"
)

// The JSON-RPC 2.0 framing of MCP, as both sides of the plugin wire put it
// on STDIO (one message a line) and Streamable HTTP (one message a body or
// an SSE event). It is written by hand rather than through the MCP SDK's
// session layer: a plugin call is one small tools/call, and the SDK's
// generic framing cost ~140 KB of allocation and most of the CPU per call.
// The bytes on the wire are the same messages the SDK sends.

// rpcMessage is any JSON-RPC message: a request (method and id), a
// notification (method, no id) or a response (id and result or error).
type rpcMessage struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

func (m *rpcMessage) isRequest() bool      { return m.Method != "" && len(m.ID) > 0 }
func (m *rpcMessage) isNotification() bool { return m.Method != "" && len(m.ID) == 0 }
func (m *rpcMessage) isResponse() bool     { return m.Method == "" && len(m.ID) > 0 }

// intID reads a numeric id (the client only sends those); ok is false for
// any other id.
func (m *rpcMessage) intID() (int64, bool) {
	n, err := strconv.ParseInt(string(m.ID), 10, 64)
	return n, err == nil
}

// rpcError is a JSON-RPC error object. As an error it is an answer of the
// peer: the session is fine and the call is not retried.
type rpcError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

func (e *rpcError) Error() string { return fmt.Sprintf("JSON-RPC error %d: %s", e.Code, e.Message) }

// decodeMessage reads one message. The envelope is read with gjson: it is
// validated once and its members are sliced out, not decoded (params and
// result are decoded by whoever reads them), so a call's payload is not
// scanned again at each layer. msg's raw members alias data.
func decodeMessage(data []byte, msg *rpcMessage) error {
	*msg = rpcMessage{}
	data = bytes.TrimSpace(data)
	if !gjson.ValidBytes(data) {
		return errors.New("not JSON")
	}
	if len(data) == 0 || data[0] != '{' {
		return errors.New("not a JSON object")
	}
	var err error
	parseRaw(data).ForEach(func(k, v gjson.Result) bool {
		raw := data[v.Index : v.Index+len(v.Raw)]
		switch k.Str {
		case "jsonrpc":
			msg.JSONRPC = strings.Clone(v.Str)
		case "id":
			if v.Type != gjson.Null {
				msg.ID = raw
			}
		case "method":
			if v.Type != gjson.String {
				err = errors.New("method is not a string")
				return false
			}
			msg.Method = strings.Clone(v.Str)
		case "params":
			msg.Params = raw
		case "result":
			msg.Result = raw
		case "error":
			var e rpcError
			if err = json.Unmarshal(raw, &e); err != nil {
				err = fmt.Errorf("error: %w", err)
				return false
			}
			msg.Error = &e
		}
		return true
	})
	return err
}

// parseRaw parses JSON without copying it: the result's Raw and Str
// alias b, which must not change while they are used.
func parseRaw(b []byte) gjson.Result {
	if len(b) == 0 {
		return gjson.Result{}
	}
	return gjson.Parse(unsafe.String(&b[0], len(b)))
}

// JSON-RPC error codes.
const (
	codeParseError     = -32700
	codeInvalidRequest = -32600
	codeMethodNotFound = -32601
	codeInvalidParams  = -32602
)

// errSessionLost wraps every failure of the channel itself (a closed pipe,
// a refused connection, an HTTP status that is not an answer): the plugin
// reconnects and retries the call once.
var errSessionLost = errors.New("plugin server session lost")

func lost(err error) error {
	if err == nil || errors.Is(err, errSessionLost) {
		return err
	}
	return fmt.Errorf("%w: %w", errSessionLost, err)
}

// bufPool holds the buffers messages are written into.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuf() *bytes.Buffer {
	b := bufPool.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

func putBuf(b *bytes.Buffer) {
	if b.Cap() <= 1<<20 { // a rare huge message does not stay pinned
		bufPool.Put(b)
	}
}

// appendRequest writes a request (id > 0) or a notification (id 0) with
// params already encoded (nil: none).
func appendRequest(b *bytes.Buffer, id int64, method string, params []byte) {
	b.WriteString(`{"jsonrpc":"2.0",`)
	if id > 0 {
		b.WriteString(`"id":`)
		b.Write(strconv.AppendInt(b.AvailableBuffer(), id, 10))
		b.WriteByte(',')
	}
	b.WriteString(`"method":`)
	writeString(b, method)
	if params != nil {
		b.WriteString(`,"params":`)
		b.Write(params)
	}
	b.WriteByte('}')
}

// appendResponse writes a response to id with a result (already encoded)
// or an error.
func appendResponse(b *bytes.Buffer, id json.RawMessage, result []byte, rerr *rpcError) {
	b.WriteString(`{"jsonrpc":"2.0","id":`)
	if len(id) == 0 {
		b.WriteString("null")
	} else {
		b.Write(id)
	}
	if rerr != nil {
		e, _ := json.Marshal(rerr)
		b.WriteString(`,"error":`)
		b.Write(e)
	} else {
		b.WriteString(`,"result":`)
		b.Write(result)
	}
	b.WriteByte('}')
}

// writeString writes s as a JSON string.
func writeString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s)
	b.Write(q)
}

// toolCallParams are the params of tools/call; arguments are encoded JSON.
type toolCallParams struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments,omitempty"`
}

// firstText returns the first text content of a tools/call result (raw
// is valid JSON: it was sliced from a validated message); a result flagged
// isError is an error.
func firstText(raw json.RawMessage) (string, error) {
	res := parseRaw(raw)
	if !res.IsObject() {
		return "", errors.New("plugin server answered tools/call with something that is not a tool result")
	}
	isError := res.Get("isError").Bool()
	var text gjson.Result
	res.Get("content").ForEach(func(_, c gjson.Result) bool {
		if c.Get("type").Str == "text" {
			text = c.Get("text")
			return false
		}
		return true
	})
	switch {
	case text.Exists() && isError:
		return "", fmt.Errorf("plugin server tool error: %s", text.String())
	case isError:
		return "", errors.New("plugin server tool error")
	case text.Type != gjson.String:
		return "", errors.New("plugin server answered without text content")
	}
	return text.Str, nil
}
