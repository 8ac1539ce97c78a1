package encodedexfil

import (
	"bytes"
	"math"
	"strings"
)

// TypeSuspicious is the finding type of a run that ContextForge's scoring
// (min_suspicion_score) flags without a detector finding anything in it.
const TypeSuspicious = "suspicious_encoding"

// ContextForge's built-in sensitive keywords and egress hints.
var (
	sensitiveKeywords = []string{"password", "passwd", "secret", "token", "api_key", "apikey", "authorization",
		"bearer", "cookie", "session", "private key", "ssh-rsa", "refresh_token", "client_secret"}
	egressHints = []string{"curl", "wget", "http://", "https://", "upload", "webhook", "beacon", "dns",
		"exfil", "pastebin", "socket", "send"}
)

// egressRadius is how far around a run egress hints are looked for.
const egressRadius = 80

// scorer is ContextForge's scoring of a decoded run: 1 for decoding, +1
// for entropy ≥ min_entropy, +1 for a printable ratio ≥ min_printable_ratio,
// +2 for a sensitive keyword in the decoded bytes, +1 for an egress hint
// near the run, +1 for a run at least twice min_encoded_length.
type scorer struct {
	threshold    int
	perEncoding  map[string]int
	minEntropy   float64
	minPrintable float64
	longRun      int
	keywords     [][]byte
	hints        []string
}

func newScorer(cfg Config) *scorer {
	sc := &scorer{threshold: *cfg.MinSuspicionScore, perEncoding: cfg.PerEncodingScore,
		minEntropy: cfg.MinEntropy, minPrintable: cfg.MinPrintableRatio, longRun: 2 * cfg.MinEncodedLength}
	for _, k := range append(append([]string{}, sensitiveKeywords...), cfg.ExtraSensitiveKeywords...) {
		sc.keywords = append(sc.keywords, []byte(strings.ToLower(k)))
	}
	for _, h := range append(append([]string{}, egressHints...), cfg.ExtraEgressHints...) {
		sc.hints = append(sc.hints, strings.ToLower(h))
	}
	return sc
}

// suspicious reports whether the run d of text scores at least the
// threshold of its encoding.
func (sc *scorer) suspicious(text string, d decoded) bool {
	score := 1
	if entropy(d.bytes) >= sc.minEntropy {
		score++
	}
	if printableRatio(d.bytes) >= sc.minPrintable {
		score++
	}
	lower := bytes.ToLower(d.bytes)
	for _, k := range sc.keywords {
		if bytes.Contains(lower, k) {
			score += 2
			break
		}
	}
	window := strings.ToLower(text[max(0, d.start-egressRadius):min(len(text), d.end+egressRadius)])
	for _, h := range sc.hints {
		if strings.Contains(window, h) {
			score++
			break
		}
	}
	if d.end-d.start >= sc.longRun {
		score++
	}
	threshold := sc.threshold
	if t, ok := sc.perEncoding[d.enc]; ok {
		threshold = t
	}
	return score >= threshold
}

func entropy(b []byte) float64 {
	var counts [256]int
	for _, c := range b {
		counts[c]++
	}
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / float64(len(b))
			h -= p * math.Log2(p)
		}
	}
	return h
}

func printableRatio(b []byte) float64 {
	n := 0
	for _, c := range b {
		if 32 <= c && c <= 126 || c == '\t' || c == '\n' || c == '\r' {
			n++
		}
	}
	return float64(n) / float64(len(b))
}
