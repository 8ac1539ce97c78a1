package ratelimit

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// rate is a parsed "60/m": Count requests per Period.
type rate struct {
	Count  int64
	Period time.Duration
}

// periods are the units a rate may be given in, ContextForge's short forms
// first.
var periods = map[string]time.Duration{
	"s": time.Second, "sec": time.Second, "second": time.Second,
	"m": time.Minute, "min": time.Minute, "minute": time.Minute,
	"h": time.Hour, "hour": time.Hour,
	"d": 24 * time.Hour, "day": 24 * time.Hour,
}

// maxRateCount bounds the count of a rate so that the emission interval
// stays a positive number of nanoseconds.
const maxRateCount = 1_000_000_000

// parseRate reads "<count>/<unit>" with unit among s, m, h, d (and their
// long forms sec, min, minute, hour, day).
func parseRate(s string) (rate, error) {
	num, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return rate{}, fmt.Errorf("%q is not <count>/<unit>, e.g. 60/m", s)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || n <= 0 || n > maxRateCount {
		return rate{}, fmt.Errorf("%q: the count must be a whole number from 1 to %d", s, maxRateCount)
	}
	p, ok := periods[strings.ToLower(strings.TrimSpace(unit))]
	if !ok {
		return rate{}, fmt.Errorf("%q: the unit must be one of s, m, h, d", s)
	}
	return rate{Count: n, Period: p}, nil
}

// interval is the GCRA emission interval: the time one request's token
// takes to come back.
func (r rate) interval() time.Duration { return r.Period / time.Duration(r.Count) }
