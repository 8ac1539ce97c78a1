package extproc

import (
	"context"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

type rateLimited struct{}

func (rateLimited) ToolPreInvoke(context.Context, *framework.ToolPreInvokePayload, *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	return framework.Result[framework.ToolPreInvokePayload]{Violation: &framework.Violation{
		Reason: "Rate limit exceeded", Code: "RATE_LIMIT", HTTPStatusCode: 429,
		HTTPHeaders: map[string]string{"Retry-After": "59", "X-RateLimit-Remaining": "0",
			"Content-Type": "text/html", "X-Split": "a\r\nSet-Cookie: x=1", "Bad Name": "v"},
	}}, nil
}

// A violation's http_headers (cpex's Retry-After from a rate limiter) reach
// the client on the blocking answer; headers that frame the body or are not
// valid HTTP are dropped.
func TestViolationHeadersOnBlockingAnswer(t *testing.T) {
	reg := testRegistry()
	reg.Register(framework.Kind{Name: "test_rate", Hooks: []framework.HookType{framework.ToolPreInvoke},
		New: func(*framework.PluginConfig) (framework.Plugin, error) { return rateLimited{}, nil }})
	h := newHarness(t, "plugins:\n  - name: limiter\n    kind: test_rate\n", reg)
	ir := immediateOf(t, postRequest(t, h.open(buffered, buffered), toolCallBody("1", "get_weather", `{}`)))
	if ir.Status.GetCode() != 429 {
		t.Fatalf("status %d", ir.Status.GetCode())
	}
	got := map[string]string{}
	for _, hv := range ir.Headers.GetSetHeaders() {
		got[hv.Header.Key] = string(hv.Header.RawValue)
	}
	want := map[string]string{"content-type": "application/json", "retry-after": "59", "x-ratelimit-remaining": "0"}
	if len(got) != len(want) {
		t.Fatalf("headers %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("headers %v, want %v", got, want)
		}
	}
}
