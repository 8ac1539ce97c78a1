package ratelimit

import (
	"context"
	"time"
)

// bucket is one limit's key for one request, with the limit's GCRA
// parameters in microseconds.
type bucket struct {
	key      string
	interval int64 // µs between two requests at the sustained rate
	burst    int64 // requests admitted at once from a full bucket
}

// decision is a store's answer for one request.
type decision struct {
	allowed bool
	// denied is the index of the bucket that refused, when !allowed; when
	// several did, the one with the longest wait.
	denied int
	// wait is how long until the refused request would be admitted.
	wait time.Duration
}

// store keeps the buckets' state. take admits one request against every
// bucket or against none: a request refused by one limit does not use up
// the others.
type store interface {
	take(ctx context.Context, buckets []bucket) (decision, error)
	close() error
}

// admit is GCRA for one bucket at now (µs since the epoch). tat is the
// bucket's theoretical arrival time, 0 when the bucket is new. It returns
// the bucket's next tat when the request is admitted, else 0 and the wait.
// The Redis script applies the same arithmetic.
func admit(tat, now, interval, burst int64) (next, wait int64) {
	tat = max(tat, now)
	next = tat + interval
	if at := next - burst*interval; now < at {
		return 0, at - now
	}
	return next, 0
}
