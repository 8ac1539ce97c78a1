package mcpparse

import (
	"bytes"
	"hash/maphash"
	"math"
	"slices"
	"strconv"
	"sync"
	"unicode"
	"unicode/utf8"
)

// The validator is one hand-written pass over the body that rejects every
// construct two JSON parsers may read differently: malformed JSON, trailing
// data, invalid UTF-8, a BOM, nesting past the limit, duplicate keys (after
// escape decoding) at any depth, and keys that equal a protocol key — or, by
// default, another key of the same object — only under Unicode case folding.
//
// It allocates nothing per key: keys of the objects currently open live in a
// pooled stack; small objects are checked by comparing 64-bit keyed hashes
// linearly, large ones through a pooled open-addressing index, so a body with
// one huge object costs O(n), not O(n²), and colliding keys cannot be forced
// because the hash seed is random per process.

// keySeed seeds key hashes; random per process so collisions cannot be planned.
var keySeed = maphash.MakeSeed()

// linearKeys is the object size up to which duplicates are found by a linear
// scan of hashes; larger objects use the index.
const linearKeys = 16

// role says which protocol keys an object may carry.
type role uint8

const (
	roleOther    role = iota
	roleEnvelope      // a message: jsonrpc, id, method, params, result, error
	roleParams        // a message's params: name, arguments, uri, _meta
	roleResult        // a response's result: content, contents, messages, ...
	roleError         // an error response's error: code, message, data
)

// protoKey is a protocol key and its case-folded form (see foldKey).
type protoKey struct{ exact, folded string }

func protoKeys(keys ...string) []protoKey {
	out := make([]protoKey, len(keys))
	for i, k := range keys {
		out[i] = protoKey{k, string(appendFolded(nil, []byte(k)))}
	}
	return out
}

// roleKeys lists the protocol keys of each role. The envelope and params
// orders are the slot order of msgState.vals.
var roleKeys = [...][]protoKey{
	roleEnvelope: protoKeys("jsonrpc", "id", "method", "params", "result", "error"),
	roleParams:   protoKeys("name", "arguments", "uri", "_meta"),
	roleResult:   protoKeys("content", "contents", "messages", "isError", "structuredContent"),
	roleError:    protoKeys("code", "message", "data"),
}

// keyRec is one key of an open object.
type keyRec struct {
	hash       uint64
	start, end int32 // the key's content (between the quotes) in the body
	esc        bool  // content holds escapes
}

// Slots of msgState.vals: the values of the protocol keys of a message and of
// its params, in roleKeys order.
const (
	slotJSONRPC = iota
	slotID
	slotMethod
	slotParams
	slotResult
	slotError
	slotName
	slotArguments
	slotURI
	slotMeta
	numSlots
)

// span is a value's offsets in the body; end == 0 means absent.
type span struct{ start, end int32 }

// msgState is what the validator learnt about one message (the body, or one
// batch element) that the envelope reader needs. The envelope is read from
// these spans rather than by a second parser, so what was validated is
// exactly what is read.
type msgState struct {
	vals [numSlots]span

	reason Reason // first validation error in the message; "" if none
	offset int
	detail string
	// paramsFold is the offset of a key in params that is a case variant of
	// name/arguments/uri/_meta, or -1. It is an error only for hooked methods,
	// which the validator does not know yet when it sees params.
	paramsFold    int
	paramsFoldKey string
}

// scanner is the validator's state, pooled between calls.
type scanner struct {
	data     []byte
	pos      int
	maxDepth int
	foldAll  bool // reject fold-equal keys in every object, not only protocol keys

	keys    []keyRec
	index   []int32 // open addressing over keys of large objects: keys index + 1; 0 empty
	indexed int
	sorted  []int32 // scratch for rehashing
	dec     []byte  // scratch: decoded key
	dec2    []byte  // scratch: decoded earlier key
	fold    []byte  // scratch: folded key

	fatal *Error     // an error that makes the whole body unreadable
	msg   msgState   // the message being scanned
	msgs  []msgState // per message, in order
	spans []int32    // start, end of each message
}

var scannerPool = sync.Pool{New: func() any { return new(scanner) }}

// maxPooledKeys bounds the scratch a pooled scanner keeps, so one huge body
// does not pin its memory forever.
const maxPooledKeys = 1 << 14

func getScanner(data []byte, opts Options) *scanner {
	s := scannerPool.Get().(*scanner)
	s.data = data
	s.pos = 0
	s.maxDepth = opts.maxDepth()
	s.foldAll = !opts.AllowCaseVariantKeys
	s.fatal = nil
	s.msgs = s.msgs[:0]
	s.spans = s.spans[:0]
	return s
}

