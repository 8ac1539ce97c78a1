// Package scaffold writes the skeleton of a new plugin — a built-in kind in
// Go, or an external plugin server in TypeScript (official MCP SDK) or Python
// (cpex) — that builds and passes its own tests as generated. `extproc plugin
// new` is its command line.
package scaffold

import (
	"bytes"
	"embed"
	"fmt"
	"go/format"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
)

//go:embed all:templates
var templates embed.FS

// Kinds of scaffold.
const (
	KindGo             = "go"
	KindExternalTS     = "external-ts"
	KindExternalPython = "external-python"
)

// Kinds lists the scaffold kinds.
var Kinds = []string{KindGo, KindExternalTS, KindExternalPython}

// Params are what the templates see.
type Params struct {
	// Name is the plugin kind's or server's name (tool_guard, my-plugin).
	Name string
	// Package is Name as a Go or Python package name (tool_guard).
	Package string
	// Code is the violation code the skeleton raises (TOOL_GUARD_BLOCKED).
	Code string
	// EnvPrefix prefixes the environment variables of external servers.
	EnvPrefix string
	// Class is Name as a Python class name (ToolGuard).
	Class string
}

// File is one generated file, its path relative to the output directory.
type File struct {
	Path string
	Data []byte
	Mode fs.FileMode
}

var (
	goName       = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	externalName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
)

// NewParams checks name for kind and derives the other names.
func NewParams(kind, name string) (Params, error) {
	switch kind {
	case KindGo:
		if !goName.MatchString(name) {
			return Params{}, fmt.Errorf("name %q: a Go kind is a lower-case identifier (letters, digits, _), as in tool_guard", name)
		}
	case KindExternalTS, KindExternalPython:
		if !externalName.MatchString(name) {
			return Params{}, fmt.Errorf("name %q: use lower-case letters, digits, - and _, starting with a letter", name)
		}
	default:
		return Params{}, fmt.Errorf("kind %q: want one of %s", kind, strings.Join(Kinds, ", "))
	}
	pkg := strings.ReplaceAll(name, "-", "_")
	var class strings.Builder
	for _, part := range strings.Split(pkg, "_") {
		if part != "" {
			class.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return Params{
		Name:      name,
		Package:   pkg,
		Code:      strings.ToUpper(pkg) + "_BLOCKED",
		EnvPrefix: strings.ToUpper(pkg),
		Class:     class.String(),
	}, nil
}

// Render returns the files of a scaffold of kind for p.
func Render(kind string, p Params) ([]File, error) {
	root := "templates/" + kind
	var files []File
	err := fs.WalkDir(templates, root, func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := templates.ReadFile(name)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(name, root+"/")
		rel = strings.TrimSuffix(rel, ".tmpl")
		rel = strings.ReplaceAll(rel, "PACKAGE", p.Package)
		if base := path.Base(rel); base == "gitignore" {
			rel = path.Join(path.Dir(rel), ".gitignore")
		}
		if kind == KindGo && rel == "plugin.go" {
			rel = p.Package + ".go"
		}
		t, err := template.New(name).Option("missingkey=error").Parse(string(raw))
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := t.Execute(&b, p); err != nil {
			return err
		}
		data := b.Bytes()
		if strings.HasSuffix(rel, ".go") {
			// Names change line lengths: lay the code out as gofmt would.
			if data, err = format.Source(data); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		mode := fs.FileMode(0o644)
		if strings.HasSuffix(rel, ".sh") {
			mode = 0o755
		}
		files = append(files, File{Path: rel, Data: data, Mode: mode})
		return nil
	})
	return files, err
}

// Write writes files under dir, which must not exist yet or be empty, so
// that nothing is overwritten.
func Write(dir string, files []File) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s already exists and is not empty", dir)
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Data, f.Mode); err != nil {
			return err
		}
	}
	return nil
}

// RegisterInAll adds the import of a new built-in kind to plugins/all/all.go
// (the file that links every kind into the binary), keeping imports sorted.
// It returns the new file; all is the current one.
func RegisterInAll(all []byte, importPath string) ([]byte, error) {
	line := "\t_ \"" + importPath + "\"\n"
	s := string(all)
	if strings.Contains(s, line) {
		return all, nil
	}
	start := strings.Index(s, "import (\n")
	if start < 0 {
		return nil, fmt.Errorf("plugins/all/all.go has no import block")
	}
	start += len("import (\n")
	end := strings.Index(s[start:], ")")
	if end < 0 {
		return nil, fmt.Errorf("plugins/all/all.go: unterminated import block")
	}
	block := s[start : start+end]
	lines := strings.SplitAfter(block, "\n")
	var out []string
	inserted := false
	for _, l := range lines {
		if l == "" {
			continue
		}
		if !inserted && strings.HasPrefix(l, "\t_ \"") && l > line {
			out = append(out, line)
			inserted = true
		}
		out = append(out, l)
	}
	if !inserted {
		out = append(out, line)
	}
	return []byte(s[:start] + strings.Join(out, "") + s[start+end:]), nil
}
