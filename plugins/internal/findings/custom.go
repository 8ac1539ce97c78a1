package findings

import (
	"fmt"
	"regexp"
	"strings"
)

// Custom is a compiled custom pattern (custom_patterns[i]): a finding of
// Type wherever the regular expression matches — its group named value if
// it has one, else the whole match.
type Custom struct {
	Type  string
	re    *regexp.Regexp
	value int // index of the group named value, or -1 for the whole match
}

// CompileCustom checks and compiles the custom pattern of type typ. key
// names it in errors: "custom_patterns[1]" gives "custom_patterns[1].pattern:
// must not be empty".
func CompileCustom(key, typ, pattern string) (Custom, error) {
	if strings.TrimSpace(typ) == "" {
		return Custom{}, fmt.Errorf("%s.type: must not be empty", key)
	}
	if pattern == "" {
		return Custom{}, fmt.Errorf("%s.pattern: must not be empty", key)
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return Custom{}, fmt.Errorf("%s.pattern: invalid regular expression: %w", key, err)
	}
	if re.MatchString("") {
		return Custom{}, fmt.Errorf("%s.pattern: %q matches the empty string", key, pattern)
	}
	return Custom{Type: typ, re: re, value: re.SubexpIndex("value")}, nil
}

// Find calls found with the bounds of each finding of c in s, in order;
// a match whose value group is empty or did not take part is none.
func (c *Custom) Find(s string, found func(start, end int)) {
	for _, m := range c.re.FindAllStringSubmatchIndex(s, -1) {
		start, end := m[0], m[1]
		if c.value >= 0 {
			start, end = m[2*c.value], m[2*c.value+1]
		}
		if start < end {
			found(start, end)
		}
	}
}

// Whitelist is the compiled whitelist_patterns: a value any of them matches
// is not a finding.
type Whitelist []*regexp.Regexp

// CompileWhitelist compiles whitelist_patterns.
func CompileWhitelist(patterns []string) (Whitelist, error) {
	var w Whitelist
	for i, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("whitelist_patterns[%d]: invalid regular expression: %w", i, err)
		}
		w = append(w, re)
	}
	return w, nil
}

// Has reports whether v is whitelisted.
func (w Whitelist) Has(v string) bool {
	for _, re := range w {
		if re.MatchString(v) {
			return true
		}
	}
	return false
}
