package mcpparse

import (
	"bytes"
	"strings"
)

// Event is one block of a text/event-stream: the lines up to and including
// the blank line that ends it.
//
// The fields follow the WHATWG "interpret an event stream" rules as they
// apply to this block alone (a browser also carries the last event id over
// from earlier blocks; this decoder leaves that to the caller). Raw is the
// block's exact bytes, so an event nobody changed is passed on byte for byte:
// the Raw of all events returned by Feed and Flush, concatenated, is exactly
// the stream.
type Event struct {
	ID    string // the last valid "id" field (one holding NUL is ignored, as browsers do)
	HasID bool   // an "id" field was present (an empty one resets the last event id)
	Type  string // the last "event" field; "" means "message"
	// Data is the "data" fields joined by "\n". A browser dispatches the event
	// only if HasData; blocks with only comments, id or retry (priming events,
	// keep-alives) are returned too, so their bytes pass through.
	Data    string
	HasData bool
	Retry   string // the last "retry" field made only of ASCII digits
	Raw     []byte

	// trimmed is Data as the Go SDK reads it, each data line with all its
	// surrounding white space removed, when that differs from Data.
	trimmed    string
	hasTrimmed bool
}

// JSONData returns the event's data the way the most lenient client reads
// it: the Go SDK trims every data line of all surrounding white space
// (Unicode spaces, form feeds, …), where the WHATWG algorithm removes one
// leading space. JSON that either reading accepts is in JSONData, so a
// result that reaches one client is never missed for the other.
func (ev Event) JSONData() string {
	if ev.hasTrimmed {
		return ev.trimmed
	}
	return ev.Data
}

// HasBareCR reports whether the block holds a CR that is not part of a CRLF
// (a CR at the very end of Raw counts: its LF, if any, is the next block's).
// The WHATWG algorithm ends a line there; the Go SDK ends lines only at LF.
// Such a block can read as different events to different clients, so the
// filter re-encodes it with LF line endings (EncodeEvent): then every client
// reads what the filter read.
func (ev Event) HasBareCR() bool {
	raw := ev.Raw
	for {
		i := bytes.IndexByte(raw, '\r')
		if i < 0 {
			return false
		}
		if i+1 == len(raw) || raw[i+1] != '\n' {
			return true
		}
		raw = raw[i+2:]
	}
}

// SSEDecoder splits a text/event-stream into events incrementally, whatever
// the chunk boundaries. Lines end with LF, CRLF or CR (a CR at the end of one
// chunk and an LF at the start of the next are one line ending); a UTF-8 BOM
// is skipped at the start of the stream only. Bytes are not UTF-8 decoded:
// invalid UTF-8 in data is kept, and Parse rejects it.
//
// The incomplete tail of the stream is held back until a later chunk ends it;
// Buffered reports how many bytes that is, so callers can bound it. The zero
// value is ready to use. A decoder serves one stream and is not safe for
// concurrent use.
type SSEDecoder struct {
	buf     []byte // raw bytes of the open block not yet returned
	lineOff int    // where the unfinished line starts in buf
	started bool   // the BOM question is settled
	skipLF  bool   // the last line ended with CR: a following LF belongs to it
	data    []byte // the open block's data buffer
	cur     Event  // the open block's other fields
	// untrimmed is set when a data line of the open block has white space
	// around it that the Go SDK would trim (beyond WHATWG's one space).
	untrimmed bool
}

// NewSSEDecoder returns a decoder at the start of a stream.
func NewSSEDecoder() *SSEDecoder { return &SSEDecoder{} }

// Buffered returns the number of bytes held back (the open block so far).
func (d *SSEDecoder) Buffered() int { return len(d.buf) }

var bom = []byte("\xEF\xBB\xBF")

// Feed decodes the next chunk of the stream and returns the events it
// completes, in order (nil if none). An event's Raw may point into chunk, so
// do not reuse chunk's memory while using the events.
func (d *SSEDecoder) Feed(chunk []byte) []Event {
	if len(chunk) == 0 {
		return nil
	}
	i := 0
	if !d.started {
		// The first bytes may be a BOM split across chunks: settle it on the
		// whole prefix (at most three bytes are ever held for this).
		if len(d.buf) > 0 {
			chunk = append(d.buf, chunk...) // d.buf is our own copy
			d.buf = nil
		}
		if len(chunk) < len(bom) && bytes.HasPrefix(bom, chunk) {
			d.buf = append(d.buf, chunk...)
			return nil
		}
		d.started = true
		if bytes.HasPrefix(chunk, bom) {
			i = len(bom) // part of the first event's Raw, not of its first line
		}
	}
	if d.skipLF {
		d.skipLF = false
		if chunk[0] == '\n' {
			if len(d.buf) > 0 { // the open block's line ending
				d.buf = append(d.buf, '\n')
				d.lineOff = len(d.buf)
				chunk = chunk[1:]
			} else { // a block just ended: the LF opens the next one's Raw
				i = 1
			}
		}
	}

	var evs []Event
	// Finish the line left unfinished in buf.
	if len(d.buf) > 0 {
		eol := indexEOL(chunk)
		if eol < 0 {
			d.buf = append(d.buf, chunk...)
			return nil
		}
		next := d.lineEnd(chunk, eol)
		d.buf = append(d.buf, chunk[:next]...)
		lineLen := len(d.buf) - d.lineOff - (next - eol)
		if d.line(d.buf[d.lineOff : d.lineOff+lineLen]) {
			evs = append(evs, d.dispatch(d.buf))
			d.buf = nil
		}
		d.lineOff = len(d.buf)
		chunk = chunk[next:]
		i = 0
	}

	// Whole lines inside chunk. The open block's Raw is buf + chunk[start:].
	start := 0
	for i < len(chunk) {
		eol := indexEOL(chunk[i:])
		if eol < 0 {
			break
		}
		eol += i
		next := d.lineEnd(chunk, eol)
		blank := d.line(chunk[i:eol])
		i = next
		if blank {
			raw := chunk[start:i:i]
			if len(d.buf) > 0 {
				raw = append(d.buf, raw...)
				d.buf = nil
			}
			evs = append(evs, d.dispatch(raw))
			start = i
		}
	}
	if start < len(chunk) {
		d.lineOff = len(d.buf) + i - start
		d.buf = append(d.buf, chunk[start:]...)
	}
	return evs
}

