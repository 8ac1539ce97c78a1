package extproc

import (
	"maps"
	"sync"
	"sync/atomic"
)

// labelValues is a metric child's label values; unused trailing ones are "".
type labelValues [3]string

// children caches the children of one metric vector by their label
// values. The Prometheus client's WithLabelValues hashes and validates the
// labels and takes the vector's lock on every call — about a microsecond
// per exchange across the counters and histograms the hot path touches;
// here a hit is one lookup in a map that is only ever replaced, never
// written, so readers take no lock. Label values are bounded (methods,
// hooks, outcomes, plugin names and codes from the policy), so the map
// stays small and copying it on a miss is cheap.
type children[M any] struct {
	with func(...string) M
	n    int // how many label values the vector has

	mu sync.Mutex // held by a miss, to publish a larger map
	m  atomic.Pointer[map[labelValues]M]
}

// maxCachedChildren bounds a cache, should a plugin report codes without
// end: past it, lookups go to the vector.
const maxCachedChildren = 1024

func newChildren[M any](n int, with func(...string) M) *children[M] {
	c := &children[M]{with: with, n: n}
	c.m.Store(&map[labelValues]M{})
	return c
}

// get returns the child for the label values l.
func (c *children[M]) get(l labelValues) M {
	if v, ok := (*c.m.Load())[l]; ok {
		return v
	}
	return c.miss(l)
}

// miss resolves l through the vector and publishes it. It is its own
// function so that l, whose slice the vector keeps, is moved to the heap
// only here, not on every hit.
func (c *children[M]) miss(l labelValues) M {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := *c.m.Load()
	if v, ok := old[l]; ok {
		return v
	}
	v := c.with(l[:c.n]...)
	if len(old) >= maxCachedChildren {
		return v // a vector with that many series is not worth copying
	}
	next := maps.Clone(old)
	next[l] = v
	c.m.Store(&next)
	return v
}
