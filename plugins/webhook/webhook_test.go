package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/webhook"
	"github.com/mcp-extproc/mcp-extproc/plugins/webhook/webhooktest"
)

const apiKey = "team-policy-key-1f2e3d4c"

func service(t testing.TB, decide func(webhooktest.Call) (int, any)) *webhooktest.Server {
	t.Helper()
	s, err := webhooktest.New(decide)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func load(t *testing.T, url, config string) framework.Plugin {
	t.Helper()
	t.Setenv("WEBHOOK_TEST_KEY", apiKey)
	if !strings.Contains(config, "http:") {
		config += "\nhttp: {timeout: 1s, retries: {attempts: 1, backoff: 1ms, max_backoff: 2ms}, circuit_breaker: {failures: 0}}"
	}
	pl := plugintest.Load(t, plugintest.BlockPolicy("team-policy", "webhook",
		"url: "+url+"\nauth: {type: api_key, header: X-Policy-Key, token_env: WEBHOOK_TEST_KEY}\n"+config))
	if err := pl.(framework.Initializer).Initialize(context.Background()); err != nil {
		t.Fatal(err)
	}
	return pl
}

func pc() *framework.PluginContext {
	return &framework.PluginContext{Global: &framework.GlobalContext{RequestID: "req-7", User: "alice", TenantID: "acme", ServerID: "crm"},
		State: map[string]any{"seen": true}}
}

func toolCall(t *testing.T, pl framework.Plugin, args string, c *framework.PluginContext) framework.Result[framework.ToolPreInvokePayload] {
	t.Helper()
	res, err := pl.(framework.ToolPreInvoker).ToolPreInvoke(context.Background(),
		&framework.ToolPreInvokePayload{Name: "transfer", Args: json.RawMessage(args), Headers: map[string]string{"x-team": "blue"}}, c)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestRequestCarriesHookPayloadAndContext(t *testing.T) {
	srv := service(t, nil)
	pl := load(t, srv.URL, "")
	if res := toolCall(t, pl, `{"amount":100}`, pc()); res.Violation != nil || res.ModifiedPayload != nil {
		t.Fatalf("continue: %+v", res)
	}
	c := srv.Calls()[0]
	if c.HookType != "tool_pre_invoke" || c.PluginName != "team-policy" || c.Header.Get("X-Policy-Key") != apiKey {
		t.Fatalf("call = %+v", c)
	}
	var payload map[string]any
	_ = json.Unmarshal(c.Payload, &payload)
	if payload["name"] != "transfer" || fmt.Sprint(payload["args"]) != "map[amount:100]" || fmt.Sprint(payload["headers"]) != "map[x-team:blue]" {
		t.Fatalf("payload = %s", c.Payload)
	}
	g := c.Global()
	if g["request_id"] != "req-7" || g["user"] != "alice" || g["tenant_id"] != "acme" || g["server_id"] != "crm" {
		t.Fatalf("global context = %v", g)
	}
	if !strings.Contains(string(c.Context), `"state":{"seen":true}`) {
		t.Fatalf("plugin state not sent: %s", c.Context)
	}
}

func TestAnswersAreApplied(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   any
		check  func(t *testing.T, res framework.Result[framework.ToolPreInvokePayload])
	}{
		{"violation blocks", 200, map[string]any{"continue_processing": false, "violation": map[string]any{
			"reason": "Transfer limit", "description": "alice may move 50 at most", "code": "LIMIT_EXCEEDED",
			"details": map[string]any{"limit": 50}, "mcp_error_code": -32001, "http_status_code": 403}},
			func(t *testing.T, res framework.Result[framework.ToolPreInvokePayload]) {
				v := res.Violation
				if v == nil || v.Code != "LIMIT_EXCEEDED" || v.Reason != "Transfer limit" || v.MCPErrorCode != -32001 || v.HTTPStatusCode != 403 || fmt.Sprint(v.Details["limit"]) != "50" {
					t.Fatalf("violation = %+v", v)
				}
			}},
		{"halt without a violation", 200, map[string]any{"continue_processing": false},
			func(t *testing.T, res framework.Result[framework.ToolPreInvokePayload]) {
				if res.Violation == nil || res.Violation.Code != "PLUGIN_HALTED" {
					t.Fatalf("violation = %+v", res.Violation)
				}
			}},
		{"informational violation", 200, map[string]any{"continue_processing": true, "violation": map[string]any{"reason": "noted", "code": "NOTE"}},
			func(t *testing.T, res framework.Result[framework.ToolPreInvokePayload]) {
				if res.Violation != nil || res.Metadata["informational_violation"] == nil {
					t.Fatalf("result = %+v", res)
				}
			}},
		{"violation without a code", 200, map[string]any{"continue_processing": false, "violation": map[string]any{"reason": "no"}},
			func(t *testing.T, res framework.Result[framework.ToolPreInvokePayload]) {
				if res.Violation == nil || res.Violation.Code != "PLUGIN_HALTED" {
					t.Fatalf("violation = %+v", res.Violation)
				}
			}},
		{"an odd http_status_code is dropped", 200, map[string]any{"continue_processing": false, "violation": map[string]any{"reason": "no", "code": "X", "http_status_code": 302}},
			func(t *testing.T, res framework.Result[framework.ToolPreInvokePayload]) {
				if res.Violation == nil || res.Violation.HTTPStatusCode != 0 {
					t.Fatalf("violation = %+v", res.Violation)
				}
			}},
		{"modified arguments", 200, map[string]any{"continue_processing": true, "modified_payload": map[string]any{"name": "transfer", "args": map[string]any{"amount": 50}}, "metadata": map[string]any{"capped": true}},
			func(t *testing.T, res framework.Result[framework.ToolPreInvokePayload]) {
				m := res.ModifiedPayload
				if m == nil || string(m.Args) != `{"amount":50}` || m.Name != "transfer" || m.Headers["x-team"] != "blue" || res.Metadata["capped"] != true {
					t.Fatalf("result = %+v", res)
				}
			}},
		{"204 continues", 204, nil,
			func(t *testing.T, res framework.Result[framework.ToolPreInvokePayload]) {
				if res.Violation != nil || res.ModifiedPayload != nil {
					t.Fatalf("result = %+v", res)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := service(t, func(webhooktest.Call) (int, any) { return tc.status, tc.body })
			tc.check(t, toolCall(t, load(t, srv.URL, ""), `{"amount":100}`, pc()))
		})
	}
}

func TestBadAnswersAndFailingServices(t *testing.T) {
	srv := service(t, nil)
	dead := service(t, nil)
	deadURL := dead.URL
	dead.Close()
	for _, tc := range []struct {
		name  string
		fault webhooktest.Fault
		url   string
		kind  string
	}{
		{"slow", webhooktest.Fault{Delay: 5 * time.Second}, "", "timeout"},
		{"500", webhooktest.Fault{Status: 500, Body: "oops"}, "", "status"},
		{"403", webhooktest.Fault{Status: 403, Body: `{"continue_processing":true}`}, "", "status"},
		{"connection refused", webhooktest.Fault{}, deadURL, "connection"},
		{"not JSON", webhooktest.Fault{Body: "<html>"}, "", "malformed"},
		{"null", webhooktest.Fault{Body: "null"}, "", "malformed"},
		{"array", webhooktest.Fault{Body: "[]"}, "", "malformed"},
		{"wrong types", webhooktest.Fault{Body: `{"continue_processing":"no"}`}, "", "malformed"},
		{"renamed tool", webhooktest.Fault{Body: `{"modified_payload":{"name":"delete_all","args":{}}}`}, "", "malformed"},
		{"arguments not an object", webhooktest.Fault{Body: `{"modified_payload":{"name":"transfer","args":[1]}}`}, "", "malformed"},
	} {
		for _, policy := range []string{"block", "allow"} {
			t.Run(tc.name+"/"+policy, func(t *testing.T) {
				srv.SetFault(tc.fault)
				defer srv.SetFault(webhooktest.Fault{})
				url := srv.URL
				if tc.url != "" {
					url = tc.url
				}
				res := toolCall(t, load(t, url, "on_service_error: "+policy), `{"amount":1}`, pc())
				if res.ModifiedPayload != nil {
					t.Fatalf("a bad answer modified the payload: %+v", res.ModifiedPayload)
				}
				if policy == "allow" {
					if res.Violation != nil || res.Metadata["service_error"] != tc.kind {
						t.Fatalf("allow: %+v", res)
					}
					return
				}
				v := res.Violation
				if v == nil || v.Code != "WEBHOOK_ERROR" || v.Details["service_error"] != tc.kind {
					t.Fatalf("block: %+v", v)
				}
				if strings.Contains(fmt.Sprint(v), apiKey) || strings.Contains(fmt.Sprint(v), "127.0.0.1") {
					t.Fatalf("the violation shows the key or the address: %+v", v)
				}
			})
		}
	}
}

func TestRetriesOnlyWhenIdempotent(t *testing.T) {
	var n atomic.Int32
	srv := service(t, func(webhooktest.Call) (int, any) {
		if n.Add(1)%2 == 1 {
			return http.StatusServiceUnavailable, "busy"
		}
		return http.StatusOK, map[string]any{"continue_processing": true}
	})
	if res := toolCall(t, load(t, srv.URL, ""), `{}`, pc()); res.Violation == nil || len(srv.Calls()) != 1 {
		t.Fatalf("not idempotent: %+v after %d calls", res.Violation, len(srv.Calls()))
	}
	n.Store(0)
	if res := toolCall(t, load(t, srv.URL, "idempotent: true"), `{}`, pc()); res.Violation != nil || len(srv.Calls()) != 3 {
		t.Fatalf("idempotent: %+v after %d calls", res.Violation, len(srv.Calls()))
	}
}

func TestCacheIsOptInAndIgnoresTheRequestID(t *testing.T) {
	srv := service(t, nil)
	pl := load(t, srv.URL, "")
	toolCall(t, pl, `{"a":1}`, pc())
	toolCall(t, pl, `{"a":1}`, pc())
	if len(srv.Calls()) != 2 {
		t.Fatal("cached by default")
	}
	cached := load(t, srv.URL, "http: {cache: {size: 100, ttl: 1m}}")
	other := pc()
	other.Global.RequestID = "req-8"
	toolCall(t, cached, `{"a":1}`, pc())
	toolCall(t, cached, `{"a":1}`, other)
	if len(srv.Calls()) != 3 {
		t.Fatalf("%d calls: the same payload for the same user must be answered from the cache", len(srv.Calls()))
	}
	bob := pc()
	bob.Global.User = "bob"
	toolCall(t, cached, `{"a":1}`, bob)
	if len(srv.Calls()) != 4 {
		t.Fatal("another user's answer was reused")
	}
}

func TestOtherHooks(t *testing.T) {
	srv := service(t, func(c webhooktest.Call) (int, any) {
		switch c.HookType {
		case "resource_pre_fetch":
			return 200, map[string]any{"modified_payload": map[string]any{"uri": "file:///etc/shadow"}}
		case "tool_post_invoke":
			return 200, map[string]any{"modified_payload": map[string]any{"name": "transfer", "result": map[string]any{"content": []any{map[string]any{"type": "text", "text": "[redacted]"}}}}}
		}
		return 200, map[string]any{"continue_processing": false, "violation": map[string]any{"reason": "no", "code": "NO_" + strings.ToUpper(c.HookType)}}
	})
	pl := load(t, srv.URL, "")
	ctx := context.Background()
	rpre, _ := pl.(framework.ResourcePreFetcher).ResourcePreFetch(ctx, &framework.ResourcePreFetchPayload{URI: "docs://a"}, pc())
	if rpre.ModifiedPayload != nil || rpre.Violation == nil || rpre.Violation.Code != "WEBHOOK_ERROR" {
		t.Fatalf("a resources/read URI must not be rewritten: %+v", rpre)
	}
	tpost, _ := pl.(framework.ToolPostInvoker).ToolPostInvoke(ctx, &framework.ToolPostInvokePayload{Name: "transfer", Result: json.RawMessage(`{"content":[]}`)}, pc())
	if tpost.ModifiedPayload == nil || !strings.Contains(string(tpost.ModifiedPayload.Result), "[redacted]") {
		t.Fatalf("tool result: %+v", tpost)
	}
	ppre, _ := pl.(framework.PromptPreFetcher).PromptPreFetch(ctx, &framework.PromptPreFetchPayload{PromptID: "p", Args: json.RawMessage(`{}`)}, pc())
	ppost, _ := pl.(framework.PromptPostFetcher).PromptPostFetch(ctx, &framework.PromptPostFetchPayload{PromptID: "p", Result: json.RawMessage(`{}`)}, pc())
	rpost, _ := pl.(framework.ResourcePostFetcher).ResourcePostFetch(ctx, &framework.ResourcePostFetchPayload{URI: "docs://a", Content: json.RawMessage(`{}`)}, pc())
	for code, v := range map[string]*framework.Violation{"NO_PROMPT_PRE_FETCH": ppre.Violation, "NO_PROMPT_POST_FETCH": ppost.Violation, "NO_RESOURCE_POST_FETCH": rpost.Violation} {
		if v == nil || v.Code != code {
			t.Errorf("%s: %+v", code, v)
		}
	}
	// Without a context (a call outside an exchange) the request still
	// carries an empty one.
	if _, err := pl.(framework.ToolPreInvoker).ToolPreInvoke(ctx, &framework.ToolPreInvokePayload{Name: "t", Args: json.RawMessage(`{}`)}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ config, want string }{
		{"{}", "config.url: required"},
		{"url: localhost:9000", "config.url"},
		{"url: http://h/x\non_service_error: maybe", "config.on_service_error"},
		{"url: http://h/x\nauth: {type: basic, username: u}", "config.auth: type basic needs exactly one of password_env, password_file"},
		{"url: http://h/x\nevents: [violation]", `unknown key "events"`},
	} {
		if _, err := plugintest.Instantiate(plugintest.BlockPolicy("w", "webhook", tc.config)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.config, err, tc.want)
		}
	}
	// ContextForge's WebhookNotificationPlugin only notifies: it is not an
	// alias of this kind.
	if _, ok := framework.DefaultRegistry().Resolve("plugins.webhook_notification.webhook_notification.WebhookNotificationPlugin"); ok {
		t.Fatal("the notification plugin must not resolve to webhook")
	}
}
