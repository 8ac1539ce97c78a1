package framework

import (
	"fmt"
	"strings"
)

// ConfigError is one mistake in a policy file.
type ConfigError struct {
	File   string
	Line   int
	Column int
	// Path locates the value, e.g. "plugins[2].mode".
	Path string
	Msg  string
	// Err is the underlying error, if any (a kind's factory error).
	Err error
}

func pos(file string, line int) string {
	if line == 0 {
		return file
	}
	return fmt.Sprintf("%s:%d", file, line)
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(pos(e.File, e.Line))
	if e.Line > 0 && e.Column > 0 {
		fmt.Fprintf(&b, ":%d", e.Column)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *ConfigError) Unwrap() error { return e.Err }

// ConfigErrors is every mistake found in one file, in file order.
type ConfigErrors []*ConfigError

func (es ConfigErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap lets errors.Is and errors.As see each error.
func (es ConfigErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Warning is something in a policy file that loads but deserves attention
// (a ContextForge key we ignore, a hook a kind does not have).
type Warning struct {
	File string
	Line int
	Path string
	Msg  string
}

func (w Warning) String() string {
	if w.Path == "" {
		return pos(w.File, w.Line) + ": " + w.Msg
	}
	return pos(w.File, w.Line) + ": " + w.Path + ": " + w.Msg
}
