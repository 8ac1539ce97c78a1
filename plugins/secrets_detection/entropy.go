package secretsdetection

import (
	"math"

	"github.com/mcp-extproc/mcp-extproc/plugins/internal/anchors"
)

// High-entropy detection (detect_high_entropy) catches generated secrets no
// rule knows: runs of base64/base64url characters at least min_entropy_length
// long whose Shannon entropy, in bits per character, reaches
// entropy_threshold, and which mix at least two of lower case, upper case
// and digits. Hex strings (at most 4 bits per character: hashes, UUIDs) and
// words stay below the default threshold of 4.5; random base64 reaches it
// from about 40 characters (30 random bytes) on, while shorter random
// tokens mostly stay under it (a 32-character one measures about 4.3).

// scanHighEntropy appends to out every high-entropy run of s that does not
// overlap a finding already in out (from base on): a secret a rule knows
// keeps its type and bounds.
func scanHighEntropy(s string, minLen int, threshold float64, out *[]finding, base int) {
	known := len(*out)
	for i := 0; i < len(s); {
		if !isEntropyByte(s[i]) {
			i++
			continue
		}
		start := i
		for i < len(s) && isEntropyByte(s[i]) {
			i++
		}
		for pad := 0; pad < 2 && i < len(s) && s[i] == '='; pad++ { // base64 padding ends a run
			i++
		}
		tok := s[start:i]
		if len(tok) < minLen || classes(tok) < 2 || overlaps((*out)[base:known], start, i) || shannon(tok) < threshold {
			continue
		}
		*out = append(*out, finding{start: start, end: i, typ: TypeHighEntropy})
	}
}

func overlaps(fs []finding, start, end int) bool {
	for _, f := range fs {
		if f.start < end && start < f.end {
			return true
		}
	}
	return false
}

// isEntropyByte is the base64 and base64url alphabet. '=' is taken only as
// padding at a run's end, so "key=value" is two runs ("key=" and "value").
func isEntropyByte(c byte) bool { return entropyByte[c] }

var entropyByte = func() (t [256]bool) {
	for c := range 256 {
		t[c] = isTokenByte(byte(c)) || c == '+' || c == '/'
	}
	return t
}()

// classes counts which of lower case, upper case and digits s holds.
func classes(s string) int {
	var lower, upper, digit int
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z':
			lower = 1
		case 'A' <= c && c <= 'Z':
			upper = 1
		case anchors.IsDigit(c):
			digit = 1
		}
	}
	return lower + upper + digit
}

// shannon returns the Shannon entropy of s in bits per byte.
func shannon(s string) float64 {
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}
