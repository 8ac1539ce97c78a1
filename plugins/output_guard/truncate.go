package outputguard

import (
	"unicode"
	"unicode/utf8"

	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// truncate rewrites a result so that each part over max_chars keeps at
// most max_chars characters, counted across its strings in document order:
// the first max_chars−len(ellipsis) characters are kept, the ellipsis is
// appended to the string holding the last of them, and the strings after it
// become empty. Blocks and keys stay, so the result keeps its shape;
// Replace re-encodes what changed, so the JSON stays valid; cuts fall
// between characters, never inside one.
func (p *Plugin) truncate(t *mcpparse.Text, l layout) ([]byte, bool) {
	ell := utf8.RuneCountInString(p.ellipsis)
	keep, ellipsis := p.max-ell, p.ellipsis
	if keep <= 0 { // the ellipsis does not fit: cut hard
		keep, ellipsis = p.max, ""
	}
	const within = -1
	budget := [3]int{partContent: within, partStructured: within}
	if l.contentChars > p.max {
		budget[partContent] = keep
	}
	if l.structuredChars > p.max {
		budget[partStructured] = keep
	}
	var done [3]bool
	var edits []mcpparse.TextEdit
	for i := range t.Strings {
		path, s := t.Strings[i].Path, t.Strings[i].Value
		if path.IsKey() {
			continue
		}
		pt := classify(path, l.blockTypes)
		if pt == partNone || budget[pt] == within {
			continue
		}
		if done[pt] {
			edits = append(edits, mcpparse.TextEdit{Index: i, Value: ""})
			continue
		}
		n := utf8.RuneCountInString(s)
		if n < budget[pt] {
			budget[pt] -= n
			continue
		}
		// The part goes on after this string (it is over max_chars), so this
		// is where it ends.
		end := byteOffset(s, budget[pt])
		if p.wordBoundary && ellipsis != "" {
			end = wordEnd(s, end, budget[pt])
		}
		done[pt] = true
		edits = append(edits, mcpparse.TextEdit{Index: i, Value: s[:end] + ellipsis})
	}
	return t.Replace(edits)
}

// byteOffset returns the byte index of the character after the first n.
func byteOffset(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}

// wordEnd moves a cut at s[:end] (keep characters) back to just after the
// last space or punctuation mark within its final fifth, dropping the
// spaces before it; with no such mark there, the cut stays.
func wordEnd(s string, end, keep int) int {
	window := keep / 5
	for i, seen := end, 0; i > 0 && seen <= window; seen++ {
		r, size := utf8.DecodeLastRuneInString(s[:i])
		if unicode.IsSpace(r) || unicode.IsPunct(r) {
			if !unicode.IsSpace(r) {
				return i // keep the punctuation
			}
			j := i - size
			for j > 0 {
				r, size := utf8.DecodeLastRuneInString(s[:j])
				if !unicode.IsSpace(r) {
					break
				}
				j -= size
			}
			return j
		}
		i -= size
	}
	return end
}
