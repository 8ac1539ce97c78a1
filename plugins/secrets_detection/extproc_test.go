package secretsdetection_test

import (
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/extproc/extproctest"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/secrets_detection"
)

// These tests play whole exchanges through the real server, as Envoy would.

var ghToken = "ghp" + "_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8" // not a real token

func TestExtprocBlocksResultsJSONAndSSE(t *testing.T) {
	srv := extproctest.New(t, `
plugins:
  - name: secrets
    kind: plugins.secrets_detection.secrets_detection.SecretsDetectionPlugin
`)
	req := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"read_env","arguments":{}}}`
	res := `{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"resource","resource":{"uri":"file:///.env","text":"GITHUB_TOKEN=` + ghToken + `"}}]}}`
	for name, resp := range map[string]extproctest.Response{"json": extproctest.JSON(res), "sse": extproctest.SSE(res)} {
		t.Run(name, func(t *testing.T) {
			out := srv.Call(t, req, resp)
			if out.Blocked || !strings.Contains(out.Client, `"id":7,"error"`) || !strings.Contains(out.Client, `"code":"SECRET_DETECTED"`) ||
				!strings.Contains(out.Client, `"fields":["$.content[0].resource.text"]`) || strings.Contains(out.Client, ghToken[4:]) {
				t.Fatalf("%+v", out)
			}
			if name == "sse" && !strings.HasPrefix(out.Client, "id: prime\ndata:\n\n") {
				t.Fatalf("not an event stream: %q", out.Client)
			}
		})
	}
}

func TestExtprocRedacts(t *testing.T) {
	srv := extproctest.New(t, `
plugins:
  - name: secrets
    kind: secrets_detection
    config:
      action: redact
      redaction_text: "<secret>"
`)
	req := `{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"deploy","arguments":{"env":[{"name":"TOKEN","value":"` + ghToken + `"}]}}}`
	res := `{"jsonrpc":"2.0","id":8,"result":{"content":[{"type":"text","text":"used ` + ghToken + `"}],"structuredContent":{"token":"` + ghToken + `"}}}`
	for name, resp := range map[string]extproctest.Response{"json": extproctest.JSON(res), "sse": extproctest.SSE(res)} {
		t.Run(name, func(t *testing.T) {
			out := srv.Call(t, req, resp)
			if out.Blocked || !strings.Contains(out.Upstream, `"value":"<secret>"`) || strings.Contains(out.Upstream, ghToken) {
				t.Fatalf("upstream: %s", out.Upstream)
			}
			if !strings.Contains(out.Client, `"text":"used <secret>"`) || !strings.Contains(out.Client, `"token":"<secret>"`) || strings.Contains(out.Client, ghToken) {
				t.Fatalf("client: %s", out.Client)
			}
		})
	}
	// A resources/read whose URI carries a token.
	read := `{"jsonrpc":"2.0","id":9,"method":"resources/read","params":{"uri":"https://api.example.com/repos?access_token=` + ghToken + `"}}`
	out := srv.Call(t, read, extproctest.JSON(`{"jsonrpc":"2.0","id":9,"result":{"contents":[]}}`))
	if out.Blocked || !strings.Contains(out.Upstream, `"uri":"https://api.example.com/repos?access_token=<secret>"`) {
		t.Fatalf("%+v", out)
	}
}
