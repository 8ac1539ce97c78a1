package framework

import (
	"fmt"
	"strings"
)

// Suggest returns ` (did you mean "x"?)` when one of candidates is a likely
// misspelling of got — the closest by edit distance (insertions, deletions,
// substitutions and swaps of neighbours, ignoring case), if it is close
// enough to be a typo rather than another word — and "" otherwise. Loaders
// append it to "unknown key", "unknown kind" and "unknown value" messages.
func Suggest(got string, candidates []string) string {
	g := strings.ToLower(got)
	if g == "" {
		return ""
	}
	// A third of the word may be wrong, at least one letter, at most three.
	limit := min(max(1, len([]rune(g))/3), 3)
	best, bestD := "", limit+1
	for _, c := range candidates {
		// 0 is a difference of case only (an exact match is not unknown).
		if d := editDistance(g, strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the optimal string alignment distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// Three rows: the one before last (for swaps), the last, this one.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
