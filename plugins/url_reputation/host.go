package urlreputation

import (
	"math"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/net/idna"
)

// domainSet maps canonical domains (and IP addresses) to the list that
// named them.
type domainSet map[string]string

// match returns the entry host equals or is a subdomain of, and its list.
// An IP address matches only itself.
func (d domainSet) match(host string, isIP bool) (string, string) {
	if len(d) == 0 {
		return "", ""
	}
	if isIP {
		if src, ok := d[host]; ok {
			return host, src
		}
		return "", ""
	}
	for h := host; ; {
		if src, ok := d[h]; ok {
			return h, src
		}
		i := strings.IndexByte(h, '.')
		if i < 0 {
			return "", ""
		}
		h = h[i+1:]
	}
}

// The homoglyph checks look at the Unicode form of each xn-- label.

// scriptTables are the scripts a label's letters are sorted into; a letter
// of another script counts as "other".
var scriptTables = []struct {
	name  string
	table *unicode.RangeTable
}{
	{"Latin", unicode.Latin}, {"Cyrillic", unicode.Cyrillic}, {"Greek", unicode.Greek},
	{"Armenian", unicode.Armenian}, {"Hebrew", unicode.Hebrew}, {"Arabic", unicode.Arabic},
	{"Han", unicode.Han}, {"Hiragana", unicode.Hiragana}, {"Katakana", unicode.Katakana},
	{"Hangul", unicode.Hangul}, {"Bopomofo", unicode.Bopomofo}, {"Thai", unicode.Thai},
	{"Devanagari", unicode.Devanagari}, {"Georgian", unicode.Georgian}, {"Cherokee", unicode.Cherokee},
}

// allowedMixes are the script combinations one label may hold (UTS #39's
// "highly restrictive" level): Japanese, Chinese and Korean writing with
// Latin.
var allowedMixes = [][]string{
	{"Latin", "Han", "Hiragana", "Katakana"},
	{"Latin", "Han", "Bopomofo"},
	{"Latin", "Han", "Hangul"},
}

// latinLookalikes are Cyrillic and Greek letters that render like Latin
// ones. A label written only in them ("аррӏе") imitates a Latin name.
const latinLookalikes = "аеорсухіјѕӏԁԛԝһвкмнтгпАВЕКМНОРСТУХІЈЅԌԚԜοαιкνρτυχωΑΒΕΖΗΙΚΜΝΟΡΤΥΧ"

// homoglyph reports why host, in canonical (ASCII) form, looks like a
// lookalike: "mixed_script" or "confusable_script", or "".
func homoglyph(host string) string {
	if !strings.Contains(host, "xn--") {
		return ""
	}
	for label := range strings.SplitSeq(host, ".") {
		if !strings.HasPrefix(label, "xn--") {
			continue
		}
		u, err := idna.Punycode.ToUnicode(label)
		if err != nil {
			return "mixed_script" // CanonicalHost accepted it; refuse what we cannot read
		}
		if why := labelScripts(u); why != "" {
			return why
		}
	}
	return ""
}

func labelScripts(label string) string {
	var seen []string
	allLookalike, letters := true, 0
	for _, r := range label {
		if !unicode.IsLetter(r) {
			continue
		}
		letters++
		if !strings.ContainsRune(latinLookalikes, r) {
			allLookalike = false
		}
		name := "other"
		for _, st := range scriptTables {
			if unicode.Is(st.table, r) {
				name = st.name
				break
			}
		}
		if !slices.Contains(seen, name) {
			seen = append(seen, name)
		}
	}
	if len(seen) > 1 && !allowedMix(seen) {
		return "mixed_script"
	}
	if letters > 0 && allLookalike && len(seen) == 1 && seen[0] != "Latin" {
		return "confusable_script"
	}
	return ""
}

func allowedMix(seen []string) bool {
	for _, mix := range allowedMixes {
		ok := true
		for _, s := range seen {
			if !slices.Contains(mix, s) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// nameEntropy is the Shannon entropy, in bits per character, of a host
// name without its top-level label and dots.
func nameEntropy(host string) float64 {
	if i := strings.LastIndexByte(host, '.'); i > 0 {
		host = host[:i]
	}
	var counts [256]int
	n := 0
	for i := 0; i < len(host); i++ {
		if host[i] != '.' {
			counts[host[i]]++
			n++
		}
	}
	if n == 0 {
		return 0
	}
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / float64(n)
			h -= p * math.Log2(p)
		}
	}
	return h
}