// Flush ends the stream: the held-back tail, if any, is returned as a last
// event, its fields read as if a blank line had ended it (a browser would
// discard it, but a lenient client might not, so callers should inspect it
// like any other). The decoder is then reset for a new stream.
func (d *SSEDecoder) Flush() []Event {
	defer func() { *d = SSEDecoder{data: d.data[:0]} }()
	if len(d.buf) == 0 {
		return nil
	}
	if d.lineOff < len(d.buf) {
		d.line(d.buf[d.lineOff:])
	}
	return []Event{d.dispatch(d.buf)}
}

// indexEOL returns the index of the first CR or LF in b, or -1.
func indexEOL(b []byte) int {
	n := bytes.IndexByte(b, '\n')
	if n < 0 {
		return bytes.IndexByte(b, '\r')
	}
	if r := bytes.IndexByte(b[:n], '\r'); r >= 0 {
		return r
	}
	return n
}

// lineEnd returns the index past the line ending at b[eol], noting a CR at
// the very end of b whose LF may come with the next chunk.
func (d *SSEDecoder) lineEnd(b []byte, eol int) int {
	if b[eol] == '\r' {
		if eol+1 == len(b) {
			d.skipLF = true
		} else if b[eol+1] == '\n' {
			return eol + 2
		}
	}
	return eol + 1
}

// line interprets one complete line and reports whether it is blank (the end
// of a block).
func (d *SSEDecoder) line(l []byte) bool {
	if len(l) == 0 {
		return true
	}
	if l[0] == ':' {
		return false // comment
	}
	field, value := l, l[len(l):]
	if c := bytes.IndexByte(l, ':'); c >= 0 {
		field, value = l[:c], l[c+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(field) {
	case "data":
		if t := bytes.TrimSpace(value); len(t) != len(value) {
			d.untrimmed = true
		}
		d.data = append(d.data, value...)
		d.data = append(d.data, '\n')
		d.cur.HasData = true
	case "event":
		d.cur.Type = string(value)
	case "id":
		if bytes.IndexByte(value, 0) < 0 {
			d.cur.ID, d.cur.HasID = string(value), true
		}
	case "retry":
		if len(value) > 0 && allDigits(value) {
			d.cur.Retry = string(value)
		}
	}
	return false
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// dispatch closes the open block.
func (d *SSEDecoder) dispatch(raw []byte) Event {
	ev := d.cur
	ev.Raw = raw
	if ev.HasData {
		ev.Data = string(d.data[:len(d.data)-1])
		if d.untrimmed {
			lines := strings.Split(ev.Data, "\n")
			for i, l := range lines {
				lines[i] = string(bytes.TrimSpace([]byte(l)))
			}
			ev.trimmed, ev.hasTrimmed = strings.Join(lines, "\n"), true
		}
	}
	d.cur = Event{}
	d.data = d.data[:0]
	d.untrimmed = false
	return ev
}

// EncodeEvent renders ev as an event-stream block: id, event and retry
// fields when set, Data split on line breaks (LF, CRLF or CR) into data
// lines, and the blank line that ends the block. Use it for an event whose
// data changed; pass unchanged events on as their Raw. Line breaks in ID,
// Type and Retry are dropped, as they would otherwise inject fields. Comments
// of the original block are not kept.
func EncodeEvent(ev Event) []byte {
	return AppendEvent(make([]byte, 0, len(ev.Data)+len(ev.ID)+len(ev.Type)+len(ev.Retry)+32), ev)
}

// AppendEvent appends EncodeEvent(ev) to out.
func AppendEvent(out []byte, ev Event) []byte {
	if ev.HasID {
		out = appendField(out, "id", ev.ID)
	}
	if ev.Type != "" {
		out = appendField(out, "event", ev.Type)
	}
	if ev.Retry != "" {
		out = appendField(out, "retry", ev.Retry)
	}
	if ev.HasData || ev.Data != "" {
		data := ev.Data
		for {
			n := lineBreak(data)
			if n < 0 {
				out = appendField(out, "data", data)
				break
			}
			out = appendField(out, "data", data[:n])
			if data[n] == '\r' && n+1 < len(data) && data[n+1] == '\n' {
				n++
			}
			data = data[n+1:]
		}
	}
	return append(out, '\n')
}

// lineBreak returns the index of the first CR or LF in s, or -1.
func lineBreak(s string) int {
	n := strings.IndexByte(s, '\n')
	if n < 0 {
		n = len(s)
	}
	if r := strings.IndexByte(s[:n], '\r'); r >= 0 {
		return r
	}
	if n == len(s) {
		return -1
	}
	return n
}

func appendField(out []byte, name, value string) []byte {
	out = append(out, name...)
	out = append(out, ':', ' ')
	if lineBreak(value) < 0 { // the usual case: nothing to drop
		out = append(out, value...)
		return append(out, '\n')
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; c != '\r' && c != '\n' {
			out = append(out, c)
		}
	}
	return append(out, '\n')
}
