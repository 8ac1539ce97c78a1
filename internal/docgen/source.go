package docgen

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Source reads the doc comments of config structs from the module's Go
// source, so that the reference says what the code's comments say.
type Source struct {
	root   string // module root directory
	module string // module path

	mu   sync.Mutex
	pkgs map[string]*sourcePkg
}

type sourcePkg struct {
	// fields[type][goField] is the field's doc comment.
	fields map[string]map[string]string
	// typeDocs[type] is the type's doc comment.
	typeDocs map[string]string
	// consts[type] lists the values of the string constants of that type,
	// in declaration order.
	consts map[string][]string
	// constValues maps every string constant of the package to its value.
	constValues map[string]string
}

// NewSource finds the module that holds dir (its go.mod).
func NewSource(dir string) (*Source, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	for {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			m := regexp.MustCompile(`(?m)^module\s+(\S+)`).FindSubmatch(data)
			if m == nil {
				return nil, fmt.Errorf("%s/go.mod names no module", d)
			}
			return &Source{root: d, module: string(m[1]), pkgs: map[string]*sourcePkg{}}, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return nil, fmt.Errorf("no go.mod above %s", dir)
		}
		d = parent
	}
}

// Root is the module's directory.
func (s *Source) Root() string { return s.root }

func (s *Source) pkg(pkgPath string) *sourcePkg {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.pkgs[pkgPath]; ok {
		return p
	}
	p := &sourcePkg{fields: map[string]map[string]string{}, typeDocs: map[string]string{},
		consts: map[string][]string{}, constValues: map[string]string{}}
	s.pkgs[pkgPath] = p
	rel, ok := strings.CutPrefix(pkgPath, s.module)
	if !ok {
		return p // outside the module: no comments
	}
	dir := filepath.Join(s.root, filepath.FromSlash(strings.TrimPrefix(rel, "/")))
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return p
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.ParseComments)
		if err != nil {
			continue
		}
		p.add(f)
	}
	return p
}

func (p *sourcePkg) add(f *ast.File) {
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok {
			continue
		}
		switch gd.Tok {
		case token.TYPE:
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				doc := ts.Doc
				if doc == nil && len(gd.Specs) == 1 {
					doc = gd.Doc
				}
				p.typeDocs[ts.Name.Name] = commentText(doc)
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				m := map[string]string{}
				for _, fld := range st.Fields.List {
					text := commentText(fld.Doc)
					if text == "" {
						text = commentText(fld.Comment)
					}
					for _, n := range fld.Names {
						m[n.Name] = text
					}
				}
				p.fields[ts.Name.Name] = m
			}
		case token.CONST:
			var typ string
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				if vs.Type != nil {
					typ = ""
					if id, ok := vs.Type.(*ast.Ident); ok {
						typ = id.Name
					}
				} else if len(vs.Values) > 0 {
					typ = ""
				}
				for i, n := range vs.Names {
					if i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					v, err := strconv.Unquote(lit.Value)
					if err != nil {
						continue
					}
					p.constValues[n.Name] = v
					if typ != "" {
						p.consts[typ] = append(p.consts[typ], v)
					}
				}
			}
		}
	}
}

func commentText(g *ast.CommentGroup) string {
	if g == nil {
		return ""
	}
	return strings.Join(strings.Fields(g.Text()), " ")
}

// FieldDoc returns the doc comment of field goName of struct type t, with
// the Go names of t's fields replaced by their YAML keys and the package's
// string constants by their values, as a policy author writes them.
func (s *Source) FieldDoc(t reflect.Type, goName string) string {
	p := s.pkg(t.PkgPath())
	return s.yamlize(t, p, p.fields[t.Name()][goName])
}

// TypeDoc returns the doc comment of a named type.
func (s *Source) TypeDoc(t reflect.Type) string {
	return s.pkg(t.PkgPath()).typeDocs[t.Name()]
}

// Consts returns the string constants declared with type t, in order: the
// values of a plugin's own enum (pii_filter's MaskStrategy).
func (s *Source) Consts(t reflect.Type) []string {
	if t.Kind() != reflect.String || t.Name() == "" || t.PkgPath() == "" {
		return nil
	}
	return s.pkg(t.PkgPath()).consts[t.Name()]
}

var identRE = regexp.MustCompile(`\b[A-Z][A-Za-z0-9]*\b`)

func (s *Source) yamlize(t reflect.Type, p *sourcePkg, text string) string {
	if text == "" || t.Kind() != reflect.Struct {
		return text
	}
	keys := map[string]string{}
	for i := range t.NumField() {
		f := t.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name != "" && name != "-" {
			keys[f.Name] = name
		}
	}
	first := true
	return identRE.ReplaceAllStringFunc(text, func(w string) string {
		// An acronym (TLS, URL) is a field name only where the comment
		// names its field, at the start.
		isFirst := first
		first = false
		if k, ok := keys[w]; ok && (isFirst || strings.ToUpper(w) != w) {
			return "`" + k + "`"
		}
		if v, ok := p.constValues[w]; ok {
			return strconv.Quote(v)
		}
		return w
	})
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