func putScanner(s *scanner) {
	s.data = nil
	s.fatal = nil
	s.msg = msgState{}
	if cap(s.keys) > maxPooledKeys || cap(s.msgs) > maxPooledKeys {
		return
	}
	clear(s.msgs[:cap(s.msgs)])
	scannerPool.Put(s)
}

// validate scans the whole body. Afterwards s.fatal is set if the body cannot
// be read at all; otherwise s.spans and s.msgs describe each message (a
// top-level scalar yields no message and ReasonNotObject).
func (s *scanner) validate() (batch bool) {
	d := s.data
	if len(d) > math.MaxInt32 {
		s.fail(ReasonTooLarge, 0, "")
		return false
	}
	if bytes.HasPrefix(d, []byte("\xEF\xBB\xBF")) {
		s.fail(ReasonBOM, 0, "")
		return false
	}
	s.skipSpace()
	if s.pos >= len(d) {
		s.fail(ReasonInvalidJSON, s.pos, "empty body")
		return false
	}
	switch d[s.pos] {
	case '{':
		s.message(1)
	case '[':
		batch = true
		s.pos++
		s.skipSpace()
		if s.pos < len(d) && d[s.pos] == ']' {
			s.pos++
			break
		}
		for s.fatal == nil {
			s.message(2)
			if s.fatal != nil {
				break
			}
			s.skipSpace()
			if s.pos < len(d) && d[s.pos] == ',' {
				s.pos++
				s.skipSpace()
				continue
			}
			if s.pos < len(d) && d[s.pos] == ']' {
				s.pos++
				break
			}
			s.fail(ReasonInvalidJSON, s.pos, "expected , or ] in batch")
		}
	default:
		s.value(1, roleOther)
	}
	if s.fatal != nil {
		return batch
	}
	s.skipSpace()
	if s.pos != len(d) {
		s.fail(ReasonTrailingData, s.pos, "")
	}
	return batch
}

// message scans one message (an object at the given depth; anything else is
// recorded as ReasonNotObject).
func (s *scanner) message(depth int) {
	s.msg = msgState{paramsFold: -1}
	start := s.pos
	if start >= len(s.data) {
		s.fail(ReasonInvalidJSON, start, "unexpected end of input")
		return
	}
	if s.data[s.pos] == '{' {
		s.object(depth, roleEnvelope)
	} else {
		s.value(depth, roleOther)
		s.elemFail(ReasonNotObject, start, "")
	}
	s.msgs = append(s.msgs, s.msg)
	s.spans = append(s.spans, int32(start), int32(s.pos))
}

// fail records an error that makes the body unreadable.
func (s *scanner) fail(r Reason, at int, detail string) {
	// A stray byte is a syntax error; name the more precise cause when it is
	// not even UTF-8.
	if r == ReasonInvalidJSON && at < len(s.data) && s.data[at] >= utf8.RuneSelf {
		if c, n := utf8.DecodeRune(s.data[at:]); c == utf8.RuneError && n == 1 {
			r, detail = ReasonInvalidUTF8, ""
		}
	}
	if s.fatal == nil {
		s.fatal = newError(r, at, detail)
	}
}

// elemFail records the first error of the current message; scanning goes on
// so the body's syntax is still checked to the end.
func (s *scanner) elemFail(r Reason, at int, detail string) {
	if s.msg.reason == "" {
		s.msg.reason, s.msg.offset, s.msg.detail = r, at, detail
	}
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) && isSpace(s.data[s.pos]) {
		s.pos++
	}
}

// value scans any JSON value at s.pos; depth is the depth it has if it is a
// container.
func (s *scanner) value(depth int, r role) {
	d := s.data
	if s.pos >= len(d) {
		s.fail(ReasonInvalidJSON, s.pos, "unexpected end of input")
		return
	}
	end := -1
	switch c := d[s.pos]; {
	case c == '{':
		s.object(depth, r)
		return
	case c == '[':
		s.array(depth)
		return
	case c == '"':
		var reason Reason
		var at int
		end, _, reason, at = scanString(d, s.pos+1)
		if reason != "" {
			s.fail(reason, at, "")
			return
		}
	case c == 't':
		end = scanLiteral(d, s.pos, "true")
	case c == 'f':
		end = scanLiteral(d, s.pos, "false")
	case c == 'n':
		end = scanLiteral(d, s.pos, "null")
	case c == '-' || ('0' <= c && c <= '9'):
		end = scanNumber(d, s.pos)
	}
	if end < 0 {
		s.fail(ReasonInvalidJSON, s.pos, "unexpected character")
		return
	}
	s.pos = end
}

