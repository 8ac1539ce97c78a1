package anchors

import (
	"strings"
	"testing"
)

// BenchmarkScan scans 1 KiB of ordinary prose, the load benchmark's kind
// of text, for a set of folded keywords and exact prefixes like the ones
// pii_filter and secrets_detection build: nearly every position is
// dismissed, so this measures the scan's fast path.
func BenchmarkScan(b *testing.B) {
	var a Set
	for i, k := range []string{"ssn", "passport", "license", "iban", "routing", "account", "password", "secret", "token", "api_key", "bearer"} {
		a.Add(k, true, i)
	}
	for i, p := range []string{"AKIA", "ghp_", "xoxb-", "sk_live_", "-----BEGIN"} {
		a.Add(p, false, 100+i)
	}
	text := strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. ", 13)[:1024]
	b.SetBytes(int64(len(text)))
	n := 0
	for b.Loop() {
		a.Scan(text, func(rule, start, end int) int { n++; return 0 })
	}
	if n != 0 {
		b.Fatalf("%d anchors found in prose", n)
	}
}
