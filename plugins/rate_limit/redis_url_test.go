package ratelimit

import (
	"testing"
	"time"
)

// A password net/url would refuse (a template placeholder) is opaque: the
// policy loads, and Redis decides when the plugin connects.
func TestRedisURLWithOddPassword(t *testing.T) {
	for url, want := range map[string]string{
		"redis://:{{ env.REDIS_PASSWORD }}@redis:6379/0": "{{ env.REDIS_PASSWORD }}",
		"redis://:p%40ss@redis:6379/0":                   "p@ss",
		"redis://user:s3cret@redis:6379/2":               "s3cret",
	} {
		opts, err := redisOptions(url, time.Second)
		if err != nil || opts.Password != want || opts.Addr != "redis:6379" {
			t.Errorf("%s: %+v %v", url, opts, err)
		}
	}
}
