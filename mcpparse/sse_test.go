package mcpparse

import (
	"bytes"
	"strings"
	"testing"
)

// fields strips Raw, for comparing decoded content.
func fields(evs []Event) []Event {
	out := make([]Event, 0, len(evs))
	for _, e := range evs {
		e.Raw = nil
		out = append(out, e)
	}
	return out
}

func decodeAll(chunks ...string) ([]Event, *SSEDecoder) {
	d := NewSSEDecoder()
	var evs []Event
	for _, c := range chunks {
		evs = append(evs, d.Feed([]byte(c))...)
	}
	return evs, d
}

func TestSSEDecode(t *testing.T) {
	tests := []struct {
		name   string
		stream string
		want   []Event
	}{
		{"simple", "data: hello\n\n", []Event{{Data: "hello", HasData: true}}},
		{"crlf", "event: message\r\nid: 7\r\ndata: {\"a\":1}\r\n\r\n", []Event{{ID: "7", HasID: true, Type: "message", Data: `{"a":1}`, HasData: true}}},
		{"cr only", "id: 1\rdata: x\r\r", []Event{{ID: "1", HasID: true, Data: "x", HasData: true}}},
		{"multi-line data", "data: a\ndata:b\ndata:  c\ndata\n\n", []Event{{Data: "a\nb\n c\n", HasData: true}}},
		{"comment and unknown field", ": keep-alive\nfoo: bar\ndata: x\n\n", []Event{{Data: "x", HasData: true}}},
		{"retry", "retry: 3000\ndata: x\n\nretry: 3s\ndata: y\n\n", []Event{{Retry: "3000", Data: "x", HasData: true}, {Data: "y", HasData: true}}},
		{"priming event without data", "id: abc\ndata:\n\nid: p\nretry: 10\n\n", []Event{{ID: "abc", HasID: true, Data: "", HasData: true}, {ID: "p", HasID: true, Retry: "10"}}},
		{"id with NUL ignored", "id: a\x00b\ndata: x\n\n", []Event{{Data: "x", HasData: true}}},
		{"empty id resets", "id\ndata: x\n\n", []Event{{HasID: true, Data: "x", HasData: true}}},
		{"last event/id win", "event: a\nevent: b\nid: 1\nid: 2\ndata: x\n\n", []Event{{Type: "b", ID: "2", HasID: true, Data: "x", HasData: true}}},
		{"BOM at start", "\xEF\xBB\xBFdata: x\n\n", []Event{{Data: "x", HasData: true}}},
		{"BOM later is not skipped", "data: x\n\n\xEF\xBB\xBFdata: y\n\n", []Event{{Data: "x", HasData: true}, {}}},
		{"no space after colon", "data:x\n\n", []Event{{Data: "x", HasData: true}}},
		{"colon in value", "data: a: b\n\n", []Event{{Data: "a: b", HasData: true}}},
		{"extra blank lines", "\n\ndata: x\n\n\n", []Event{{}, {}, {Data: "x", HasData: true}, {}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			whole, d := decodeAll(tt.stream)
			if d.Buffered() != 0 {
				t.Errorf("Buffered = %d after complete events", d.Buffered())
			}
			assertEvents(t, fields(whole), tt.want)
			assertRaw(t, whole, tt.stream)
			// Every split into two and into single bytes gives the same events.
			for i := 0; i <= len(tt.stream); i++ {
				evs, d := decodeAll(tt.stream[:i], tt.stream[i:])
				evs = append(evs, d.Flush()...)
				assertEvents(t, withFields(evs), withFields(whole))
				assertRaw(t, evs, tt.stream)
			}
			var bytewise []string
			for i := range len(tt.stream) {
				bytewise = append(bytewise, tt.stream[i:i+1])
			}
			evs, d := decodeAll(bytewise...)
			evs = append(evs, d.Flush()...)
			assertEvents(t, withFields(evs), withFields(whole))
			assertRaw(t, evs, tt.stream)
		})
	}
}

// withFields keeps the events that carry a field, dropping empty blocks whose
// boundaries depend on where a CR LF pair was split.
func withFields(evs []Event) []Event {
	var out []Event
	for _, e := range fields(evs) {
		if e.HasID || e.HasData || e.Type != "" || e.Retry != "" || e.ID != "" || e.Data != "" {
			out = append(out, e)
		}
	}
	return out
}

func assertEvents(t *testing.T, got, want []Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d events %+v, want %d %+v", len(got), got, len(want), want)
	}
	for i := range got {
		g, w := got[i], want[i]
		g.Raw, w.Raw = nil, nil
		if g.ID != w.ID || g.HasID != w.HasID || g.Type != w.Type || g.Data != w.Data || g.HasData != w.HasData || g.Retry != w.Retry {
			t.Errorf("event %d = %+v, want %+v", i, g, w)
		}
	}
}

func assertRaw(t *testing.T, evs []Event, stream string) {
	t.Helper()
	var all []byte
	for _, e := range evs {
		all = append(all, e.Raw...)
	}
	if string(all) != stream {
		t.Errorf("concatenated Raw = %q, want %q", all, stream)
	}
}

