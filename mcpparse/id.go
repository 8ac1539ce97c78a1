package mcpparse

import (
	"strconv"
	"strings"
)

// ID is a JSON-RPC id, kept exactly as written in the body.
//
// The zero ID means "absent" (a notification, or an error whose message id
// could not be read). Two IDs are Equal when they are the same JSON value of
// the same type: strings compare by decoded value ("a" equals "\u0061"),
// numbers by their exact text (1, 1.0 and 1e0 are three different ids, because
// converting them would collide large integers), and a string never equals a
// number ("1" ≠ 1).
type ID struct {
	raw string // exact JSON text: a string literal, a number or null; "" = absent
}

// IDFromRaw builds an ID from its JSON text (a string literal, a number or
// null, no surrounding whitespace), for example a key stored in a table. An
// empty raw is the zero (absent) ID.
func IDFromRaw(raw []byte) (ID, error) {
	if len(raw) == 0 {
		return ID{}, nil
	}
	var end int
	switch c := raw[0]; {
	case c == '"':
		var r Reason
		var at int
		end, _, r, at = scanString(raw, 1)
		if r != "" {
			return ID{}, newError(r, at, "id")
		}
	case c == 'n':
		end = scanLiteral(raw, 0, "null")
	case c == '-' || ('0' <= c && c <= '9'):
		end = scanNumber(raw, 0)
	default:
		return ID{}, newError(ReasonBadID, 0, "id must be a string, number or null")
	}
	if end != len(raw) {
		return ID{}, newError(ReasonBadID, 0, "id must be one JSON string, number or null")
	}
	return ID{raw: string(raw)}, nil
}

// idFromBody clones an already validated id out of a body.
func idFromBody(raw []byte) ID { return ID{raw: string(raw)} }

// StringID returns the ID for the string s.
func StringID(s string) ID { return ID{raw: string(QuoteString(s))} }

// NumberID returns the ID for the integer n.
func NumberID(n int64) ID { return ID{raw: strconv.FormatInt(n, 10)} }

// NullID returns the null ID, used by error responses to unreadable requests.
func NullID() ID { return ID{raw: "null"} }

// Raw returns the id's JSON text (a copy); nil for the zero ID.
func (id ID) Raw() []byte {
	if id.raw == "" {
		return nil
	}
	return []byte(id.raw)
}

// appendJSON appends the id as a JSON value; an absent id is written as null.
func (id ID) appendJSON(dst []byte) []byte {
	if id.raw == "" {
		return append(dst, "null"...)
	}
	return append(dst, id.raw...)
}

// IsZero reports whether the id is absent.
func (id ID) IsZero() bool { return id.raw == "" }

// IsNull reports whether the id is the JSON null.
func (id ID) IsNull() bool { return id.raw == "null" }

// IsString reports whether the id is a JSON string.
func (id ID) IsString() bool { return id.raw != "" && id.raw[0] == '"' }

// IsNumber reports whether the id is a JSON number.
func (id ID) IsNumber() bool { return id.raw != "" && id.raw != "null" && id.raw[0] != '"' }

// String returns the id's JSON text as written ("" when absent), for logs.
func (id ID) String() string { return id.raw }

// Key returns a string that is equal for two IDs exactly when they are Equal,
// for use as a map key. A string id's key is a double quote followed by the
// decoded value (no closing quote); a number's key is its text; null is
// "null"; absent is "". Keys never collide across types because numbers and
// null never start with a quote.
func (id ID) Key() string {
	if !id.IsString() {
		return id.raw
	}
	content := id.raw[1 : len(id.raw)-1]
	if !strings.Contains(content, `\`) {
		return id.raw[:len(id.raw)-1]
	}
	return string(appendUnescaped([]byte{'"'}, []byte(content)))
}

// Equal reports whether two ids are the same JSON value (see ID).
func (id ID) Equal(other ID) bool {
	if id.raw == other.raw {
		return true
	}
	if !id.IsString() || !other.IsString() {
		return false
	}
	return id.Key() == other.Key()
}
