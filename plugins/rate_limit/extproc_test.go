package ratelimit_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/extproc/extproctest"
)

// The README's example through the server: per user and tool, with the
// forwarded API key as a second key; an exceeded limit answers 429 with
// Retry-After and the design's JSON-RPC error.
const memoryPolicy = `mcp:
  identity:
    user_header: x-user-id
  forward_headers: [x-api-key]
plugins:
  - name: limits
    kind: rate_limit
    config:
      limits:
        - {by: [user, tool], rate: "60/m", burst: 2}
        - {by: ["header:x-api-key"], rate: "100/h", burst: 3}
`

func TestThroughServer(t *testing.T) {
	srv := extproctest.New(t, memoryPolicy)
	callAs := func(user, key string) extproctest.Outcome {
		return srv.Call(t, toolCall, extproctest.JSON(toolResult), "x-user-id", user, "x-api-key", key)
	}
	for i := range 2 {
		if out := callAs("ann", "k1"); out.Blocked || out.Client != toolResult {
			t.Fatalf("call %d: %+v", i, out)
		}
	}
	out := callAs("ann", "k1")
	if !out.Blocked || out.Status != 429 || out.Headers["retry-after"] != "1" || out.Headers["content-type"] != "application/json" {
		t.Fatalf("third call: %+v", out)
	}
	var body struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Data    struct {
				Code, Description, Plugin string
				Details                   map[string]any
			} `json:"data"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(out.Client), &body); err != nil {
		t.Fatal(err)
	}
	if body.JSONRPC != "2.0" || string(body.ID) != "7" || body.Error.Code != -32000 || body.Error.Message != "Rate limit exceeded: "+body.Error.Data.Description ||
		body.Error.Data.Code != "RATE_LIMITED" || body.Error.Data.Plugin != "limits" || !strings.Contains(body.Error.Data.Description, "60/m") {
		t.Fatalf("body = %s", out.Client)
	}
	// bob has his own user bucket but shares ann's API key: one call left on it.
	if out := callAs("bob", "k1"); out.Blocked {
		t.Fatalf("bob: %+v", out)
	}
	if out := callAs("bob", "k1"); !out.Blocked || !strings.Contains(out.Client, "100/h") {
		t.Fatalf("the API key's limit did not hold: %+v", out)
	}
	// Other methods are not limited.
	list := `{"jsonrpc":"2.0","id":8,"method":"tools/list"}`
	if out := srv.Call(t, list, extproctest.JSON(`{"jsonrpc":"2.0","id":8,"result":{"tools":[]}}`), "x-user-id", "ann", "x-api-key", "k1"); out.Blocked {
		t.Fatalf("tools/list limited: %+v", out)
	}
}
