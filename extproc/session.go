package extproc

import (
	"container/list"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// mcpCall is one hooked JSON-RPC request awaiting its result: what to run
// on the result (hook, name) and the plugins' contexts of its pre hook. It
// has exactly one owner at a time. The exchange that saw the request and
// the session table both know it until its result arrives; whoever claims
// it first (on its own stream, on a GET stream resumed with Last-Event-ID,
// on another POST of the session) runs the post hook with its contexts, and
// it is then dropped from the table. Nobody else ever touches its contexts.
type mcpCall struct {
	id       mcpparse.ID        // the request's id, for an error that replaces its result
	hook     framework.HookType // the post hook to run
	name     string             // tool name, prompt name or resource URI ("" for lists)
	contexts *framework.ContextTable
	claimed  atomic.Bool
}

// claim makes the caller the call's owner; it reports false when another
// stream already took it.
func (c *mcpCall) claim() bool { return c.claimed.CompareAndSwap(false, true) }

// unmatched is a result that no remembered request claims: post-hooked by
// shape, with fresh contexts and an unknown name.
func unmatched(hook framework.HookType, g framework.GlobalContext) *mcpCall {
	c := &mcpCall{hook: hook, contexts: framework.NewContextTable(g)}
	c.claimed.Store(true) // owned by the caller from the start
	return c
}

type sessionKey struct {
	session string // Mcp-Session-Id ("" for sessionless servers)
	id      string // the request id's correlation key
}

type sessionEntry struct {
	key     sessionKey
	call    *mcpCall
	expires time.Time
	// ambiguous is set when two live requests of one session used the same
	// id for different targets: their result is then matched by shape, with
	// an unknown name, so that reusing an id cannot steer which plugins run.
	ambiguous bool
}

// sessionShards spreads the table over independent locks: exchanges of
// different sessions never wait for each other.
const sessionShards = 64

// SessionTable is the bounded per-session table of hooked requests whose
// results have not arrived (design section 5). An entry lives until its
// result is delivered, or until maxAge for results that never come (swept
// every cleanup interval); beyond maxEntries the oldest are evicted.
type SessionTable struct {
	shards [sessionShards]sessionShard
	seed   maphash.Seed
	maxAge atomic.Int64 // a time.Duration; a reload may change it
	now    func() time.Time
	size   atomic.Int64
	gauge  func(int)
	// interval is the sweep interval; run picks up a new one from it.
	interval atomic.Int64
	retick   chan struct{}
}

type sessionShard struct {
	mu      sync.Mutex
	entries map[sessionKey]*list.Element
	order   *list.List // oldest first
	max     int
}

// NewSessionTable returns an empty table; Sweep runs every cleanup interval
// once run is started.
func NewSessionTable(maxAge, cleanup time.Duration, maxEntries int) *SessionTable {
	t := &SessionTable{seed: maphash.MakeSeed(), now: time.Now, gauge: func(int) {}, retick: make(chan struct{}, 1)}
	for i := range t.shards {
		t.shards[i] = sessionShard{entries: map[sessionKey]*list.Element{}, order: list.New()}
	}
	t.Configure(maxAge, cleanup, maxEntries)
	return t
}

// Configure applies new settings (plugin_settings.context_*, on a reload):
// requests remembered from now on live maxAge (those already remembered keep
// their lifetime), a smaller maxEntries evicts the oldest entries at once,
// and the sweep runs every cleanup from its next tick.
func (t *SessionTable) Configure(maxAge, cleanup time.Duration, maxEntries int) {
	t.maxAge.Store(int64(maxAge))
	if t.interval.Swap(int64(cleanup)) != int64(cleanup) {
		select {
		case t.retick <- struct{}{}:
		default:
		}
	}
	per := max(1, (maxEntries+sessionShards-1)/sessionShards)
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		sh.max = per
		for sh.order.Len() > sh.max {
			sh.removeLocked(t, sh.order.Front())
		}
		sh.mu.Unlock()
	}
	t.gauge(int(t.size.Load()))
}

