package regexfilter_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/extproc/extproctest"
)

func TestThroughServer(t *testing.T) {
	srv := extproctest.New(t, `plugins:
  - name: ReplaceBadWordsPlugin
    kind: plugins.regex_filter.search_replace.SearchReplacePlugin
    config:
      words:
        - search: crap
          replace: crud
        - search: '\b(\d{3})-\d{2}-(\d{4})\b'
          replace: '$1-**-$2'
`)
	req := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"note","arguments":{"text":"crap 123-45-6789","n":7}}}`
	wantUp := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"note","arguments":{"text":"crud 123-**-6789","n":7}}}`
	res := `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"saved crap for 987-65-4321"}],"structuredContent":{"msg":"crap"}}}`
	wantRes := `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"saved crud for 987-**-4321"}],"structuredContent":{"msg":"crud"}}}`
	for name, resp := range map[string]extproctest.Response{"json": extproctest.JSON(res), "sse": extproctest.SSE(res)} {
		t.Run("tool/"+name, func(t *testing.T) {
			out := srv.Call(t, req, resp)
			if out.Blocked || out.Upstream != wantUp {
				t.Fatalf("upstream = %s", out.Upstream)
			}
			if name == "json" && out.Client != wantRes {
				t.Fatalf("client = %s", out.Client)
			}
			if name == "sse" && (!strings.Contains(out.Client, "data: "+wantRes+"\n\n") || !strings.HasPrefix(out.Client, "id: prime\n")) {
				t.Fatalf("client = %q", out.Client)
			}
		})
	}
	preq := `{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"greet","arguments":{"who":"crap"}}}`
	pres := `{"jsonrpc":"2.0","id":1,"result":{"messages":[{"role":"user","content":{"type":"text","text":"hello crap"}}]}}`
	out := srv.Call(t, preq, extproctest.SSE(pres))
	if !strings.Contains(out.Upstream, `"who":"crud"`) || !strings.Contains(out.Client, `"text":"hello crud"`) || !json.Valid([]byte(out.Upstream)) {
		t.Fatalf("prompt: %+v", out)
	}
	// Untouched exchanges keep their bytes.
	clean := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"note","arguments":{"text":"fine"}}}`
	cleanRes := `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"ok"}]}}`
	if out := srv.Call(t, clean, extproctest.JSON(cleanRes)); out.Upstream != clean || out.Client != cleanRes {
		t.Fatalf("clean exchange changed: %+v", out)
	}
}
