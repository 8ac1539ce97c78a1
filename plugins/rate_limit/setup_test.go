package ratelimit_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
)

func TestConfigErrors(t *testing.T) {
	policy := func(config string) string { return plugintest.BlockPolicy("rl", "rate_limit", config) }
	for _, tc := range []struct{ config, want string }{
		{"", "config.limits: set at least one limit"},
		{"limits: [{rate: 60}]", `config.limits[0]: rate: "60" is not <count>/<unit>`},
		{"limits: [{rate: 60/w}]", "config.limits[0]: rate: \"60/w\": the unit must be one of s, m, h, d"},
		{"limits: [{rate: 0/m}]", "config.limits[0]: rate: \"0/m\": the count must be a whole number"},
		{"limits: [{rate: 2000000/s}]", "faster than one request a microsecond"},
		{"limits: [{rate: 60/m, burst: -1}]", "config.limits[0]: burst: must be from 1 to 1000000"},
		{"limits: [{rate: 60/m, by: [ip]}]", `config.limits[0]: by[0]: "ip" is not one of user, tenant, server, tool, header:<name>`},
		{"limits: [{rate: 60/m, by: [\"header:\"]}]", `by[0]: "header:" is not one of`},
		{"limits: [{rate: 60/m, by: [user, User]}]", `by[1]: "User" is listed twice`},
		{"limits: [{rate: 60/m, tools: [\"\"]}]", "config.limits[0]: tools[0]: must not be empty"},
		{"by_user: lots", `config.by_user: rate: "lots" is not <count>/<unit>`},
		{"by_tool: {search: 1/fortnight}", "config.by_tool.search: rate:"},
		{"by_user: 1/m\nalgorithm: leaky", `config.algorithm: "leaky" is not one of fixed_window, sliding_window, token_bucket`},
		{"by_user: 1/m\nbackend: etcd", `config.backend: "etcd" is not one of memory, redis`},
		{"by_user: 1/m\nbackend: redis", "config.redis.url: the redis backend needs a URL"},
		{"by_user: 1/m\nbackend: redis\nredis: {url: \"http://x\"}", "config.redis.url:"},
		{"by_user: 1/m\nbackend: redis\nredis: {url: \"redis://a:1\"}\nredis_url: \"redis://b:1\"", "set redis.url or redis_url, not both"},
		{"by_user: 1/m\nbackend: redis\nredis: {url: \"redis://a:1\", timeout: 0s}", "config.redis.timeout: must be positive"},
		{"by_user: 1/m\nmemory: {max_keys: 0}", "config.memory.max_keys: must be positive"},
		{"by_user: 1/m\non_backend_error: retry", `config.on_backend_error: "retry" is not one of allow, block`},
		{"limits: [{rate: 1/m, per: user}]", `unknown key "per"`},
	} {
		t.Run(tc.config, func(t *testing.T) {
			_, err := plugintest.Instantiate(policy(tc.config))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// The password of a Redis URL never appears in an error.
func TestRedisURLErrorHidesPassword(t *testing.T) {
	_, err := plugintest.Instantiate(plugintest.BlockPolicy("rl", "rate_limit", "by_user: 1/m\nbackend: redis\nredis: {url: \"redis://u:hunter2@host:notaport/0\"}"))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error = %v", err)
	}
}

// ContextForge's RateLimiterPlugin blocks, as its configs write them, load
// under its class path and are enforced: by_user, by_tenant, by_tool.
func TestContextForgeConfig(t *testing.T) {
	for _, kind := range []string{"cpex_rate_limiter.RateLimiterPlugin", "plugins.rate_limiter.rate_limiter.RateLimiterPlugin", "RateLimiterPlugin"} {
		plugintest.Load(t, `plugins:
  - name: RateLimiterPlugin
    kind: "`+kind+`"
    hooks: ["prompt_pre_fetch", "tool_pre_invoke"]
    config:
      backend: "redis"
      redis_url: 'redis://127.0.0.1:1/0'
      redis_key_prefix: "rl"
      algorithm: "fixed_window"
      by_user: "30/m"
      by_tenant: "3000/m"
      by_tool: {}
`)
	}
	pl := plugintest.Load(t, `plugins:
  - name: RateLimiterPlugin
    kind: cpex_rate_limiter.RateLimiterPlugin
    config:
      by_user: 3/m
      by_tenant: 5/m
      by_tool:
        search: 2/m
      algorithm: token_bucket
`).(framework.ToolPreInvoker)
	call := func(tool, user, tenant string) *framework.Violation {
		res, err := pl.ToolPreInvoke(context.Background(), &framework.ToolPreInvokePayload{Name: tool},
			&framework.PluginContext{Global: &framework.GlobalContext{User: user, TenantID: tenant}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Violation
	}
	// search: 2 a minute for everyone together.
	if call("search", "ann", "acme") != nil || call("search", "bob", "acme") != nil {
		t.Fatal("search refused early")
	}
	if v := call("search", "cat", "acme"); v == nil || !strings.Contains(v.Description, "2/m") {
		t.Fatalf("third search: %+v", v)
	}
	// by_user: ann has used 1 of 3.
	for range 2 {
		if call("read", "ann", "acme") != nil {
			t.Fatal("ann refused early")
		}
	}
	if v := call("read", "ann", "acme"); v == nil || !strings.Contains(v.Description, "3/m") {
		t.Fatalf("ann's fourth call: %+v", v)
	}
	// by_tenant: acme has used ann 3 + bob 1 = 4 of 5 (refused calls do not count).
	if call("read", "dan", "acme") != nil {
		t.Fatal("acme refused early")
	}
	if v := call("read", "eve", "acme"); v == nil || !strings.Contains(v.Description, "5/m") {
		t.Fatalf("acme's sixth call: %+v", v)
	}
	if call("read", "eve", "globex") != nil {
		t.Fatal("another tenant refused")
	}
}

func TestKindDefaults(t *testing.T) {
	k, ok := framework.DefaultRegistry().Resolve("rate_limit")
	if !ok {
		t.Fatal("not registered")
	}
	got := map[string]string{}
	for _, c := range k.ConfigKeys() {
		got[c.Name] = c.Default
	}
	if got["backend"] != "memory" || got["on_backend_error"] != "allow" {
		t.Fatalf("defaults = %v", got)
	}
	if h := k.Hooks; len(h) != 2 || h[0] != framework.ToolPreInvoke || h[1] != framework.PromptPreFetch {
		t.Fatalf("hooks = %v", h)
	}
}
