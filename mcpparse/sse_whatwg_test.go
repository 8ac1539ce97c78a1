package mcpparse

import (
	"strings"
	"testing"
)

// whatwgEvent is one event a browser's EventSource dispatches.
type whatwgEvent struct{ typ, data string }

// readWHATWG is an independent reading of an event stream, written straight
// from the WHATWG HTML standard's "Interpreting an event stream" (§9.2.6):
// the whole stream at once, line by line, dispatching on blank lines. An
// unterminated last block is discarded, as the standard says.
func readWHATWG(stream string) []whatwgEvent {
	stream = strings.TrimPrefix(stream, "\uFEFF")
	var out []whatwgEvent
	var data strings.Builder
	typ := ""
	for len(stream) > 0 {
		i := strings.IndexAny(stream, "\r\n")
		if i < 0 {
			break // no line terminator: the line is incomplete
		}
		line := stream[:i]
		if stream[i] == '\r' && i+1 < len(stream) && stream[i+1] == '\n' {
			stream = stream[i+2:]
		} else {
			stream = stream[i+1:]
		}
		switch {
		case line == "":
			if data.Len() > 0 {
				d := strings.TrimSuffix(data.String(), "\n")
				out = append(out, whatwgEvent{typ: typ, data: d})
			}
			data.Reset()
			typ = ""
		case line[0] == ':':
		default:
			field, value := line, ""
			if c := strings.IndexByte(line, ':'); c >= 0 {
				field, value = line[:c], strings.TrimPrefix(line[c+1:], " ")
			}
			switch field {
			case "event":
				typ = value
			case "data":
				data.WriteString(value)
				data.WriteByte('\n')
			}
		}
	}
	return out
}

// The decoder dispatches exactly the events a WHATWG reader dispatches, with
// the same type and data, whatever the chunking.
func FuzzSSEMatchesWHATWG(f *testing.F) {
	for _, s := range []string{
		"data: {\"a\":1}\n\n",
		"event: x\rdata: y\r\r",
		"data:\r{\"jsonrpc\":\"2.0\"}\n\n",
		"\uFEFFdata: a\r\ndata: b\r\n\r\n",
		": c\ndata\n\nevent:message\ndata:  two spaces\n\n",
		"data: a\r\rdata: b\n\n",
		"id: 1\ndata: x\n\ndata: unterminated",
	} {
		f.Add([]byte(s), []byte{3, 1})
	}
	f.Fuzz(func(t *testing.T, stream []byte, cuts []byte) {
		want := readWHATWG(string(stream))
		d := NewSSEDecoder()
		var got []whatwgEvent
		for i, pos := 0, 0; pos < len(stream); i++ {
			n := len(stream) - pos
			if len(cuts) > 0 {
				n = min(int(cuts[i%len(cuts)])%13+1, n)
			}
			for _, ev := range d.Feed(stream[pos : pos+n]) {
				if ev.HasData {
					got = append(got, whatwgEvent{typ: ev.Type, data: ev.Data})
				}
			}
			pos += n
		}
		// Flush may add the unterminated tail, which a browser drops: the
		// filter reads it too (a lenient client might), so it is not
		// compared here.
		if len(got) < len(want) {
			t.Fatalf("decoder dispatched %d events, WHATWG %d:\n%q\n%q", len(got), len(want), got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("event %d: decoder %q, WHATWG %q", i, got[i], want[i])
			}
		}
		if len(got) > len(want) {
			t.Fatalf("decoder dispatched more events than WHATWG: %q vs %q", got, want)
		}
	})
}
