package mcpparse

import (
	"bytes"
	"strings"

	"github.com/tidwall/gjson"
)

// DefaultMaxDepth is the nesting limit Parse applies when Options.MaxDepth is
// not set: 64 levels of objects and arrays, the top-level value counting as 1.
const DefaultMaxDepth = 64

// Options tune Parse.
type Options struct {
	// MaxDepth is the deepest nesting of objects and arrays accepted; 0 means
	// DefaultMaxDepth. A deeper body is rejected as a whole (ReasonTooDeep).
	MaxDepth int
	// AllowCaseVariantKeys turns off the rule that two keys of one object,
	// at any depth, must not be equal under Unicode case folding ("path" and
	// "Path"). Go's encoding/json matches struct fields case-insensitively and
	// keeps the last match, so a Go MCP server decoding tool arguments into a
	// struct would read a different value than a plugin inspecting "path".
	// Protocol keys (see Parse) are checked whatever this says.
	AllowCaseVariantKeys bool
}

func (o Options) maxDepth() int {
	if o.MaxDepth <= 0 {
		return DefaultMaxDepth
	}
	return o.MaxDepth
}

// Kind classifies a JSON-RPC message.
type Kind uint8

// The kinds of message.
const (
	KindInvalid      Kind = iota // failed validation; see Message.Err
	KindRequest                  // method and id
	KindNotification             // method, no id
	KindResponse                 // result and id
	KindError                    // error and id (null allowed)
)

var kindNames = [...]string{"invalid", "request", "notification", "response", "error"}

// String returns the kind's lower-case name.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Raw is a JSON value inside a body: its bytes (a sub-slice of the body, not a
// copy, with capacity clipped so appending to it cannot overwrite the body) and
// its offsets in the body. The zero Raw means the value is absent.
type Raw struct {
	Bytes      []byte
	Start, End int
}

// Present reports whether the value exists.
func (r Raw) Present() bool { return r.Bytes != nil }

// Replace returns the Edit that replaces this value with b in its body.
func (r Raw) Replace(b []byte) Edit { return Edit{Start: r.Start, End: r.End, New: b} }

// rawAt returns the Raw of a recorded value span of data.
func rawAt(data []byte, sp span) Raw {
	if sp.end == 0 {
		return Raw{}
	}
	start, end := int(sp.start), int(sp.end)
	return Raw{Bytes: data[start:end:end], Start: start, End: end}
}

// isString reports whether the raw value is a JSON string.
func (r Raw) isString() bool { return len(r.Bytes) > 0 && r.Bytes[0] == '"' }

func isVersion2(r Raw) bool {
	v, _ := decodeString(r)
	return v == "2.0"
}

// decodeString returns the decoded value of a validated JSON string; the
// result is a copy when copied is true, else a view of the body.
func decodeString(r Raw) (s string, copied bool) {
	content := r.Bytes[1 : len(r.Bytes)-1]
	if bytes.IndexByte(content, '\\') < 0 {
		return bstr(content), false
	}
	return string(appendUnescaped(nil, content)), true
}

// Body is a parsed HTTP body: one message or a batch.
type Body struct {
	Batch    bool      // the body is a JSON array
	Messages []Message // one per message or batch element, in order
	one      [1]Message
}

// Message is one JSON-RPC message of a Body.
type Message struct {
	Kind   Kind
	ID     ID     // zero for notifications and unreadable ids
	Method string // escape-decoded; "" for responses
	Family Family // the hooked family of Method (requests and notifications); FamilyNone for responses
	Params Raw    // absent if the message has none
	Result Raw
	Error  Raw
	Start  int   // the message's offsets in the body
	End    int   //
	Index  int   // position in the batch (0 for a single message)
	Err    error // a *Error if the message failed validation (then Kind is KindInvalid)

	target    string // tools/call and prompts/get name, resources/read uri
	targetRaw Raw    // the same, as written
	args      Raw    // arguments (tool, prompt) or _meta (resource)
}

