package external_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
	_ "github.com/mcp-extproc/mcp-extproc/framework/external"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/all"
)

var (
	buildOnce sync.Once
	serverBin string
	buildErr  error
)

// testServer builds the repository's internal/testpluginserver once: a
// plugin server with test kinds and every built-in kind. It lives outside
// framework/, which must not import plugins/.
func testServer(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "extproc-testserver-")
		if err != nil {
			buildErr = err
			return
		}
		serverBin = filepath.Join(dir, "testserver")
		_, file, _, _ := runtime.Caller(0)
		cmd := exec.Command("go", "build", "-o", serverBin, "./internal/testpluginserver")
		cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build testserver: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return serverBin
}

// serverPolicy is what the plugin server serves.
const serverPolicy = `
plugins:
  - name: keyword
    kind: test_keyword
    timeout: 60s
  - name: deny
    kind: deny_list
    config: {words: [forbidden, classified]}
  - name: pii
    kind: pii_filter
    config: {mask_strategy: partial}
`

func writeFile(t testing.TB, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// startHTTPServer runs the test plugin server over Streamable HTTP.
func startHTTPServer(t testing.TB) string {
	t.Helper()
	bin := testServer(t)
	cmd := exec.Command(bin, "-config", writeFile(t, serverPolicy), "-listen", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	buf := make([]byte, 256)
	n, _ := out.Read(buf)
	line := strings.TrimSpace(string(buf[:n]))
	url, ok := strings.CutPrefix(line, "listening on ")
	if !ok {
		t.Fatalf("server said %q", line)
	}
	return url
}

// stdioMCP is the mcp: block that runs the test server over STDIO.
func stdioMCP(t testing.TB) string {
	return fmt.Sprintf(`{proto: STDIO, cmd: [%q, "-config", %q]}`, testServer(t), writeFile(t, serverPolicy))
}

func httpMCP(url string) string { return fmt.Sprintf(`{proto: STREAMABLEHTTP, url: %q}`, url) }

func manager(t testing.TB, policy string) *framework.Manager {
	t.Helper()
	cfg, _, err := framework.Parse([]byte(policy), "client.yaml", framework.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := framework.NewManager(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	return m
}

// externalPolicy names the server's plugins as kind: external entries.
func externalPolicy(mcp string, names ...string) string {
	var b strings.Builder
	b.WriteString("plugins:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  - name: %s\n    kind: external\n    timeout: 10s\n    mcp: %s\n", n, mcp)
	}
	return b.String()
}

type verdict struct {
	blocked  bool
	code     string
	modified bool
	payload  string
}

func pre(m *framework.Manager, args string) verdict {
	out := m.ToolPreInvoke(context.Background(), &framework.ToolPreInvokePayload{Name: "send", Args: []byte(args)}, framework.NewContextTable(framework.GlobalContext{RequestID: "r1"}))
	v := verdict{blocked: out.Blocked(), modified: out.Modified, payload: string(out.Payload.Args)}
	if out.Violation != nil {
		v.code = out.Violation.Code
	}
	return v
}

func post(m *framework.Manager, result string) verdict {
	out := m.ToolPostInvoke(context.Background(), &framework.ToolPostInvokePayload{Name: "lookup", Result: []byte(result)}, framework.NewContextTable(framework.GlobalContext{RequestID: "r2"}))
	v := verdict{blocked: out.Blocked(), modified: out.Modified, payload: string(out.Payload.Result)}
	if out.Violation != nil {
		v.code = out.Violation.Code
	}
	return v
}

// The same plugins give the same verdicts in process and behind
// `plugin-server` over STDIO and Streamable HTTP.
func TestVerdictsMatchInProcess(t *testing.T) {
	inproc := manager(t, `
plugins:
  - name: deny
    kind: deny_list
    config: {words: [forbidden, classified]}
  - name: pii
    kind: pii_filter
    config: {mask_strategy: partial}
`)
	transports := map[string]string{"stdio": stdioMCP(t), "http": httpMCP(startHTTPServer(t))}
	preCases := []string{`{"text":"hello"}`, `{"text":"this is classified"}`, `{"nested":{"list":["ok","FORBIDDEN stuff"]}}`}
	postCases := []string{
		`{"content":[{"type":"text","text":"nothing here"}]}`,
		`{"content":[{"type":"text","text":"mail jane.doe@example.com, card 4111 1111 1111 1111"}],"structuredContent":{"ssn":"123-45-6789"}}`,
	}
	for name, mcp := range transports {
		t.Run(name, func(t *testing.T) {
			ext := manager(t, externalPolicy(mcp, "deny", "pii"))
			if got := strings.Join(ext.PluginsFor(framework.ToolPostInvoke), ","); got != "pii" {
				t.Fatalf("hooks from the server's config: tool_post_invoke runs %q, want pii", got)
			}
			for _, c := range preCases {
				if a, b := pre(inproc, c), pre(ext, c); a != b {
					t.Errorf("pre %s: in-process %+v, external %+v", c, a, b)
				}
			}
			for _, c := range postCases {
				a, b := post(inproc, c), post(ext, c)
				if a != b {
					t.Errorf("post %s: in-process %+v, external %+v", c, a, b)
				}
			}
			if v := pre(ext, `{"text":"classified"}`); !v.blocked || v.code != "DENY_LIST_MATCH" {
				t.Errorf("external deny_list did not block: %+v", v)
			}
		})
	}
}

// The plugin context goes to the server and comes back: state a plugin sets
// is there in the next call of the same exchange; global state too.
func TestContextRoundTrip(t *testing.T) {
	m := manager(t, externalPolicy(httpMCP(startHTTPServer(t)), "keyword"))
	tbl := framework.NewContextTable(framework.GlobalContext{RequestID: "r", User: "ann"})
	for i := 1; i <= 2; i++ {
		m.ToolPreInvoke(context.Background(), &framework.ToolPreInvokePayload{Name: "t", Args: []byte(`{}`)}, tbl)
		if got := tbl.Plugin("keyword").State["calls"]; got != float64(i) {
			t.Fatalf("call %d: state calls = %v", i, got)
		}
	}
	if tbl.Global.State["seen_by"] != "keyword" {
		t.Fatalf("global state not copied back: %v", tbl.Global.State)
	}
}

// A server that dies mid-call is reported per mode; the next call gets a
// new server (STDIO restarts the process).
func TestCrashMidCallReconnects(t *testing.T) {
	mcp := stdioMCP(t)
	for _, mode := range []string{"enforce", "permissive"} {
		t.Run(mode, func(t *testing.T) {
			m := manager(t, strings.Replace(externalPolicy(mcp, "keyword"), "    kind: external\n", "    kind: external\n    mode: "+mode+"\n", 1))
			v := pre(m, `{"text":"crash-now"}`)
			if mode == "enforce" && (!v.blocked || v.code != framework.CodePluginError) {
				t.Fatalf("enforce: a crashed server must block with PLUGIN_ERROR: %+v", v)
			}
			if mode == "permissive" && v.blocked {
				t.Fatalf("permissive: a crashed server must not block: %+v", v)
			}
			if v := pre(m, `{"text":"forbidden"}`); mode == "enforce" && (!v.blocked || v.code != "KEYWORD_BLOCKED") {
				t.Fatalf("after the crash the plugin must work again: %+v", v)
			}
			if v := pre(m, `{"text":"mask-me"}`); !v.modified || !strings.Contains(v.payload, "[masked]") {
				t.Fatalf("modification after reconnect: %+v", v)
			}
		})
	}
}

// A server that hangs is cut off at the plugin's timeout.
func TestHungServerTimesOut(t *testing.T) {
	m := manager(t, strings.Replace(externalPolicy(httpMCP(startHTTPServer(t)), "keyword"), "timeout: 10s", "timeout: 300ms", 1))
	start := time.Now()
	v := pre(m, `{"text":"hang-now"}`)
	if !v.blocked || v.code != framework.CodePluginTimeout {
		t.Fatalf("%+v", v)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("timeout took %v", d)
	}
	if v := pre(m, `{"text":"forbidden"}`); v.code != "KEYWORD_BLOCKED" {
		t.Fatalf("the session must still serve other calls: %+v", v)
	}
}

// A config naming an unreachable server fails start-up or, with
// fail_on_plugin_error false, starts with the plugin unavailable: its hooks
// fail closed.
func TestUnreachableServer(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	for _, fail := range []bool{true, false} {
		policy := fmt.Sprintf("plugin_settings: {fail_on_plugin_error: %v}\n", fail) +
			strings.Replace(externalPolicy(httpMCP("http://"+addr+"/mcp"), "gone"), "timeout: 10s", "timeout: 300ms", 1)
		cfg, _, err := framework.Parse([]byte(policy), "client.yaml", framework.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		m, err := framework.NewManager(context.Background(), cfg)
		if fail {
			if err == nil || !strings.Contains(err.Error(), `"gone": initialize`) {
				t.Fatalf("fail_on_plugin_error: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if u := m.Unavailable(); len(u) != 1 || u[0].Plugin != "gone" {
			t.Fatalf("Unavailable() = %+v", u)
		}
		if v := pre(m, `{"text":"hello"}`); !v.blocked || v.code != framework.CodePluginUnavailable {
			t.Fatalf("an unreachable enforce plugin must fail closed: %+v", v)
		}
		_ = m.Shutdown(context.Background())
	}
}

// The server's own failures come back as errors, handled by the caller's
// on_error.
func TestServerSideErrorUsesCallersOnError(t *testing.T) {
	url := startHTTPServer(t)
	for _, onError := range []string{"fail", "ignore"} {
		m := manager(t, strings.Replace(externalPolicy(httpMCP(url), "keyword"), "    kind: external\n", "    kind: external\n    on_error: "+onError+"\n", 1))
		v := pre(m, `{"text":"fail-now"}`)
		if (onError == "fail") != v.blocked || (v.blocked && v.code != framework.CodePluginError) {
			t.Fatalf("on_error %s: %+v", onError, v)
		}
	}
}
