package extproc

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework/external"
)

// An enforce external plugin whose command does not exist must not open the
// gate (issue 10 item 6): on today's main it was left out, /readyz said
// "ready" and the call passed unfiltered. Now the call is blocked with
// PLUGIN_UNAVAILABLE, /readyz is degraded naming the plugin, and the
// plugin_unavailable gauge is 1 for it. A plugin with on_error: ignore is
// skipped.
func TestUnavailableExternalPluginFailsClosed(t *testing.T) {
	policy := `
plugin_settings:
  plugin_timeout: 1s
plugins:
  - name: guard
    kind: external
    hooks: [tool_pre_invoke]
    mcp:
      proto: STDIO
      cmd: [/nonexistent/cpex-plugin-server]
  - name: optional
    kind: external
    on_error: ignore
    hooks: [prompt_pre_fetch]
    mcp:
      proto: STDIO
      cmd: [/nonexistent/other-server]
`
	// kind external is an ordinary kind: a registry of one's own has it
	// when it is registered there.
	reg := testRegistry()
	reg.Register(external.Kind())
	h := newHarness(t, policy, reg)
	ir := immediateOf(t, postRequest(t, h.open(buffered, buffered), toolCallBody("1", "get_weather", `{}`)))
	body := string(ir.Body)
	if !strings.Contains(body, `"code":"PLUGIN_UNAVAILABLE"`) || !strings.Contains(body, `"plugin":"guard"`) {
		t.Fatalf("blocking answer: %s", body)
	}
	prompt := `{"jsonrpc":"2.0","id":2,"method":"prompts/get","params":{"name":"p","arguments":{}}}`
	if r := postRequest(t, h.open(buffered, buffered), prompt); r.GetImmediateResponse() != nil {
		t.Fatalf("on_error: ignore must skip the unavailable plugin: %s", r.GetImmediateResponse().Body)
	}

	srv := httptest.NewServer(h.srv.OpsHandler(h.reg))
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, ready := get("/readyz")
	if code != http.StatusOK || !strings.HasPrefix(ready, "degraded\n") || !strings.Contains(ready, `plugin "guard" unavailable`) || !strings.Contains(ready, `plugin "optional" unavailable`) {
		t.Fatalf("/readyz %d: %q", code, ready)
	}
	_, metrics := get("/metrics")
	for _, want := range []string{`mcp_extproc_plugin_unavailable{plugin="guard"} 1`, `mcp_extproc_plugin_unavailable{plugin="optional"} 1`,
		`mcp_extproc_plugin_errors_total{kind="unavailable",plugin="guard"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
