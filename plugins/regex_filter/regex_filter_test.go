package regexfilter_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/regex_filter"
)

func withConfig(config string) string {
	return plugintest.Policy("rx", "regex_filter", config)
}

var pc = &framework.PluginContext{Global: &framework.GlobalContext{}}

func TestKindAndAliasesLoad(t *testing.T) {
	for _, kind := range []string{"regex_filter", "search_replace", "plugins.regex_filter.search_replace.SearchReplacePlugin", "SearchReplacePlugin"} {
		t.Run(kind, func(t *testing.T) {
			pl := plugintest.Load(t, "plugins:\n  - name: r\n    kind: "+kind+"\n    config:\n      words:\n        - search: crap\n          replace: crud\n")
			want := []framework.HookType{framework.PromptPreFetch, framework.PromptPostFetch, framework.ToolPreInvoke, framework.ToolPostInvoke}
			if got := framework.ImplementedHooks(pl); len(got) != len(want) {
				t.Fatalf("hooks = %v, want %v", got, want)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ config, want string }{
		{`{}`, "config.words: must list at least one"},
		{`{words: [{search: "", replace: x}]}`, "config.words[0].search: must not be empty"},
		{`{words: [{search: a, replace: b}, {search: "(?<=a)b", replace: c}]}`, "config.words[1].search: error parsing regexp"},
		{`{words: [{search: "a(", replace: b}]}`, "config.words[0].search"},
		{`{words: [{search: a, replacement: b}]}`, `unknown key "replacement"`},
		{`{words: [crap]}`, "plugins[0].config.words[0]: expected a mapping"},
	} {
		t.Run(tc.config, func(t *testing.T) {
			_, err := plugintest.Instantiate(withConfig(tc.config))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestArguments(t *testing.T) {
	for _, tc := range []struct {
		name, config, args string
		want               string // "" = unchanged
	}{
		{"literal", `{words: [{search: crap, replace: crud}]}`, `{"q":"this crap is crap"}`, `{"q":"this crud is crud"}`},
		{"no match, untouched", `{words: [{search: crap, replace: crud}]}`, `{"q":"fine"}`, ""},
		{"rules in order, each sees the previous output", `{words: [{search: crap, replace: crud}, {search: crud, replace: yikes}]}`,
			`{"q":"crap"}`, `{"q":"yikes"}`},
		{"nested, every string value", `{words: [{search: 'secret', replace: '[x]'}]}`,
			`{"a":{"b":["secret",2,{"c":"my secret"}],"d":true},"e":null}`, `{"a":{"b":["[x]",2,{"c":"my [x]"}],"d":true},"e":null}`},
		{"keys are not rewritten", `{words: [{search: 'secret', replace: 'x'}]}`, `{"secret":1}`, ""},
		{"numbers are not rewritten", `{words: [{search: '4', replace: 'x'}]}`, `{"n":42}`, ""},
		{"numbered group", `{words: [{search: '(\w+)@(\w+)\.com', replace: '$1 at $${2}'}]}`, `{"q":"mail bob@corp.com"}`, `{"q":"mail bob at corp"}`},
		{"named group", `{words: [{search: '(?P<user>\w+)@example\.com', replace: '$${user}@…'}]}`, `{"q":"al@example.com"}`, `{"q":"al@…"}`},
		{"dollar sign", `{words: [{search: 'USD ?(\d+)', replace: '$$$$$1'}]}`, `{"q":"USD 5"}`, `{"q":"$5"}`},
		{"empty replace deletes", `{words: [{search: ' ?please', replace: ''}]}`, `{"q":"do it please"}`, `{"q":"do it"}`},
		{"missing replace deletes", `{words: [{search: 'x'}]}`, `{"q":"axb"}`, `{"q":"ab"}`},
		{"case-sensitive unless (?i)", `{words: [{search: 'crap', replace: 'c'}, {search: '(?i)darn', replace: 'd'}]}`, `{"q":"CRAP DARN"}`, `{"q":"CRAP d"}`},
		{"escapes decoded before matching", `{words: [{search: 'crap', replace: 'crud'}]}`, `{"q":"\u0063rap"}`, `{"q":"crud"}`},
		{"replacement is JSON-encoded", `{words: [{search: 'x', replace: "\"\n\\"}]}`, `{"q":"x"}`, `{"q":"\"\n\\"}`},
		{"Unicode", `{words: [{search: 'ü', replace: 'ue'}]}`, `{"q":"Müller"}`, `{"q":"Mueller"}`},
		{"empty-width matches", `{words: [{search: '(?m)^', replace: '> '}]}`, `{"q":"a\nb"}`, `{"q":"> a\n> b"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pl := plugintest.Load(t, withConfig(tc.config))
			for _, hook := range []string{"tool", "prompt"} {
				var got json.RawMessage
				var err error
				if hook == "tool" {
					var res framework.Result[framework.ToolPreInvokePayload]
					res, err = pl.(framework.ToolPreInvoker).ToolPreInvoke(context.Background(),
						&framework.ToolPreInvokePayload{Name: "crap", Args: json.RawMessage(tc.args), Headers: map[string]string{"x": "crap"}}, pc)
					if res.ModifiedPayload != nil {
						got = res.ModifiedPayload.Args
						if res.ModifiedPayload.Name != "crap" || res.ModifiedPayload.Headers["x"] != "crap" {
							t.Fatal("name or headers changed")
						}
					}
				} else {
					var res framework.Result[framework.PromptPreFetchPayload]
					res, err = pl.(framework.PromptPreFetcher).PromptPreFetch(context.Background(),
						&framework.PromptPreFetchPayload{PromptID: "crap", Args: json.RawMessage(tc.args)}, pc)
					if res.ModifiedPayload != nil {
						got = res.ModifiedPayload.Args
						if res.ModifiedPayload.PromptID != "crap" {
							t.Fatal("prompt id changed")
						}
					}
				}
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != tc.want {
					t.Fatalf("%s args = %s, want %s", hook, got, tc.want)
				}
			}
		})
	}
}

func TestResults(t *testing.T) {
	rx := plugintest.Load(t, withConfig(`{words: [{search: '(?i)secret|text|image|user|uri|abc', replace: '***'}]}`))
	for _, tc := range []struct {
		name, result, want string
	}{
		{"text content",
			`{"content":[{"type":"text","text":"a Secret here"}],"isError":false}`,
			`{"content":[{"type":"text","text":"a *** here"}],"isError":false}`},
		{"protocol fields are left alone",
			`{"content":[{"type":"image","mimeType":"image/png","data":"abcd"},{"type":"resource","resource":{"uri":"file:///user/secret","mimeType":"text/plain","text":"user secret"}},{"type":"resource_link","uri":"x://secret","name":"secret doc"}],"_meta":{"k":"secret"}}`,
			`{"content":[{"type":"image","mimeType":"image/png","data":"abcd"},{"type":"resource","resource":{"uri":"file:///user/secret","mimeType":"text/plain","text":"*** ***"}},{"type":"resource_link","uri":"x://secret","name":"*** doc"}],"_meta":{"k":"secret"}}`},
		{"annotations are left alone",
			`{"content":[{"type":"text","text":"secret","annotations":{"audience":["user"]}}]}`,
			`{"content":[{"type":"text","text":"***","annotations":{"audience":["user"]}}]}`},
		{"structuredContent is data, type keys included",
			`{"content":[{"type":"text","text":"{\"type\":\"secret\"}"}],"structuredContent":{"type":"secret","uri":"x:secret","deep":[{"data":"secret"}]}}`,
			`{"content":[{"type":"text","text":"{\"type\":\"***\"}"}],"structuredContent":{"type":"***","uri":"x:***","deep":[{"data":"***"}]}}`},
		{"nothing to change", `{"content":[{"type":"text","text":"fine"}]}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := rx.(framework.ToolPostInvoker).ToolPostInvoke(context.Background(), &framework.ToolPostInvokePayload{Name: "t", Result: json.RawMessage(tc.result)}, pc)
			if err != nil {
				t.Fatal(err)
			}
			var got string
			if res.ModifiedPayload != nil {
				got = string(res.ModifiedPayload.Result)
			}
			if got != tc.want {
				t.Fatalf("result =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestPromptResult(t *testing.T) {
	rx := plugintest.Load(t, withConfig(`{words: [{search: 'user|text|crap', replace: 'X'}]}`))
	in := `{"description":"crap prompt","messages":[{"role":"user","content":{"type":"text","text":"the user said crap"}},{"role":"assistant","content":{"type":"resource","resource":{"uri":"x:user","text":"crap","mimeType":"text/plain"}}}]}`
	want := `{"description":"X prompt","messages":[{"role":"user","content":{"type":"text","text":"the X said X"}},{"role":"assistant","content":{"type":"resource","resource":{"uri":"x:user","text":"X","mimeType":"text/plain"}}}]}`
	res, err := rx.(framework.PromptPostFetcher).PromptPostFetch(context.Background(), &framework.PromptPostFetchPayload{PromptID: "p", Result: json.RawMessage(in)}, pc)
	if err != nil || res.ModifiedPayload == nil || string(res.ModifiedPayload.Result) != want || res.ModifiedPayload.PromptID != "p" {
		t.Fatalf("got %+v, %v", res.ModifiedPayload, err)
	}
}

func TestErrors(t *testing.T) {
	rx := plugintest.Load(t, withConfig(`{words: [{search: a, replace: b}]}`)).(framework.ToolPostInvoker)
	if _, err := rx.ToolPostInvoke(context.Background(), &framework.ToolPostInvokePayload{Result: json.RawMessage(`{"content":[`)}, pc); err == nil {
		t.Fatal("malformed result must be an error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if res, err := rx.ToolPostInvoke(ctx, &framework.ToolPostInvokePayload{Result: json.RawMessage(`{"content":[{"type":"text","text":"a"}]}`)}, pc); err == nil || res.ModifiedPayload != nil {
		t.Fatal("a cancelled call must return the context's error and no half-rewritten result")
	}
}

func TestConcurrentUse(t *testing.T) {
	rx := plugintest.Load(t, withConfig(`{words: [{search: 'secret(\d)', replace: 'S$1'}]}`)).(framework.ToolPostInvoker)
	errs := make(chan string, 8)
	for i := range 8 {
		go func() {
			for j := range 200 {
				in := `{"content":[{"type":"text","text":"secret` + string(rune('0'+(i+j)%10)) + `"}]}`
				want := `{"content":[{"type":"text","text":"S` + string(rune('0'+(i+j)%10)) + `"}]}`
				res, err := rx.ToolPostInvoke(context.Background(), &framework.ToolPostInvokePayload{Result: json.RawMessage(in)}, pc)
				if err != nil || res.ModifiedPayload == nil || string(res.ModifiedPayload.Result) != want {
					errs <- in
					return
				}
			}
			errs <- ""
		}()
	}
	for range 8 {
		if e := <-errs; e != "" {
			t.Fatalf("wrong rewrite of %s", e)
		}
	}
}

// ContextForge's own entry, as in its plugins/config.yaml.
const contextForgeEntry = `plugins:
  - name: "ReplaceBadWordsPlugin"
    kind: "plugins.regex_filter.search_replace.SearchReplacePlugin"
    description: "A plugin for finding and replacing words."
    version: "0.1"
    author: "MCP Context Forge Team"
    hooks: ["prompt_pre_fetch", "prompt_post_fetch", "tool_pre_invoke", "tool_post_invoke", "tool_post_list"]
    tags: ["plugin", "transformer", "regex", "search-and-replace", "pre-post"]
    mode: "enforce"
    priority: 150
    conditions:
      - prompts: ["test_prompt"]
        server_ids: []
        tenant_ids: []
        agents: []
    config:
      words:
        - search: crap
          replace: crud
        - search: crud
          replace: yikes
`

func TestContextForgeEntryLoads(t *testing.T) {
	pl := plugintest.Load(t, contextForgeEntry).(framework.PromptPreFetcher)
	res, err := pl.PromptPreFetch(context.Background(), &framework.PromptPreFetchPayload{PromptID: "test_prompt", Args: json.RawMessage(`{"user":"what a crap"}`)}, pc)
	if err != nil || res.ModifiedPayload == nil || string(res.ModifiedPayload.Args) != `{"user":"what a yikes"}` {
		t.Fatalf("got %+v, %v", res.ModifiedPayload, err)
	}
}
