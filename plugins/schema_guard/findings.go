package schemaguard

import (
	"cmp"
	"errors"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// Finding is one reason an instance fails its schema: where (a JSON
// pointer into the instance) and which keyword. It never holds the value.
type Finding struct {
	// Path is the instance location, "" for the whole instance.
	Path string `json:"path"`
	// Keyword is the failing keyword ("type", "required", "maximum"…).
	Keyword string `json:"keyword"`
	// Missing lists, for required, the properties that are missing (names
	// from the schema).
	Missing []string `json:"missing,omitempty"`
}

func (f Finding) String() string {
	s := cmp.Or(f.Path, "/") + ": " + f.Keyword
	if len(f.Missing) > 0 {
		s += " (" + strings.Join(f.Missing, ", ") + ")"
	}
	return s
}

// validate checks raw JSON against sch. It returns the findings (nil when
// the instance is valid), or an error when raw is not JSON.
func validate(sch *jsonschema.Schema, raw []byte) ([]Finding, error) {
	v, err := decodeInstance(raw)
	if err != nil {
		return nil, err
	}
	err = sch.Validate(v)
	if err == nil {
		return nil, nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil, err
	}
	var out []Finding
	leaves(ve, &out)
	slices.SortFunc(out, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Keyword, b.Keyword))
	})
	out = slices.CompactFunc(out, func(a, b Finding) bool {
		return a.Path == b.Path && a.Keyword == b.Keyword && slices.Equal(a.Missing, b.Missing)
	})
	if len(out) == 0 { // a failure with no keyword of its own: say so rather than pass it
		out = []Finding{{Path: pointer(ve.InstanceLocation), Keyword: "schema"}}
	}
	return out, nil
}

// leaves collects the innermost errors: those are the keywords that
// failed; the ones above them (allOf, $ref, properties) only carry them.
func leaves(e *jsonschema.ValidationError, out *[]Finding) {
	if len(e.Causes) > 0 {
		for _, c := range e.Causes {
			leaves(c, out)
		}
		return
	}
	f := Finding{Path: pointer(e.InstanceLocation), Keyword: strings.Join(e.ErrorKind.KeywordPath(), "/")}
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		f.Missing = k.Missing
	case *kind.FalseSchema:
		f.Keyword = "false"
	}
	if f.Keyword == "" {
		return
	}
	*out = append(*out, f)
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// maxPathBytes bounds a path in a violation: its property names are the
// client's, and a message must stay readable.
const maxPathBytes = 256

// pointer writes an instance location as a JSON pointer (RFC 6901), cut
// at maxPathBytes with a trailing "…".
func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		pointerEscaper.WriteString(&b, t)
		if b.Len() > maxPathBytes {
			return strings.ToValidUTF8(b.String()[:maxPathBytes], "") + "…"
		}
	}
	return b.String()
}
