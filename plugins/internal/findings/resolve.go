package findings

import (
	"cmp"
	"slices"
)

// Resolve settles the findings fs of s, in place: it drops those whose
// value the whitelist holds, sorts the others by position and drops
// overlaps — where two overlap, the one that starts first, then the longer,
// wins. It returns the findings kept, a prefix of fs. bounds returns a
// finding's start and end in s.
func Resolve[F any](s string, fs []F, w Whitelist, bounds func(F) (start, end int)) []F {
	if len(fs) == 0 {
		return fs
	}
	if len(w) > 0 {
		fs = slices.DeleteFunc(fs, func(f F) bool {
			start, end := bounds(f)
			return w.Has(s[start:end])
		})
	}
	slices.SortStableFunc(fs, func(a, b F) int {
		as, ae := bounds(a)
		bs, be := bounds(b)
		return cmp.Or(cmp.Compare(as, bs), cmp.Compare(be, ae))
	})
	kept := fs[:0]
	lastEnd := 0
	for _, f := range fs {
		start, end := bounds(f)
		if len(kept) > 0 && start < lastEnd {
			continue
		}
		kept = append(kept, f)
		lastEnd = end
	}
	return kept
}