// Parse reads an MCP HTTP body: a JSON-RPC message or a batch of them.
//
// It first validates the whole body in one pass (see the package doc for the
// rules). If the body is not readable JSON — syntax, trailing data, invalid
// UTF-8, a BOM, nesting past the limit — Parse returns a nil Body and a *Error
// with Index -1 (Code -32700, or -32600 for depth). A top-level scalar or an
// empty batch is also rejected as a whole (-32600).
//
// Otherwise every message is classified and checked on its own: the envelope
// (jsonrpc "2.0"; id a string or number, null only in an error response;
// method a string; params an object or array; exactly one of method, result,
// error) and, for tools/call, prompts/get and resources/read, the params
// object with its string name/uri and object arguments. Keys that are case
// variants of protocol keys are rejected: jsonrpc, id, method, params, result
// and error in a message; name, arguments, uri and _meta in the params of a
// hooked method; content, contents, messages, isError and structuredContent
// in a result; code, message and data in an error.
//
// A message that fails gets Kind KindInvalid and its *Error in Err (with the
// id when it could be read unambiguously, and its batch Index). Parse then
// returns the Body together with the first such error, so a caller that only
// checks err rejects the whole body (fail closed), while one that wants to
// answer bad batch elements individually can walk Messages.
//
// Parse does not copy the body: Raw values point into it. Method, ID and
// target names are copies and outlive it. Parse is safe for concurrent use.
func Parse(body []byte, opts Options) (*Body, error) {
	s := getScanner(body, opts)
	defer putScanner(s)
	batch := s.validate()
	if s.fatal != nil {
		return nil, s.fatal
	}
	if len(s.msgs) == 0 {
		if batch {
			return nil, newError(ReasonEmptyBatch, 0, "")
		}
		return nil, newError(ReasonNotObject, 0, "body is not an object or array")
	}
	b := &Body{Batch: batch}
	if len(s.msgs) == 1 {
		b.Messages = b.one[:1]
	} else {
		b.Messages = make([]Message, len(s.msgs))
	}
	var first error
	for i := range b.Messages {
		m := &b.Messages[i]
		m.Start, m.End, m.Index = int(s.spans[2*i]), int(s.spans[2*i+1]), i
		errIndex := -1
		if batch {
			errIndex = i
		}
		readMessage(m, body, &s.msgs[i], errIndex)
		if m.Err != nil && first == nil {
			first = m.Err
		}
	}
	return b, first
}

// readMessage fills m from the values the validator recorded.
func readMessage(m *Message, data []byte, st *msgState, errIndex int) {
	fail := func(r Reason, offset int, detail string) { failMessage(m, errIndex, r, offset, detail) }
	if st.reason != "" {
		if st.reason != ReasonNotObject {
			m.ID = looseID(data[m.Start:m.End])
		}
		fail(st.reason, st.offset, st.detail)
		return
	}

	version := rawAt(data, st.vals[slotJSONRPC])
	id := rawAt(data, st.vals[slotID])
	method := rawAt(data, st.vals[slotMethod])
	m.Params = rawAt(data, st.vals[slotParams])
	m.Result = rawAt(data, st.vals[slotResult])
	m.Error = rawAt(data, st.vals[slotError])

	idNull := false
	if id.Present() {
		switch c := id.Bytes[0]; {
		case c == '"' || c == '-' || ('0' <= c && c <= '9'):
			m.ID = idFromBody(id.Bytes)
		case c == 'n':
			m.ID, idNull = NullID(), true
		default:
			fail(ReasonBadID, id.Start, "id must be a string or number")
			return
		}
	}
	if !version.isString() || !isVersion2(version) {
		fail(ReasonBadVersion, m.Start, `"jsonrpc" must be "2.0"`)
		return
	}

	switch {
	case method.Present():
		if !method.isString() {
			fail(ReasonBadMethod, method.Start, "method must be a string")
			return
		}
		if m.Result.Present() || m.Error.Present() {
			fail(ReasonBadMessage, m.Start, "a request carries no result or error")
			return
		}
		name, _ := decodeString(method)
		m.Method = methodName(name) // interned or cloned: never a view of the body
		switch {
		case !id.Present():
			m.Kind = KindNotification
		case idNull:
			fail(ReasonBadID, id.Start, "a request id must not be null")
			return
		default:
			m.Kind = KindRequest
		}
	case m.Result.Present() && m.Error.Present():
		fail(ReasonBadMessage, m.Start, "a response carries result or error, not both")
		return
	case m.Result.Present():
		if !id.Present() || idNull {
			fail(ReasonBadID, m.Start, "a response needs a string or number id")
			return
		}
		m.Kind = KindResponse
	case m.Error.Present():
		if !id.Present() {
			fail(ReasonBadID, m.Start, "an error response needs an id (null allowed)")
			return
		}
		if m.Error.Bytes[0] != '{' {
			fail(ReasonBadMessage, m.Error.Start, "error must be an object")
			return
		}
		m.Kind = KindError
	default:
		fail(ReasonBadMessage, m.Start, "no method, result or error")
		return
	}

	if m.Params.Present() {
		if c := m.Params.Bytes[0]; c != '{' && c != '[' {
			fail(ReasonBadParams, m.Params.Start, "params must be an object or array")
			return
		}
	}
	if m.Kind == KindResponse || m.Kind == KindError {
		return
	}
	m.Family = FamilyOf(m.Method)
	if m.Family == FamilyNone {
		return
	}
	if st.paramsFold >= 0 {
		fail(ReasonCaseVariantKey, st.paramsFold, st.paramsFoldKey)
		return
	}
	if r, off, detail := readTarget(m, data, st); r != "" {
		fail(r, off, detail)
	}
}