func (s *scanner) tooDeep(depth int) bool {
	if depth > s.maxDepth {
		s.fail(ReasonTooDeep, s.pos, "limit "+strconv.Itoa(s.maxDepth))
		return true
	}
	return false
}

func (s *scanner) array(depth int) {
	if s.tooDeep(depth) {
		return
	}
	d := s.data
	s.pos++
	s.skipSpace()
	if s.pos < len(d) && d[s.pos] == ']' {
		s.pos++
		return
	}
	for {
		s.value(depth+1, roleOther)
		if s.fatal != nil {
			return
		}
		s.skipSpace()
		if s.pos >= len(d) {
			s.fail(ReasonInvalidJSON, s.pos, "unterminated array")
			return
		}
		switch d[s.pos] {
		case ',':
			s.pos++
			s.skipSpace()
		case ']':
			s.pos++
			return
		default:
			s.fail(ReasonInvalidJSON, s.pos, "expected , or ]")
			return
		}
	}
}

func (s *scanner) object(depth int, r role) {
	if s.tooDeep(depth) {
		return
	}
	d := s.data
	s.pos++
	s.skipSpace()
	if s.pos < len(d) && d[s.pos] == '}' {
		s.pos++
		return
	}
	base := len(s.keys)
	indexed := false
	defer s.popKeys(base, &indexed)
	for {
		if s.pos >= len(d) || d[s.pos] != '"' {
			s.fail(ReasonInvalidJSON, s.pos, "expected object key")
			return
		}
		kstart := s.pos + 1
		end, esc, reason, at := scanString(d, kstart)
		if reason != "" {
			s.fail(reason, at, "")
			return
		}
		s.pos = end
		child, slot := s.key(base, &indexed, kstart, end-1, esc, r)
		s.skipSpace()
		if s.pos >= len(d) || d[s.pos] != ':' {
			s.fail(ReasonInvalidJSON, s.pos, "expected :")
			return
		}
		s.pos++
		s.skipSpace()
		vstart := s.pos
		s.value(depth+1, child)
		if s.fatal != nil {
			return
		}
		if slot >= 0 {
			s.msg.vals[slot] = span{int32(vstart), int32(s.pos)}
		}
		s.skipSpace()
		if s.pos >= len(d) {
			s.fail(ReasonInvalidJSON, s.pos, "unterminated object")
			return
		}
		switch d[s.pos] {
		case ',':
			s.pos++
			s.skipSpace()
		case '}':
			s.pos++
			return
		default:
			s.fail(ReasonInvalidJSON, s.pos, "expected , or }")
			return
		}
	}
}

// key checks one object key against the earlier keys of its object (those
// from keys[base:]) and against the protocol keys of the object's role, and
// returns the role of the member's value and, for a protocol key of a message
// or its params, the msgState slot that records the value (else -1).
func (s *scanner) key(base int, indexed *bool, start, end int, esc bool, r role) (role, int) {
	content := s.data[start:end]
	dec := content
	if esc {
		s.dec = appendUnescaped(s.dec[:0], content)
		dec = s.dec
	}
	if s.foldAll || r != roleOther {
		s.fold = appendFolded(s.fold[:0], dec)
	}
	// The hash is of the folded key whenever fold-equal keys matter, so that
	// they meet in the same bucket as exact duplicates.
	var h uint64
	if s.foldAll {
		h = maphash.Bytes(keySeed, s.fold)
	} else {
		h = maphash.Bytes(keySeed, dec)
	}

	n := len(s.keys) - base
	if !*indexed && n >= linearKeys {
		for i := base; i < len(s.keys); i++ {
			s.indexInsert(i)
		}
		*indexed = true
	}
	if *indexed {
		mask := len(s.index) - 1
		for i := int(h) & mask; s.index[i] != 0; i = (i + 1) & mask {
			if k := int(s.index[i]) - 1; k >= base && s.keys[k].hash == h {
				s.compareKey(k, dec, start)
			}
		}
	} else {
		for k := base; k < len(s.keys); k++ {
			if s.keys[k].hash == h {
				s.compareKey(k, dec, start)
			}
		}
	}
	s.keys = append(s.keys, keyRec{hash: h, start: int32(start), end: int32(end), esc: esc})
	if *indexed {
		s.indexInsert(len(s.keys) - 1)
	}

	if r == roleOther {
		return roleOther, -1
	}
	for i, p := range roleKeys[r] {
		if string(s.fold) != p.folded {
			continue
		}
		if string(dec) != p.exact {
			if r == roleParams {
				if s.msg.paramsFold < 0 {
					s.msg.paramsFold = start - 1
					s.msg.paramsFoldKey = "key " + quoteKey(dec) + " is a case variant of params." + p.exact
				}
			} else {
				s.elemFail(ReasonCaseVariantKey, start-1, "key "+quoteKey(dec)+" is a case variant of "+p.exact)
			}
			return roleOther, -1
		}
		switch r {
		case roleEnvelope:
			switch i {
			case slotParams:
				return roleParams, i
			case slotResult:
				return roleResult, i
			case slotError:
				return roleError, i
			}
			return roleOther, i
		case roleParams:
			return roleOther, slotName + i
		}
		return roleOther, -1
	}
	return roleOther, -1
}

