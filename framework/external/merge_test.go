package external

import (
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// What a cpex server's get_plugin_config says completes what the policy
// file leaves unset, on_error, capabilities and applied_to included; what
// the file sets wins.
func TestMergeRemoteOnErrorCapabilitiesAppliedTo(t *testing.T) {
	// A get_plugin_config answer in cpex 0.1.4's PluginConfig.model_dump shape.
	remote := `{"name": "RateLimiter", "kind": "cpex_rate_limiter.rate_limiter.RateLimiterPlugin", "hooks": ["tool_pre_invoke"],
		"mode": "sequential", "on_error": "ignore", "priority": 40, "capabilities": ["read_headers"],
		"applied_to": {"tools": [{"tool_name": "search", "fields": null, "result": false}], "prompts": null, "resources": null},
		"conditions": [], "config": {"by_user": "3/m"}, "mcp": null, "grpc": null, "unix_socket": null, "max_content_size": 10000000}`
	var rc remoteConfig
	if err := json.Unmarshal([]byte(remote), &rc); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		entry string
		want  framework.OnError
	}{
		{"{name: RateLimiter, kind: external, mcp: {proto: STDIO, cmd: [x]}}", framework.OnErrorIgnore},
		{"{name: RateLimiter, kind: external, on_error: fail, mcp: {proto: STDIO, cmd: [x]}}", framework.OnErrorFail},
	} {
		cfg, _, err := framework.Parse([]byte("plugins:\n  - "+tc.entry+"\n"), "c.yaml", framework.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pc := &cfg.Plugins[0]
		p := &Plugin{pc: pc, logger: slog.New(slog.DiscardHandler)}
		if err := p.merge(&rc); err != nil {
			t.Fatal(err)
		}
		if pc.OnError != tc.want || pc.Priority != 40 || pc.Mode != framework.ModeEnforce {
			t.Errorf("%s: on_error %s priority %d mode %s", tc.entry, pc.OnError, pc.Priority, pc.Mode)
		}
		if len(pc.Capabilities) != 1 || pc.Capabilities[0] != "read_headers" || len(pc.AppliedTo) == 0 {
			t.Errorf("%s: capabilities %v applied_to %s", tc.entry, pc.Capabilities, pc.AppliedTo)
		}
	}
	rc.OnError = "sometimes"
	cfg, _, _ := framework.Parse([]byte("plugins:\n  - {name: r, kind: external, mcp: {proto: STDIO, cmd: [x]}}\n"), "c.yaml", framework.LoadOptions{})
	if err := (&Plugin{pc: &cfg.Plugins[0], logger: slog.New(slog.DiscardHandler)}).merge(&rc); err == nil {
		t.Error("an on_error the server made up must fail the plugin's start")
	}
}