func TestSSEHoldsBackTail(t *testing.T) {
	d := NewSSEDecoder()
	if evs := d.Feed([]byte("id: 1\ndata: {\"jsonrpc\":")); evs != nil {
		t.Fatalf("events from an incomplete block: %+v", evs)
	}
	if d.Buffered() != len("id: 1\ndata: {\"jsonrpc\":") {
		t.Errorf("Buffered = %d", d.Buffered())
	}
	evs := d.Feed([]byte("\"2.0\"}\n\ndata: tail"))
	if len(evs) != 1 || evs[0].Data != `{"jsonrpc":"2.0"}` || string(evs[0].Raw) != "id: 1\ndata: {\"jsonrpc\":\"2.0\"}\n\n" {
		t.Fatalf("events = %+v", evs)
	}
	if d.Buffered() != len("data: tail") {
		t.Errorf("Buffered = %d", d.Buffered())
	}
	evs = d.Flush()
	if len(evs) != 1 || evs[0].Data != "tail" || string(evs[0].Raw) != "data: tail" {
		t.Errorf("Flush = %+v", evs)
	}
	if d.Buffered() != 0 || d.Flush() != nil {
		t.Error("decoder not reset by Flush")
	}
}

func TestSSECRLFSplitAcrossChunks(t *testing.T) {
	// The CR ends the first chunk and the LF starts the second: one line ending.
	evs, d := decodeAll("data: a\r", "\ndata: b\r\n\r", "\n", "data: c\r\n\r\n")
	evs = append(evs, d.Flush()...)
	assertEvents(t, withFields(evs), []Event{{Data: "a\nb", HasData: true}, {Data: "c", HasData: true}})
	assertRaw(t, evs, "data: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n")
	// The event is returned as soon as its blank line's CR arrives.
	d = NewSSEDecoder()
	if evs := d.Feed([]byte("data: x\r\n\r")); len(evs) != 1 || evs[0].Data != "x" {
		t.Errorf("event not returned at CR: %+v", evs)
	}
}

func TestSSEBOMSplit(t *testing.T) {
	evs, d := decodeAll("\xEF", "\xBB", "\xBFdata: x\n\n")
	evs = append(evs, d.Flush()...)
	assertEvents(t, evs, []Event{{Data: "x", HasData: true}})
	assertRaw(t, evs, "\xEF\xBB\xBFdata: x\n\n")
	// A prefix of a BOM that is not one is data.
	evs, d = decodeAll("\xEF", "\xBBdata: x\n\n")
	evs = append(evs, d.Flush()...)
	assertRaw(t, evs, "\xEF\xBBdata: x\n\n")
	if len(withFields(evs)) != 0 {
		t.Errorf("corrupted field name decoded: %+v", evs)
	}
}

func TestSSERawDoesNotAliasLaterChunks(t *testing.T) {
	d := NewSSEDecoder()
	buf := []byte("data: a")
	d.Feed(buf)
	copy(buf, "XXXXXXX") // the caller reuses its buffer
	evs := d.Feed([]byte("\n\n"))
	if len(evs) != 1 || evs[0].Data != "a" || string(evs[0].Raw) != "data: a\n\n" {
		t.Errorf("held-back bytes aliased the caller's chunk: %+v", evs)
	}
}

func TestEncodeEvent(t *testing.T) {
	tests := []struct {
		ev   Event
		want string
	}{
		{Event{Data: `{"a":1}`, HasData: true}, "data: {\"a\":1}\n\n"},
		{Event{ID: "7", HasID: true, Type: "message", Retry: "100", Data: "a\nb\r\nc\rd", HasData: true}, "id: 7\nevent: message\nretry: 100\ndata: a\ndata: b\ndata: c\ndata: d\n\n"},
		{Event{Data: "c\rd\ne\n", HasData: true}, "data: c\ndata: d\ndata: e\ndata: \n\n"},
		{Event{HasID: true}, "id: \n\n"},
		{Event{Data: "", HasData: true}, "data: \n\n"},
		{Event{ID: "a\nevent: evil", HasID: true, Type: "t\r\ndata: x", Data: "x", HasData: true}, "id: aevent: evil\nevent: tdata: x\ndata: x\n\n"},
	}
	for _, tt := range tests {
		if got := string(EncodeEvent(tt.ev)); got != tt.want {
			t.Errorf("EncodeEvent(%+v) = %q, want %q", tt.ev, got, tt.want)
		}
		// AppendEvent writes the same after what is there, leaving it.
		before := "data: before\n\n"
		if got := string(AppendEvent([]byte(before), tt.ev)); got != before+tt.want {
			t.Errorf("AppendEvent(%q, %+v) = %q, want %q", before, tt.ev, got, before+tt.want)
		}
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	stream := "id: 1\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n" +
		"data:  leading space\ndata: \ndata:x\n\n" + "id: 2\nretry: 5\ndata\n\n" + "event:  spaced\ndata: y\n\n"
	evs, _ := decodeAll(stream)
	for _, ev := range evs {
		enc := EncodeEvent(ev)
		back, d := decodeAll(string(enc))
		if len(back) != 1 || d.Buffered() != 0 {
			t.Fatalf("re-decoding %q gave %d events", enc, len(back))
		}
		assertEvents(t, back, []Event{ev})
	}
	// Unchanged events pass through byte for byte.
	var out bytes.Buffer
	for _, ev := range evs {
		out.Write(ev.Raw)
	}
	if out.String() != stream {
		t.Error("Raw pass-through differs")
	}
	if !strings.HasPrefix(string(EncodeEvent(evs[0])), "id: 1\nevent: message\ndata: ") {
		t.Errorf("encoded = %q", EncodeEvent(evs[0]))
	}
}
