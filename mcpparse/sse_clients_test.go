package mcpparse

import "testing"

// JSONData is the data as the most lenient client (the Go SDK) reads it;
// HasBareCR flags blocks that LF-only readers frame differently.
func TestEventReadings(t *testing.T) {
	cases := []struct {
		name, stream   string
		data, jsonData string
		bareCR         bool
	}{
		{"plain", "data: {\"a\":1}\n\n", `{"a":1}`, `{"a":1}`, false},
		{"CRLF is no bare CR", "data: x\r\n\r\n", "x", "x", false},
		{"two spaces", "data:  x\n\n", " x", "x", false},
		{"form feed", "data:\fx\n\n", "\fx", "x", false},
		{"no-break space", "data:\u00a0x\u00a0\n\n", "\u00a0x\u00a0", "x", false},
		{"tab, two lines", "data:\tx\ndata: y \n\n", "\tx\ny ", "x\ny", false},
		{"bare CR splits for WHATWG", "data: a\rdata: b\n\n", "a\nb", "a\nb", true},
		{"CR-only endings", "data: a\r\r", "a", "a", true},
		{"CR before a JSON line", "data:\r{}\n\n", "", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := NewSSEDecoder()
			evs := append(d.Feed([]byte(c.stream)), d.Flush()...)
			if len(evs) == 0 {
				t.Fatal("no event")
			}
			ev := evs[0]
			if ev.Data != c.data || ev.JSONData() != c.jsonData || ev.HasBareCR() != c.bareCR {
				t.Fatalf("Data %q JSONData %q HasBareCR %v; want %q %q %v", ev.Data, ev.JSONData(), ev.HasBareCR(), c.data, c.jsonData, c.bareCR)
			}
		})
	}
}
