package e2e

import (
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// conformancePolicy runs built-in plugins on every hook without changing
// anything: audit mode discards modifications and does not block. The list
// guards run in enforce mode: tool_filter (hiding a tool the server does not
// have), tool_guard with its defaults and tool_pin with every tool pinned
// (by extproc pin) and unpinned ones refused; none may cost a scenario.
const conformancePolicy = `
mcp:
  paths: [/mcp]
plugin_settings:
  fail_on_plugin_error: true
plugins:
  - name: filter
    kind: tool_filter
    config: {deny: [no_such_tool]}
  - name: guard
    kind: tool_guard
  - name: pin
    kind: tool_pin
    config: {pins_file: "${E2E_PINS_FILE}", on_new: block}
  - name: secrets
    kind: secrets_detection
    mode: audit
  - name: pii
    kind: pii_filter
    mode: audit
  - name: resources
    kind: resource_filter
    mode: audit
`

var scenarioLine = regexp.MustCompile(`(?m)^[✓✗]\s+(\S+):\s+(\d+) passed, (\d+) failed`)
var totalLine = regexp.MustCompile(`Total: (\d+) passed, (\d+) failed`)

// runConformance runs the MCP conformance suite in server mode against url
// and returns the passed scenarios and the total passed checks.
func runConformance(t *testing.T, url string) (map[string]bool, int, string) {
	t.Helper()
	cmd := exec.Command("npx", "--no-install", "conformance", "server", "--url", url)
	cmd.Dir = nodeDir(t)
	out, _ := cmd.CombinedOutput() // a failing scenario exits non-zero; the report says which
	text := string(out)
	passed := map[string]bool{}
	for _, m := range scenarioLine.FindAllStringSubmatch(text, -1) {
		if m[3] == "0" {
			passed[m[1]] = true
		}
	}
	tm := totalLine.FindStringSubmatch(text)
	if tm == nil {
		t.Fatalf("conformance suite printed no total:\n%s", text)
	}
	n, _ := strconv.Atoi(tm[1])
	return passed, n, text
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// The MCP conformance suite, against the Go SDK's everything-server built
// from the pinned module: every scenario that passes directly must pass
// through extproc dev with plugins on every hook.
func TestConformanceThroughFilter(t *testing.T) {
	if testing.Short() {
		t.Skip("conformance suite runs in the full test")
	}
	addr := startServer(t, "everything-server", "github.com/modelcontextprotocol/go-sdk/conformance/everything-server", "-stateless=false")

	direct, directTotal, directOut := runConformance(t, "http://"+addr+"/mcp")
	if len(direct) < 30 || directTotal < 40 {
		t.Fatalf("direct run: %d scenarios, %d checks passed (want 30 and 40):\n%s", len(direct), directTotal, directOut)
	}
	pins := filepath.Join(t.TempDir(), "pins.yaml")
	if out, err := exec.Command(build(t, "extproc", "./cmd/extproc"), "pin", "--upstream", "http://"+addr+"/mcp", "--out", pins).CombinedOutput(); err != nil {
		t.Fatalf("extproc pin: %v\n%s", err, out)
	}
	t.Setenv("E2E_PINS_FILE", pins)
	base := startDev(t, conformancePolicy, "http://"+addr)
	filtered, filteredTotal, filteredOut := runConformance(t, base+"/mcp")
	var lost []string
	for s := range direct {
		if !filtered[s] {
			lost = append(lost, s)
		}
	}
	if len(lost) > 0 || filteredTotal < directTotal {
		t.Fatalf("through the filter %d checks passed (directly %d); scenarios lost: %s\n%s", filteredTotal, directTotal, strings.Join(lost, ", "), filteredOut)
	}
	t.Logf("conformance: %d scenarios, %d checks pass directly and through extproc dev", len(direct), directTotal)
}

func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s", addr)
}
