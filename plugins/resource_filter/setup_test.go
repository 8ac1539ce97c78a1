package resourcefilter_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/resource_filter"
)

// withConfig is a one-plugin policy of kind resource_filter.
func withConfig(config string) string {
	return plugintest.Policy("rf", "resource_filter", config)
}

func TestKindAndAliasesLoad(t *testing.T) {
	for _, kind := range []string{
		"resource_filter",
		"plugins.resource_filter.resource_filter.ResourceFilterPlugin",
		"ResourceFilterPlugin",
	} {
		t.Run(kind, func(t *testing.T) {
			pl := plugintest.Load(t, "plugins:\n  - name: rf\n    kind: "+kind+"\n")
			hooks := framework.ImplementedHooks(pl)
			want := []framework.HookType{framework.ToolPostInvoke, framework.PromptPostFetch, framework.ResourcePreFetch, framework.ResourcePostFetch}
			if !sameSet(hooks, want) || !sameSet(pl.(framework.HookLister).Hooks(), want) {
				t.Fatalf("hooks = %v, want %v", hooks, want)
			}
		})
	}
	// embedded: allow leaves tool and prompt results alone: the plugin does
	// not even run there.
	pl := plugintest.Load(t, withConfig("{embedded: allow}"))
	if got, want := pl.(framework.HookLister).Hooks(), []framework.HookType{framework.ResourcePreFetch, framework.ResourcePostFetch}; !sameSet(got, want) {
		t.Fatalf("embedded: allow runs on %v, want %v", got, want)
	}
}

func sameSet(a, b []framework.HookType) bool {
	if len(a) != len(b) {
		return false
	}
	for _, h := range b {
		if !slices.Contains(a, h) {
			return false
		}
	}
	return true
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
		{`{embedded: refuse}`, `config.embedded: "refuse" is not one of block, allow`},
	} {
		t.Run(tc.config, func(t *testing.T) {
			_, err := plugintest.Instantiate(withConfig(tc.config))
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
