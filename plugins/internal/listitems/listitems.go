// Package listitems holds what the list-hook plugins (tool_filter,
// tool_guard, tool_pin) share: splitting a list into its items in one pass
// (made once per list for all of them, on one shared copy of its text),
// rebuilding a list without the items a plugin hides, and a bounded
// per-server memory of the items it refused, so that a later call to a
// hidden item can be refused too.
//
// It does not decide what to hide: each plugin judges its items.
package listitems

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tidwall/gjson"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// ErrNotArray is returned for a list payload that is not a JSON array.
var ErrNotArray = errors.New("list is not a JSON array")

// Filter walks the items of a list payload and drops those for which judge
// returns a HiddenItem. It returns the rebuilt array (nil when nothing was
// hidden) and what was hidden, in list order. A list with nothing hidden
// costs no copy: the rebuilt array is begun at the first hidden item.
func Filter(raw json.RawMessage, judge func(item gjson.Result) *framework.HiddenItem) (json.RawMessage, []framework.HiddenItem, error) {
	return FilterKey(raw, "", func(item, _ gjson.Result) *framework.HiddenItem { return judge(item) })
}

// FilterKey is Filter that also gives judge the item's member key (as
// Member(item, key) gives it), found in the same pass that splits the list.
func FilterKey(raw json.RawMessage, key string, judge func(item, member gjson.Result) *framework.HiddenItem) (json.RawMessage, []framework.HiddenItem, error) {
	s, spans, ok := splitShared(raw, key)
	if !ok {
		return filterParsed(raw, func(item gjson.Result) *framework.HiddenItem {
			var m gjson.Result
			if key != "" {
				m = Member(item, key)
			}
			return judge(item, m)
		})
	}
	var (
		out    []byte
		hidden []framework.HiddenItem
	)
	for k, sp := range spans {
		it := item(s, sp)
		var m gjson.Result
		switch {
		case key == "":
		case sp.key.start >= 0:
			m = value(s[sp.key.start:sp.key.end], sp.key.start)
		default:
			m = Member(it, key)
		}
		h := judge(it, m)
		switch {
		case h == nil && out != nil:
			if len(out) > 1 {
				out = append(out, ',')
			}
			out = append(out, s[sp.start:sp.end]...)
		case h != nil && out == nil:
			// Every item before this one was kept.
			out = append(make([]byte, 0, len(raw)), '[')
			for j, before := range spans[:k] {
				if j > 0 {
					out = append(out, ',')
				}
				out = append(out, s[before.start:before.end]...)
			}
		}
		if h != nil {
			hidden = append(hidden, *h)
		}
	}
	if len(hidden) == 0 {
		return nil, nil, nil
	}
	return append(out, ']'), hidden, nil
}

// internMaxBytes bounds the bytes of lists Intern holds.
const internMaxBytes = 8 << 20

// sharedKey is the member whose spans a shared split finds: the name that
// tools and prompts are called by.
const sharedKey = "name"

// text is one list's text, shared by the plugins that look at it, and its
// split (made once, by the first plugin that splits it).
type text struct {
	s     string
	once  sync.Once
	spans []span
	ok    bool
}

var interned = struct {
	mu    sync.RWMutex
	m     map[string]*text
	bytes int
	// last is the text last asked for: the plugins of a list ask for it in
	// turn, and comparing a page with it costs less than hashing the page
	// for the map (it is compared in full, never trusted by its address).
	last atomic.Pointer[text]
}{m: map[string]*text{}}

// lookup returns the shared text of raw, nil when it has none.
func lookup(raw []byte) *text {
	if t := interned.last.Load(); t != nil && t.s == string(raw) {
		return t
	}
	interned.mu.RLock()
	t := interned.m[string(raw)]
	interned.mu.RUnlock()
	if t != nil {
		interned.last.Store(t)
	}
	return t
}

