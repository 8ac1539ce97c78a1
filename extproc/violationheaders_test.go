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

// allowingLimiter lets calls pass with cpex-rate-limiter's headers; its post
// hook asks for a retry of a failed result, as cpex-retry-with-backoff does.
type allowingLimiter struct{}

func (allowingLimiter) ToolPreInvoke(context.Context, *framework.ToolPreInvokePayload, *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	return framework.Result[framework.ToolPreInvokePayload]{HTTPHeaders: map[string]string{"X-RateLimit-Remaining": "2", "Content-Length": "1"}}, nil
}

func (allowingLimiter) ToolPostInvoke(context.Context, *framework.ToolPostInvokePayload, *framework.PluginContext) (framework.Result[framework.ToolPostInvokePayload], error) {
	return framework.Result[framework.ToolPostInvokePayload]{RetryDelayMS: 1200, HTTPHeaders: map[string]string{"X-Retry-Attempt": "1"}}, nil
}

// The headers of an allowed result reach the client: the pre hook's on the
// response headers, the post hook's on the buffered response body's answer,
// and retry_delay_ms as Retry-After in whole seconds.
func TestAllowedResultHeaders(t *testing.T) {
	reg := testRegistry()
	reg.Register(framework.Kind{Name: "test_allowing", Hooks: []framework.HookType{framework.ToolPreInvoke, framework.ToolPostInvoke},
		New: func(*framework.PluginConfig) (framework.Plugin, error) { return allowingLimiter{}, nil }})
	h := newHarness(t, "plugins:\n  - name: limiter\n    kind: test_allowing\n", reg)
	st := h.open(buffered, buffered)
	if r := postRequest(t, st, toolCallBody("1", "get_weather", `{}`)); r.GetRequestBody() == nil {
		t.Fatalf("request answered with %T", r.Response)
	}
	hr := commonOf(t, st.roundTrip(respHeaders("content-type", "application/json")))
	if v, ok := headerSet(hr, "x-ratelimit-remaining"); !ok || v != "2" {
		t.Fatalf("response headers: x-ratelimit-remaining %q %v", v, ok)
	}
	if _, ok := headerSet(hr, "content-length"); ok {
		t.Fatal("a plugin must not set a framing header")
	}
	br := commonOf(t, st.roundTrip(respBody(`{"jsonrpc":"2.0","id":"1","result":{"content":[{"type":"text","text":"boom"}],"isError":true}}`, true)))
	if v, ok := headerSet(br, "retry-after"); !ok || v != "2" {
		t.Fatalf("body answer: retry-after %q %v", v, ok)
	}
	if v, ok := headerSet(br, "x-retry-attempt"); !ok || v != "1" {
		t.Fatalf("body answer: x-retry-attempt %q %v", v, ok)
	}
	if _, ok := headerSet(br, "x-ratelimit-remaining"); ok {
		t.Fatal("the pre hook's headers were set twice")
	}
}
