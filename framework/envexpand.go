package framework

import (
	"fmt"
	"strings"
)

// expandEnv replaces ${VAR} and ${VAR:-default} in s. "$$" writes a literal
// "$"; a "$" not followed by "{" or "$" is kept as is, so regular
// expressions such as "^a$" need no escaping. A ${VAR} without a default
// whose variable is unset is an error: a policy must not silently lose a value.
// A reference with a dot (${env.X}) is a plugin's own placeholder and is
// kept as written.
func expandEnv(s string, lookup func(string) (string, bool)) (string, error) {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 || i == len(s)-1 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			s = s[i+2:]
			continue
		case '{':
		default:
			b.WriteByte('$')
			s = s[i+1:]
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", fmt.Errorf("unterminated ${ in %q", s)
		}
		ref := s[i+2 : i+end]
		name, def, hasDef := strings.Cut(ref, ":-")
		if !hasDef && strings.Contains(name, ".") {
			// A plugin's own placeholder (ContextForge's webhook plugin
			// expands ${env.X} in its templates): not ours, kept as written.
			b.WriteString(s[i : i+end+1])
			s = s[i+end+1:]
			continue
		}
		if !validEnvName(name) {
			return "", fmt.Errorf("invalid environment reference ${%s}", ref)
		}
		v, ok := lookup(name)
		switch {
		case ok && v != "":
			b.WriteString(v)
		case hasDef:
			b.WriteString(def)
		case ok:
			// set but empty, no default: empty is what the operator set
		default:
			return "", fmt.Errorf("environment variable %s is not set (write ${%s:-default} to allow that)", name, name)
		}
		s = s[i+end+1:]
	}
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}
