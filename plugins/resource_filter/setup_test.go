package resourcefilter_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/resource_filter"
)

// load builds the first plugin of a policy through the default registry, as
// the server does.
func load(t testing.TB, policy string) framework.Plugin {
	t.Helper()
	cfg, _, err := framework.Parse([]byte(policy), "policy.yaml", framework.LoadOptions{})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	pl, err := framework.Instantiate(&cfg.Plugins[0], nil)
	if err != nil {
		t.Fatalf("instantiate: %v", err)
	}
	return pl
}

// withConfig is a one-plugin policy of kind resource_filter.
func withConfig(config string) string {
	return "plugins:\n  - name: rf\n    kind: resource_filter\n    config: " + config + "\n"
}

func TestKindAndAliasesLoad(t *testing.T) {
	for _, kind := range []string{
		"resource_filter",
		"plugins.resource_filter.resource_filter.ResourceFilterPlugin",
		"ResourceFilterPlugin",
	} {
		t.Run(kind, func(t *testing.T) {
			pl := load(t, "plugins:\n  - name: rf\n    kind: "+kind+"\n")
			hooks := framework.ImplementedHooks(pl)
			want := []framework.HookType{framework.ResourcePreFetch, framework.ResourcePostFetch}
			if len(hooks) != 2 || hooks[0] != want[0] || hooks[1] != want[1] {
				t.Fatalf("hooks = %v, want %v", hooks, want)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		config string
		want   string // substring of the error
	}{
		{`{content_filters: [{pattern: "(?<=x)y"}]}`, "config.content_filters[0].pattern"},
		{`{content_filters: [{pattern: ""}]}`, "config.content_filters[0].pattern: must not be empty"},
		{`{content_filters: [{pattern: a, replace: b}]}`, `unknown key "replace"`},
		{`{allowed_protocols: ["https://"]}`, "config.allowed_protocols[0]"},
		{`{allowed_protocols: [""]}`, "config.allowed_protocols[0]"},
		{`{blocked_domains: ["*.evil.com"]}`, "config.blocked_domains[0]"},
		{`{blocked_domains: ["http://evil.com"]}`, "config.blocked_domains[0]"},
		{`{blocked_domains: [".evil.com"]}`, "config.blocked_domains[0]"},
		{`{blocked_domains: [""]}`, "config.blocked_domains[0]: must not be empty"},
		{`{max_content_size: -1}`, "config.max_content_size"},
		{`{max_content_size: big}`, "plugins[0].config.max_content_size"},
		{`{allowed_protocol: [http]}`, `unknown key "allowed_protocol"`},
	} {
		t.Run(tc.config, func(t *testing.T) {
			cfg, _, err := framework.Parse([]byte(withConfig(tc.config)), "policy.yaml", framework.LoadOptions{})
			if err == nil {
				_, err = framework.Instantiate(&cfg.Plugins[0], nil)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestKindDocumentsDefaults(t *testing.T) {
	k, ok := framework.DefaultRegistry().Resolve("resource_filter")
	if !ok {
		t.Fatal("resource_filter is not registered")
	}
	got := map[string]string{}
	for _, c := range k.ConfigKeys() {
		got[c.Name] = c.Default
	}
	want := map[string]string{"allowed_protocols": "[http https]", "blocked_domains": "[]", "max_content_size": "1048576", "content_filters": "[]"}
	for name, def := range want {
		if got[name] != def {
			t.Errorf("%s default = %q, want %q", name, got[name], def)
		}
	}
}

// pre runs the pre-fetch hook.
func pre(t *testing.T, pl framework.Plugin, uri string) *framework.Violation {
	t.Helper()
	res, err := pl.(framework.ResourcePreFetcher).ResourcePreFetch(context.Background(),
		&framework.ResourcePreFetchPayload{URI: uri}, &framework.PluginContext{Global: &framework.GlobalContext{}})
	if err != nil {
		t.Fatal(err)
	}
	if res.ModifiedPayload != nil {
		t.Fatal("pre-fetch must never modify the request")
	}
	return res.Violation
}

// post runs the post-fetch hook and returns the modified content ("" if
// unchanged) and the violation.
func post(t *testing.T, pl framework.Plugin, content string) (string, *framework.Violation) {
	t.Helper()
	res, err := pl.(framework.ResourcePostFetcher).ResourcePostFetch(context.Background(),
		&framework.ResourcePostFetchPayload{URI: "https://example.com/r", Content: json.RawMessage(content)},
		&framework.PluginContext{Global: &framework.GlobalContext{}})
	if err != nil {
		t.Fatal(err)
	}
	if res.ModifiedPayload == nil {
		return "", res.Violation
	}
	if !json.Valid(res.ModifiedPayload.Content) {
		t.Fatalf("modified content is not JSON: %s", res.ModifiedPayload.Content)
	}
	return string(res.ModifiedPayload.Content), res.Violation
}