// intern returns the shared text of raw (nil when raw is too large to hold).
func intern(raw []byte) *text {
	if t := lookup(raw); t != nil {
		return t
	}
	if len(raw) > internMaxBytes/4 {
		return nil // one huge list must not push out all the others
	}
	interned.mu.Lock()
	defer interned.mu.Unlock()
	if t, ok := interned.m[string(raw)]; ok {
		return t
	}
	if interned.bytes+len(raw) > internMaxBytes {
		clear(interned.m)
		interned.bytes = 0
	}
	t := &text{s: string(raw)}
	interned.m[t.s] = t
	interned.bytes += len(raw)
	interned.last.Store(t)
	return t
}

// Intern returns the text of a list as a string, one copy shared by every
// plugin that asks for the same bytes: the list plugins each look at a
// page and remember its outcome by its text, and a page of a hundred tools
// is some 50 KB. It holds at most internMaxBytes of lists and starts afresh
// when full. Safe for concurrent use.
func Intern(raw []byte) string {
	if t := intern(raw); t != nil {
		return t.s
	}
	return string(raw)
}

// splitShared splits raw into its items and finds each one's member key;
// the split of a list by sharedKey is made once for all the plugins that
// look at the list (tool_filter and tool_pin both split every tools/list
// page). The spans returned must not be changed.
func splitShared(raw []byte, key string) (string, []span, bool) {
	t := intern(raw)
	if t == nil || key != sharedKey && key != "" {
		s := string(raw)
		spans, ok := splitArrayKey(s, key, nil)
		return s, spans, ok
	}
	t.once.Do(func() { t.spans, t.ok = splitArrayKey(t.s, sharedKey, make([]span, 0, 128)) })
	return t.s, t.spans, t.ok
}

// filterParsed is Filter through gjson, for text the scanner does not split.
func filterParsed(raw json.RawMessage, judge func(item gjson.Result) *framework.HiddenItem) (json.RawMessage, []framework.HiddenItem, error) {
	arr := gjson.ParseBytes(raw)
	if !arr.IsArray() {
		return nil, nil, ErrNotArray
	}
	var (
		out    []byte
		hidden []framework.HiddenItem
	)
	keep := func(item gjson.Result) {
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, item.Raw...)
	}
	arr.ForEach(func(_, item gjson.Result) bool {
		h := judge(item)
		switch {
		case h == nil && out != nil:
			keep(item)
		case h != nil && out == nil:
			// Every item before this one was kept.
			out = append(make([]byte, 0, len(raw)), '[')
			arr.ForEach(func(_, before gjson.Result) bool {
				if before.Index >= item.Index {
					return false
				}
				keep(before)
				return true
			})
		}
		if h != nil {
			hidden = append(hidden, *h)
		}
		return true
	})
	if len(hidden) == 0 {
		return nil, nil, nil
	}
	return append(out, ']'), hidden, nil
}

// Verdicts remembers, per server id, the items a plugin refused when it
// last saw them in a list, so that a call to one can be refused on this
// replica. It is bounded: at most maxServers servers and maxPerServer items
// per server; past a bound an arbitrary older entry is forgotten (a server
// that floods its own list only pushes out its own entries). Safe for
// concurrent use.
type Verdicts struct {
	mu           sync.RWMutex
	servers      map[string]map[string]framework.HiddenItem
	maxServers   int
	maxPerServer int
}

// NewVerdicts returns an empty store with the given bounds (each at least 1).
func NewVerdicts(maxServers, maxPerServer int) *Verdicts {
	return &Verdicts{servers: map[string]map[string]framework.HiddenItem{}, maxServers: max(maxServers, 1), maxPerServer: max(maxPerServer, 1)}
}

// Refuse records that name, on server, was hidden for h's reason.
func (v *Verdicts) Refuse(server, name string, h framework.HiddenItem) {
	v.mu.Lock()
	defer v.mu.Unlock()
	items := v.servers[server]
	if items == nil {
		if len(v.servers) >= v.maxServers {
			for k := range v.servers {
				delete(v.servers, k)
				break
			}
		}
		items = map[string]framework.HiddenItem{}
		v.servers[server] = items
	}
	if _, ok := items[name]; !ok && len(items) >= v.maxPerServer {
		for k := range items {
			delete(items, k)
			break
		}
	}
	items[name] = h
}

