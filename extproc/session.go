package extproc

import (
	"container/list"
	"sync"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// pendingRequest is what is remembered of a hooked request so that its
// result can be post-hooked wherever it travels: on its own POST stream, on
// a GET stream resumed with Last-Event-ID, or replayed later.
type pendingRequest struct {
	id       mcpparse.ID        // the request's id, for an error that replaces its result
	hook     framework.HookType // the post hook to run
	name     string             // tool name, prompt name or resource URI
	contexts *framework.ContextTable
	// ambiguous is set when two live requests of one session used the same
	// id for different targets: their result is then matched by shape, with
	// an unknown name, so that reusing an id cannot steer which plugins run.
	ambiguous bool
}

type sessionKey struct {
	session string // Mcp-Session-Id ("" for sessionless servers)
	id      string // the JSON-RPC id as written
}

type sessionEntry struct {
	key     sessionKey
	req     pendingRequest
	expires time.Time
}

// SessionTable is the bounded per-session table of recent hooked requests
// (design section 5). Entries expire after maxAge, are swept every cleanup
// interval, and the oldest are evicted beyond maxEntries.
type SessionTable struct {
	mu      sync.Mutex
	entries map[sessionKey]*list.Element
	order   *list.List // oldest first
	maxAge  time.Duration
	max     int
	now     func() time.Time
	gauge   func(int)
}

// NewSessionTable returns an empty table.
func NewSessionTable(maxAge time.Duration, maxEntries int) *SessionTable {
	return &SessionTable{
		entries: map[sessionKey]*list.Element{},
		order:   list.New(),
		maxAge:  maxAge,
		max:     maxEntries,
		now:     time.Now,
		gauge:   func(int) {},
	}
}

// Put remembers a hooked request; a later Put of the same session and id
// replaces it (a client reusing an id after its request completed).
func (t *SessionTable) Put(session, id string, req pendingRequest) {
	k := sessionKey{session, id}
	t.mu.Lock()
	defer t.mu.Unlock()
	if el, ok := t.entries[k]; ok {
		prev := el.Value.(*sessionEntry)
		if !t.now().After(prev.expires) && (prev.req.hook != req.hook || prev.req.name != req.name || prev.req.ambiguous) {
			req = pendingRequest{ambiguous: true}
		}
		t.order.Remove(el)
	}
	t.entries[k] = t.order.PushBack(&sessionEntry{key: k, req: req, expires: t.now().Add(t.maxAge)})
	for t.order.Len() > t.max {
		t.removeLocked(t.order.Front())
	}
	t.gauge(t.order.Len())
}

// Get returns the request a result answers, if it is still remembered.
func (t *SessionTable) Get(session, id string) (pendingRequest, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	el, ok := t.entries[sessionKey{session, id}]
	if !ok {
		return pendingRequest{}, false
	}
	e := el.Value.(*sessionEntry)
	if t.now().After(e.expires) {
		t.removeLocked(el)
		t.gauge(t.order.Len())
		return pendingRequest{}, false
	}
	return e.req, true
}

// Sweep drops expired entries.
func (t *SessionTable) Sweep() {
	t.mu.Lock()
	defer t.mu.Unlock()
	// Entries are in insertion order and share one lifetime, so the
	// expired ones are at the front.
	now := t.now()
	for el := t.order.Front(); el != nil && now.After(el.Value.(*sessionEntry).expires); el = t.order.Front() {
		t.removeLocked(el)
	}
	t.gauge(t.order.Len())
}

// Len returns the number of entries.
func (t *SessionTable) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.order.Len()
}

func (t *SessionTable) removeLocked(el *list.Element) {
	delete(t.entries, el.Value.(*sessionEntry).key)
	t.order.Remove(el)
}

// run sweeps every interval until stop is closed.
func (t *SessionTable) run(interval time.Duration, stop <-chan struct{}) {
	tk := time.NewTicker(interval)
	defer tk.Stop()
	for {
		select {
		case <-tk.C:
			t.Sweep()
		case <-stop:
			return
		}
	}
}
