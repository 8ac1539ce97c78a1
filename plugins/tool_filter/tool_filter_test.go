package toolfilter_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
	toolfilter "github.com/mcp-extproc/mcp-extproc/plugins/tool_filter"
)

func withConfig(config string) string {
	return plugintest.Policy("tf", "tool_filter", config)
}

func TestConfig(t *testing.T) {
	pl := plugintest.Load(t, withConfig(`{deny: [x]}`))
	if h := framework.ImplementedHooks(pl); len(h) != 2 || h[0] != framework.ToolPreInvoke || h[1] != framework.ToolsPostList {
		t.Fatalf("hooks = %v", h)
	}
	for _, tc := range []struct{ config, want string }{
		{`{}`, "config: set allow, deny or both"},
		{`{allow: [], deny: []}`, "config: set allow, deny or both"},
		{`{allow: [a, ""]}`, "config.allow[1]: must not be empty"},
		{`{deny: [""]}`, "config.deny[0]: must not be empty"},
		{`{deny: x}`, "plugins[0].config.deny: expected a list"},
		{`{denied: [x]}`, `unknown key "denied"`},
	} {
		t.Run(tc.config, func(t *testing.T) {
			_, err := plugintest.Instantiate(withConfig(tc.config))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestFilter(t *testing.T) {
	for _, tc := range []struct {
		config, tool string
		rule         string // "" allowed, else "allow" or "deny"
		pattern      string
	}{
		{`{deny: ["delete_*"]}`, "delete_user", "deny", "delete_*"},
		{`{deny: ["delete_*"]}`, "undelete_user", "", ""},
		{`{deny: ["delete_*"]}`, "Delete_user", "", ""}, // case-sensitive
		{`{deny: ["delete_*"]}`, "delete_", "deny", "delete_*"},
		{`{deny: [exec]}`, "exec", "deny", "exec"},
		{`{deny: [exec]}`, "exec2", "", ""},
		{`{deny: ["*"]}`, "anything", "deny", "*"},
		{`{deny: ["db_?"]}`, "db_1", "deny", "db_?"},
		{`{deny: ["db_?"]}`, "db_12", "", ""},
		{`{deny: ["db_?"]}`, "db_é", "deny", "db_?"}, // ? is one character, not one byte
		{`{deny: ["*_admin_*"]}`, "grant_admin_role", "deny", "*_admin_*"},
		{`{deny: ["*_admin_*"]}`, "admin_role", "", ""},
		{`{deny: ["a*b*c"]}`, "aXbYbZc", "deny", "a*b*c"},
		{`{deny: ["a*b*c"]}`, "aXbYbZ", "", ""},
		{`{deny: ["[abc]"]}`, "a", "", ""},              // brackets are literal
		{`{deny: ["[abc]"]}`, "[abc]", "deny", "[abc]"}, // brackets are literal
		{`{deny: ["fs/*"]}`, "fs/read/deep", "deny", "fs/*"},
		{`{allow: [read_*, search]}`, "read_file", "", ""},
		{`{allow: [read_*, search]}`, "search", "", ""},
		{`{allow: [read_*, search]}`, "write_file", "allow", ""},
		{`{allow: [read_*, search]}`, "search_all", "allow", ""},
		{`{allow: ["*"], deny: [read_secrets]}`, "read_secrets", "deny", "read_secrets"}, // deny wins
		{`{allow: [read_*], deny: ["*_secrets"]}`, "read_secrets", "deny", "*_secrets"},
		{`{allow: [read_*], deny: ["*_secrets"]}`, "read_notes", "", ""},
	} {
		t.Run(tc.config+"/"+tc.tool, func(t *testing.T) {
			pl := plugintest.Load(t, withConfig(tc.config)).(framework.ToolPreInvoker)
			res, err := pl.ToolPreInvoke(context.Background(), &framework.ToolPreInvokePayload{Name: tc.tool, Args: []byte(`{}`)},
				&framework.PluginContext{Global: &framework.GlobalContext{}})
			if err != nil || res.ModifiedPayload != nil {
				t.Fatalf("err %v, modified %v", err, res.ModifiedPayload)
			}
			v := res.Violation
			if tc.rule == "" {
				if v != nil {
					t.Fatalf("refused: %+v", v)
				}
				return
			}
			if v == nil || v.Code != "TOOL_DENIED" || v.Details["tool"] != tc.tool || v.Details["rule"] != tc.rule || !strings.Contains(v.Description, tc.tool) {
				t.Fatalf("violation = %+v", v)
			}
			if tc.pattern != "" && v.Details["pattern"] != tc.pattern {
				t.Fatalf("pattern = %v, want %s", v.Details["pattern"], tc.pattern)
			}
		})
	}
}

// FuzzGlob checks the glob matcher against an independent translation of
// the pattern to a regular expression.
func FuzzGlob(f *testing.F) {
	for _, s := range [][2]string{{"a*b?c*", "abXc"}, {"*x*y*z*", "éxéyéz"}, {"*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaab"}, {"?", "é"}, {"", ""}, {"[x]", "[x]"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		if pattern == "" {
			return
		}
		pl, err := toolfilter.New(toolfilter.Config{Deny: []string{pattern}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := pl.ToolPreInvoke(context.Background(), &framework.ToolPreInvokePayload{Name: name}, &framework.PluginContext{Global: &framework.GlobalContext{}})
		if err != nil {
			t.Fatal(err)
		}
		var expr strings.Builder
		expr.WriteString("(?s)^")
		for i := 0; i < len(pattern); {
			switch pattern[i] {
			case '*':
				expr.WriteString(".*")
				i++
			case '?':
				expr.WriteString(".")
				i++
			default:
				j := i
				for j < len(pattern) && pattern[j] != '*' && pattern[j] != '?' {
					j++
				}
				expr.WriteString(regexp.QuoteMeta(pattern[i:j]))
				i = j
			}
		}
		expr.WriteString("$")
		re, err := regexp.Compile(expr.String())
		if err != nil {
			return // a pattern with invalid UTF-8 has no regexp twin
		}
		if want := re.MatchString(name); want != (res.Violation != nil) {
			t.Fatalf("pattern %q, name %q: denied = %v, want %v", pattern, name, res.Violation != nil, want)
		}
	})
}

// A tool the filter would refuse to call is not listed; everything else of
// the page stays byte for byte; hide_denied: false lists it again.
func TestHideDenied(t *testing.T) {
	tools := `[{"name":"read_file","description":"d"},{"name":"delete_user"},{"name":"list_a"},{"title":"no name"}]`
	list := func(config string) (string, []framework.HiddenItem) {
		t.Helper()
		pl := plugintest.Load(t, withConfig(config)).(framework.ToolsPostLister)
		res, err := pl.ToolsPostList(context.Background(), &framework.ToolsPostListPayload{Tools: []byte(tools), ServerID: "s"}, &framework.PluginContext{})
		if err != nil {
			t.Fatal(err)
		}
		if res.ModifiedPayload == nil {
			return tools, nil
		}
		hidden, _ := res.Metadata[framework.MetadataHiddenItems].([]framework.HiddenItem)
		return string(res.ModifiedPayload.Tools), hidden
	}
	got, hidden := list(`{allow: ["read_*", "list_?"], deny: ["delete_*"]}`)
	if got != `[{"name":"read_file","description":"d"},{"name":"list_a"},{"title":"no name"}]` {
		t.Fatalf("listed %s", got)
	}
	if len(hidden) != 1 || hidden[0].Name != "delete_user" || hidden[0].Code != "TOOL_DENIED" {
		t.Fatalf("hidden %+v", hidden)
	}
	if got, _ := list(`{allow: [read_file]}`); got != `[{"name":"read_file","description":"d"},{"title":"no name"}]` {
		t.Fatalf("allow list: %s", got)
	}
	if got, _ := list(`{deny: ["delete_*"], hide_denied: false}`); got != tools {
		t.Fatalf("hide_denied false: %s", got)
	}
}