// failMessage marks m invalid with the error. It is not inlined: each
// inlined copy of the Message literal would add a Message to the caller's
// frame, and readMessage, with a dozen failure paths, grew a 5 KiB frame
// that made every exchange's goroutine grow its stack once more.
//
//go:noinline
func failMessage(m *Message, errIndex int, r Reason, offset int, detail string) {
	e := newError(r, offset, detail)
	e.Index = errIndex
	e.ID = m.ID
	*m = Message{Kind: KindInvalid, ID: m.ID, Start: m.Start, End: m.End, Index: m.Index, Err: e}
}

// readTarget reads and checks the params of a hooked request.
func readTarget(m *Message, data []byte, st *msgState) (Reason, int, string) {
	field, nameSlot, argsSlot := "name", slotName, slotArguments
	if m.Family == FamilyResource {
		field, nameSlot, argsSlot = "uri", slotURI, slotMeta
	}
	if !m.Params.Present() {
		return ReasonMissingField, m.Start, m.Method + " needs params." + field
	}
	if m.Params.Bytes[0] != '{' {
		return ReasonBadParams, m.Params.Start, m.Method + " params must be an object"
	}
	name := rawAt(data, st.vals[nameSlot])
	if !name.isString() {
		return ReasonMissingField, m.Params.Start, m.Method + " needs a string params." + field
	}
	args := rawAt(data, st.vals[argsSlot])
	if m.Family != FamilyResource && args.Present() && args.Bytes[0] != '{' {
		return ReasonBadArguments, args.Start, "params.arguments must be an object"
	}
	m.args = args
	m.targetRaw = name
	s, copied := decodeString(name)
	if !copied {
		s = strings.Clone(s)
	}
	m.target = s
	return "", 0, ""
}

// looseID reads the id of a message that failed validation, for the error
// response. It gives up (zero ID) unless exactly one key is "id" and no other
// key folds to it, so an ambiguous id is never echoed.
func looseID(obj []byte) ID {
	var id gjson.Result
	n := 0
	gjson.Parse(bstr(obj)).ForEach(func(k, v gjson.Result) bool {
		if strings.EqualFold(k.Str, "id") {
			n++
			if k.Str == "id" {
				id = v
			}
		}
		return n < 2
	})
	if n != 1 || !id.Exists() {
		return ID{}
	}
	switch id.Type {
	case gjson.String, gjson.Number, gjson.Null:
		return ID{raw: strings.Clone(id.Raw)}
	}
	return ID{}
}

// methodNames interns the MCP method names so parsing a known method does not
// allocate.
var methodNames = func() map[string]string {
	m := map[string]string{}
	for _, s := range []string{
		MethodToolsCall, MethodPromptsGet, MethodResourcesRead,
		"initialize", "ping", "tools/list", "prompts/list", "resources/list",
		"resources/templates/list", "resources/subscribe", "resources/unsubscribe",
		"logging/setLevel", "completion/complete", "sampling/createMessage",
		"elicitation/create", "roots/list",
		"notifications/initialized", "notifications/cancelled", "notifications/progress",
		"notifications/message", "notifications/resources/updated",
		"notifications/resources/list_changed", "notifications/tools/list_changed",
		"notifications/prompts/list_changed", "notifications/roots/list_changed",
	} {
		m[s] = s
	}
	return m
}()

func methodName(s string) string {
	if v, ok := methodNames[s]; ok {
		return v
	}
	return strings.Clone(s)
}

// FindResponse returns the response or error message whose id equals id (see
// ID.Equal), or nil. Invalid messages never match.
func (b *Body) FindResponse(id ID) *Message {
	if id.IsZero() {
		return nil
	}
	for i := range b.Messages {
		m := &b.Messages[i]
		if (m.Kind == KindResponse || m.Kind == KindError) && m.ID.Equal(id) {
			return m
		}
	}
	return nil
}
