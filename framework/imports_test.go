package framework_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The framework is embeddable in any Go program: no package under
// framework/ (commands and test helpers included) may depend on the
// plugins, the Envoy adapter or the binary. Test files are not packages of
// their own and may use the plugins to compare against.
func TestFrameworkImportsNoPluginsOrAdapter(t *testing.T) {
	const module = "github.com/mcp-extproc/mcp-extproc"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, module+"/framework/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 2 {
		t.Fatalf("go list found %d packages under framework/: %q", len(lines), out)
	}
	for _, line := range lines {
		pkg, deps, _ := strings.Cut(line, " ")
		for _, dep := range strings.Fields(deps) {
			for _, banned := range []string{"/plugins", "/extproc", "/cmd"} {
				if dep == module+banned || strings.HasPrefix(dep, module+banned+"/") {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}
