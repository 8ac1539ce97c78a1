package framework

import (
	"sync"
	"unsafe"

	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// Text returns the decoded strings of raw — a payload's arguments, result
// or contents — with their paths and places in raw (see mcpparse.Text).
// During a hook run the executor keeps what it decodes: every plugin that
// asks for the same bytes gets the same Text, decoded once, and a plugin
// that rewrites the payload hands the next one new bytes, which are decoded
// anew. Outside a hook run (a plugin called directly with a context of its
// own, a fire_and_forget call) it decodes raw each time; pc may be nil.
//
// The Text is shared and immutable; to change strings, list edits and call
// its Replace, which keeps every byte not edited. raw must be valid JSON:
// the error is mcpparse's *Error.
func (pc *PluginContext) Text(raw []byte) (*mcpparse.Text, error) {
	if pc == nil || pc.Global == nil || pc.Global.text == nil {
		return mcpparse.ParseText(raw)
	}
	return pc.Global.text.get(raw)
}

// textCache holds the Texts decoded during one hook run (it lives in the
// exchange's ContextTable and is reset after each run), by the identity
// of the bytes (payloads are read-only, so the same bytes hold the same
// text). It keeps the last few: a pipeline reads one payload at a time,
// the input or the latest rewrite.
type textCache struct {
	mu      sync.Mutex // concurrent plugins share the run's cache
	next    int
	entries [3]textEntry
}

type textEntry struct {
	raw  []byte
	text *mcpparse.Text
	err  error
}

func (c *textCache) get(raw []byte) (*mcpparse.Text, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.entries {
		if e := &c.entries[i]; sameBytes(e.raw, raw) && (e.text != nil || e.err != nil) {
			return e.text, e.err
		}
	}
	t, err := mcpparse.ParseText(raw)
	c.entries[c.next] = textEntry{raw: raw, text: t, err: err}
	c.next = (c.next + 1) % len(c.entries)
	return t, err
}

// sameBytes reports whether a and b are the same slice of memory.
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && unsafe.SliceData(a) == unsafe.SliceData(b)
}

// reset forgets every Text, so that a table kept from a request's pre hook
// to its post hook does not hold on to the request's bytes. With recycle,
// no call of the run can still hold a Text (every one ran inline and
// returned), and their arrays are reused.
func (c *textCache) reset(recycle bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.entries {
		if t := c.entries[i].text; recycle && t != nil {
			t.Release()
		}
		c.entries[i] = textEntry{}
	}
}