func (t *SessionTable) shard(k sessionKey) *sessionShard {
	var h maphash.Hash
	h.SetSeed(t.seed)
	h.WriteString(k.session)
	h.WriteByte(0)
	h.WriteString(k.id)
	return &t.shards[h.Sum64()%sessionShards]
}

// Put remembers a hooked request. A second live request of the session
// with the same id and another target makes the id ambiguous.
func (t *SessionTable) Put(session, id string, c *mcpCall) {
	k := sessionKey{session, id}
	sh := t.shard(k)
	sh.mu.Lock()
	e := &sessionEntry{key: k, call: c, expires: t.now().Add(time.Duration(t.maxAge.Load()))}
	if el, ok := sh.entries[k]; ok {
		prev := el.Value.(*sessionEntry)
		if !t.now().After(prev.expires) && (prev.ambiguous || prev.call.hook != c.hook || prev.call.name != c.name) {
			e.ambiguous = true
		}
		sh.order.Remove(el)
		t.size.Add(-1)
	}
	sh.entries[k] = sh.order.PushBack(e)
	t.size.Add(1)
	for sh.order.Len() > sh.max {
		sh.removeLocked(t, sh.order.Front())
	}
	sh.mu.Unlock()
	t.gauge(int(t.size.Load()))
}

// Take hands over the request a result answers, if it is still remembered,
// unclaimed and unambiguous, and drops it: the caller is its owner.
func (t *SessionTable) Take(session, id string) (*mcpCall, bool) {
	k := sessionKey{session, id}
	sh := t.shard(k)
	sh.mu.Lock()
	el, ok := sh.entries[k]
	if !ok {
		sh.mu.Unlock()
		return nil, false
	}
	e := el.Value.(*sessionEntry)
	expired := t.now().After(e.expires)
	live := !expired && !e.ambiguous
	if !e.ambiguous || expired {
		// An ambiguous id stays until it expires, so that its later
		// results are matched by shape too.
		sh.removeLocked(t, el)
	}
	sh.mu.Unlock()
	t.gauge(int(t.size.Load()))
	if !live || !e.call.claim() {
		return nil, false
	}
	return e.call, true
}

// Drop forgets c once its result was delivered on its own stream.
func (t *SessionTable) Drop(session, id string, c *mcpCall) {
	k := sessionKey{session, id}
	sh := t.shard(k)
	sh.mu.Lock()
	if el, ok := sh.entries[k]; ok && el.Value.(*sessionEntry).call == c && !el.Value.(*sessionEntry).ambiguous {
		sh.removeLocked(t, el)
	}
	sh.mu.Unlock()
	t.gauge(int(t.size.Load()))
}

// Ambiguous reports whether id is ambiguous in the session (see Put).
func (t *SessionTable) Ambiguous(session, id string) bool {
	k := sessionKey{session, id}
	sh := t.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	el, ok := sh.entries[k]
	return ok && el.Value.(*sessionEntry).ambiguous && !t.now().After(el.Value.(*sessionEntry).expires)
}

// Sweep drops expired entries.
func (t *SessionTable) Sweep() {
	now := t.now()
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		// Entries are in insertion order and share one lifetime, so the
		// expired ones are at the front.
		for el := sh.order.Front(); el != nil && now.After(el.Value.(*sessionEntry).expires); el = sh.order.Front() {
			sh.removeLocked(t, el)
		}
		sh.mu.Unlock()
	}
	t.gauge(int(t.size.Load()))
}

// Len returns the number of entries.
func (t *SessionTable) Len() int { return int(t.size.Load()) }

func (sh *sessionShard) removeLocked(t *SessionTable, el *list.Element) {
	delete(sh.entries, el.Value.(*sessionEntry).key)
	sh.order.Remove(el)
	t.size.Add(-1)
}

// run sweeps every cleanup interval until stop is closed.
func (t *SessionTable) run(stop <-chan struct{}) {
	tk := time.NewTicker(time.Duration(t.interval.Load()))
	defer tk.Stop()
	for {
		select {
		case <-tk.C:
			t.Sweep()
		case <-t.retick:
			tk.Reset(time.Duration(t.interval.Load()))
		case <-stop:
			return
		}
	}
}
