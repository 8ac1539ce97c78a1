package outbound

import (
	"container/list"
	"crypto/sha256"
	"sync"
	"time"
)

// Key is a cache key: the SHA-256 of the content a verdict is about (and of
// whatever else the verdict depends on, such as the model).
type Key [sha256.Size]byte

// KeyOf hashes the parts, each prefixed by its length so that ("ab", "c")
// and ("a", "bc") differ.
func KeyOf(parts ...[]byte) Key {
	h := sha256.New()
	var n [8]byte
	for _, p := range parts {
		l := uint64(len(p))
		for i := range n {
			n[i] = byte(l >> (8 * i))
		}
		h.Write(n[:])
		h.Write(p)
	}
	var k Key
	h.Sum(k[:0])
	return k
}

// lru is a bounded map of verdicts with a time to live: the least recently
// used entry goes when it is full, an expired one when it is looked up.
type lru[V any] struct {
	size int
	ttl  time.Duration
	now  func() time.Time

	mu    sync.Mutex
	order *list.List // front: most recently used; elements hold *entry[V]
	items map[Key]*list.Element
}

type entry[V any] struct {
	key     Key
	value   V
	expires time.Time
}

func newLRU[V any](c Cache, now func() time.Time) *lru[V] {
	if c.Size == 0 {
		return nil
	}
	return &lru[V]{size: c.Size, ttl: c.TTL.Std(), now: now, order: list.New(), items: make(map[Key]*list.Element, min(c.Size, 1024))}
}

func (c *lru[V]) get(k Key) (V, bool) {
	var zero V
	if c == nil {
		return zero, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		return zero, false
	}
	e := el.Value.(*entry[V])
	if !c.now().Before(e.expires) {
		c.order.Remove(el)
		delete(c.items, k)
		return zero, false
	}
	c.order.MoveToFront(el)
	return e.value, true
}

func (c *lru[V]) put(k Key, v V) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	exp := c.now().Add(c.ttl)
	if el, ok := c.items[k]; ok {
		e := el.Value.(*entry[V])
		e.value, e.expires = v, exp
		c.order.MoveToFront(el)
		return
	}
	if c.order.Len() >= c.size {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*entry[V]).key)
	}
	c.items[k] = c.order.PushFront(&entry[V]{key: k, value: v, expires: exp})
}

func (c *lru[V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