// Clear forgets name on server: its last listed definition was accepted.
func (v *Verdicts) Clear(server, name string) {
	v.mu.RLock()
	_, ok := v.servers[server][name]
	v.mu.RUnlock()
	if !ok {
		return // the common case: nothing to forget, no write lock
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if items := v.servers[server]; items != nil {
		delete(items, name)
		if len(items) == 0 {
			delete(v.servers, server)
		}
	}
}

// Lookup returns why name on server was last hidden, if it was.
func (v *Verdicts) Lookup(server, name string) (framework.HiddenItem, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	h, ok := v.servers[server][name]
	return h, ok
}

// Empty reports whether nothing is remembered for server: a list from it
// then has nothing to clear.
func (v *Verdicts) Empty(server string) bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.servers[server]) == 0
}

// Memo remembers a plugin's judgement of list items by their exact bytes:
// servers list the same tools again and again, and an item whose bytes are
// the same is judged the same. It holds at most max entries and starts
// afresh when full. Safe for concurrent use.
type Memo[V any] struct {
	mu  sync.RWMutex
	m   map[string]V
	max int
}

// NewMemo returns an empty memo of at most max entries.
func NewMemo[V any](max int) *Memo[V] { return &Memo[V]{m: map[string]V{}, max: max} }

// Get returns what was remembered for the item raw.
func (m *Memo[V]) Get(raw string) (V, bool) {
	m.mu.RLock()
	v, ok := m.m[raw]
	m.mu.RUnlock()
	return v, ok
}

// Put remembers v for the item raw (copied: raw may point into a payload).
func (m *Memo[V]) Put(raw string, v V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.m) >= m.max {
		clear(m.m)
	}
	m.m[strings.Clone(raw)] = v
}

// ListMemo remembers what a plugin made of whole lists, by their exact
// bytes and a tag (what else the outcome depends on, such as the lockfile
// entry): a client lists the same tools again and again, and the same page
// gets the same outcome without a pass over its items. It holds at most
// maxBytes of lists and starts afresh when full. Safe for concurrent use.
//
// A list is known by its shared text (Intern), found once per look-up, so
// that a page is hashed and compared once for the memo and the text, not
// once for each; a list too large to share (over internMaxBytes/4) is not
// remembered.
type ListMemo[V any] struct {
	mu       sync.RWMutex
	m        map[*text]listEntry[V]
	bytes    int
	maxBytes int
}

type listEntry[V any] struct {
	tag string
	v   V
}

// NewListMemo returns an empty memo holding at most maxBytes of lists.
func NewListMemo[V any](maxBytes int) *ListMemo[V] {
	return &ListMemo[V]{m: map[*text]listEntry[V]{}, maxBytes: maxBytes}
}

// Get returns the outcome remembered for the list raw under tag.
func (m *ListMemo[V]) Get(raw []byte, tag string) (V, bool) {
	var e listEntry[V]
	t := lookup(raw)
	ok := t != nil
	if ok {
		m.mu.RLock()
		e, ok = m.m[t]
		m.mu.RUnlock()
	}
	if !ok || e.tag != tag {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put remembers v for the list raw under tag (raw is copied, once for all
// plugins: Intern).
func (m *ListMemo[V]) Put(raw []byte, tag string, v V) {
	if len(raw) > m.maxBytes/4 {
		return // one huge list must not evict all the others
	}
	t := intern(raw)
	if t == nil {
		return // too large to share
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.bytes+len(raw) > m.maxBytes {
		clear(m.m)
		m.bytes = 0
	}
	if _, ok := m.m[t]; !ok {
		m.bytes += len(raw)
	}
	m.m[t] = listEntry[V]{tag, v}
}
