package ratelimit

import (
	"context"
	"hash/maphash"
	"slices"
	"sync"
	"time"
)

// memoryShards spreads the buckets over independently locked maps, so that
// requests for different keys rarely wait on each other.
const memoryShards = 64

// memoryStore keeps buckets in this process, at most maxKeys of them. A
// bucket is forgotten once it is full again (its tat has passed); when the
// bound is reached with no full bucket, the one closest to full goes.
type memoryStore struct {
	seed     maphash.Seed
	perShard int
	now      func() time.Time
	shards   [memoryShards]memoryShard
}

type memoryShard struct {
	mu   sync.Mutex
	tats map[string]int64
}

// monotonicClock is the memory store's time: the wall clock at start plus
// the monotonic time since, so that a wall-clock step (NTP, a VM resumed)
// neither frees nor freezes every bucket at once.
func monotonicClock() func() time.Time {
	base := time.Now()
	return func() time.Time { return base.Add(time.Since(base)) }
}

func newMemoryStore(maxKeys int, now func() time.Time) *memoryStore {
	s := &memoryStore{seed: maphash.MakeSeed(), perShard: max(1, maxKeys/memoryShards), now: now}
	for i := range s.shards {
		s.shards[i].tats = map[string]int64{}
	}
	return s
}

func (s *memoryStore) take(_ context.Context, buckets []bucket) (decision, error) {
	now := s.now().UnixMicro()
	// Lock every shard involved, in ascending order, so the check and the
	// update of all buckets are one step.
	var idx [8]int
	shards := idx[:0]
	for _, b := range buckets {
		shards = append(shards, int(maphash.String(s.seed, b.key)%memoryShards))
	}
	order := slices.Clone(shards)
	slices.Sort(order)
	order = slices.Compact(order)
	for _, i := range order {
		s.shards[i].mu.Lock()
	}
	defer func() {
		for _, i := range order {
			s.shards[i].mu.Unlock()
		}
	}()

	var nexts [8]int64
	next := nexts[:0]
	d := decision{allowed: true, denied: -1}
	for i, b := range buckets {
		n, wait := admit(s.shards[shards[i]].tats[b.key], now, b.interval, b.burst)
		if wait > 0 && (d.allowed || time.Duration(wait)*time.Microsecond > d.wait) {
			d = decision{denied: i, wait: time.Duration(wait) * time.Microsecond}
		}
		next = append(next, n)
	}
	if !d.allowed {
		return d, nil
	}
	for i, b := range buckets {
		sh := &s.shards[shards[i]]
		if _, ok := sh.tats[b.key]; !ok && len(sh.tats) >= s.perShard {
			sh.makeRoom(now, s.perShard)
		}
		sh.tats[b.key] = next[i]
	}
	return d, nil
}

// makeRoom drops the buckets that are full again; if that leaves limit or
// more, it drops the one that will be full soonest, which loses the least
// history.
func (sh *memoryShard) makeRoom(now int64, limit int) {
	oldest, oldestTAT := "", int64(0)
	for k, tat := range sh.tats {
		if tat <= now {
			delete(sh.tats, k)
			continue
		}
		if oldest == "" || tat < oldestTAT {
			oldest, oldestTAT = k, tat
		}
	}
	if len(sh.tats) >= limit {
		delete(sh.tats, oldest)
	}
}

func (s *memoryStore) close() error { return nil }