// compareKey reports a duplicate or case-variant pair when the earlier key k
// (whose hash matched) equals dec exactly or under case folding.
func (s *scanner) compareKey(k int, dec []byte, at int) {
	rec := s.keys[k]
	other := s.data[rec.start:rec.end]
	if rec.esc {
		s.dec2 = appendUnescaped(s.dec2[:0], other)
		other = s.dec2
	}
	switch {
	case bytes.Equal(other, dec):
		s.elemFail(ReasonDuplicateKey, at-1, "key "+quoteKey(dec))
	case s.foldAll && bytes.EqualFold(other, dec):
		s.elemFail(ReasonCaseVariantKey, at-1, "keys "+quoteKey(other)+" and "+quoteKey(dec))
	}
}

// popKeys forgets the keys of the object that started at base. Index entries
// are removed newest first; with linear probing that is always safe, because
// no surviving entry was inserted after them and so none probed past them.
func (s *scanner) popKeys(base int, indexed *bool) {
	if *indexed {
		mask := len(s.index) - 1
		for k := len(s.keys) - 1; k >= base; k-- {
			want := int32(k + 1)
			i := int(s.keys[k].hash) & mask
			for s.index[i] != want {
				i = (i + 1) & mask
			}
			s.index[i] = 0
			s.indexed--
		}
	}
	s.keys = s.keys[:base]
}

func (s *scanner) indexInsert(k int) {
	if (s.indexed+1)*2 > len(s.index) {
		s.indexGrow()
	}
	mask := len(s.index) - 1
	i := int(s.keys[k].hash) & mask
	for s.index[i] != 0 {
		i = (i + 1) & mask
	}
	s.index[i] = int32(k + 1)
	s.indexed++
}

// indexGrow doubles the index, reinserting the live entries in their original
// (ascending) order so that newest-first removal stays valid.
func (s *scanner) indexGrow() {
	s.sorted = s.sorted[:0]
	for _, v := range s.index {
		if v != 0 {
			s.sorted = append(s.sorted, v)
		}
	}
	slices.Sort(s.sorted)
	size := max(64, 2*len(s.index))
	if cap(s.index) >= size {
		s.index = s.index[:size]
		clear(s.index)
	} else {
		s.index = make([]int32, size)
	}
	mask := size - 1
	for _, v := range s.sorted {
		i := int(s.keys[v-1].hash) & mask
		for s.index[i] != 0 {
			i = (i + 1) & mask
		}
		s.index[i] = v
	}
}

// appendFolded appends the case-folded form of the UTF-8 key b: every rune
// replaced by the smallest rune of its Unicode simple-folding orbit (the set
// strings.EqualFold treats as equal). Two keys are EqualFold exactly when
// their folded forms are equal; "k", "K" and the Kelvin sign U+212A all fold
// to "K", "s", "S" and long s U+017F to "S".
func appendFolded(dst, b []byte) []byte {
	ascii := true
	for _, c := range b {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		for _, c := range b {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
		}
		return dst
	}
	for _, r := range bstr(b) {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		dst = utf8.AppendRune(dst, m)
	}
	return dst
}

// quoteKey quotes a key for an error detail, shortened so that an attacker's
// megabyte-long key does not end up in logs and error responses whole.
func quoteKey(k []byte) string {
	const maxKey = 64
	if len(k) > maxKey {
		cut := maxKey
		for cut > 0 && !utf8.RuneStart(k[cut]) {
			cut--
		}
		return strconv.Quote(string(k[:cut])) + "…"
	}
	return strconv.Quote(string(k))
}
