package docgen

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	inlineLink = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	autoLink   = regexp.MustCompile(`<((?:https?|ftp)://[^>]+)>`)
	refLink    = regexp.MustCompile(`(?m)^\s*\[[^\]]+\]:\s*(\S+)`)
	fence      = regexp.MustCompile("(?ms)^\\s*```.*?^\\s*```")
)

// No document in the repository links outside it, and every relative link
// reaches a file or directory that exists.
func TestDocsLinkOnlyInsideTheRepository(t *testing.T) {
	root := root(t)
	var files []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		// Installed dependencies (npm, and the Python virtualenvs the e2e
		// suites create, .venv-<hash>) are not the repository's docs.
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git" || strings.HasPrefix(d.Name(), ".venv")) {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".md") || strings.HasSuffix(p, ".md.tmpl")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 15 {
		t.Fatalf("found only %d documents", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, f)
		text := fence.ReplaceAllString(string(data), "") // code blocks hold commands, not links
		var targets []string
		for _, re := range []*regexp.Regexp{inlineLink, autoLink, refLink} {
			for _, m := range re.FindAllStringSubmatch(text, -1) {
				targets = append(targets, m[1])
			}
		}
		for _, target := range targets {
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") || strings.HasPrefix(target, "//") {
				t.Errorf("%s links outside the repository: %s", rel, target)
				continue
			}
			if strings.HasPrefix(target, "#") || strings.HasSuffix(f, ".tmpl") {
				continue
			}
			path, _, _ := strings.Cut(target, "#")
			abs := filepath.Clean(filepath.Join(filepath.Dir(f), filepath.FromSlash(path)))
			if inside, _ := filepath.Rel(root, abs); strings.HasPrefix(inside, "..") {
				t.Errorf("%s links outside the repository: %s", rel, target)
				continue
			}
			if _, err := os.Stat(abs); err != nil {
				t.Errorf("%s: broken link %s", rel, target)
			}
		}
	}
}
