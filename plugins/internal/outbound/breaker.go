package outbound

import (
	"sync"
	"time"
)

// Breaker states, as the breaker-state gauge reports them.
const (
	stateClosed   = 0
	stateHalfOpen = 1
	stateOpen     = 2
)

// breaker is a consecutive-failure circuit breaker: Failures failed
// attempts in a row open it; while open it refuses calls; after Cooldown it
// lets one probe through (half-open), whose success closes it and whose
// failure opens it again for another Cooldown.
type breaker struct {
	failures int
	cooldown time.Duration
	now      func() time.Time
	onState  func(state int)

	mu       sync.Mutex
	state    int
	run      int       // failures in a row
	openedAt time.Time // when it last opened
	probing  bool      // a half-open probe is in flight
}

func newBreaker(b Breaker, now func() time.Time, onState func(int)) *breaker {
	if b.Failures == 0 {
		return nil
	}
	br := &breaker{failures: b.Failures, cooldown: b.Cooldown.Std(), now: now, onState: onState}
	onState(stateClosed)
	return br
}

// allow reports whether an attempt may go out. A nil breaker always allows.
func (b *breaker) allow() bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case stateOpen:
		if b.now().Sub(b.openedAt) < b.cooldown {
			return false
		}
		b.setState(stateHalfOpen)
		b.probing = true
		return true
	case stateHalfOpen:
		if b.probing {
			return false
		}
		b.probing = true
		return true
	}
	return true
}

// done records the outcome of an attempt that allow let through.
func (b *breaker) done(failed bool) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probing = false
	if !failed {
		b.run = 0
		if b.state != stateClosed {
			b.setState(stateClosed)
		}
		return
	}
	b.run++
	if b.state == stateHalfOpen || b.run >= b.failures {
		b.openedAt = b.now()
		b.setState(stateOpen)
	}
}

func (b *breaker) setState(s int) {
	b.state = s
	b.onState(s)
}
