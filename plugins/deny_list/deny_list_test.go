package denylist_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/deny_list"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
)

func withConfig(config string) string {
	return plugintest.Policy("deny", "deny_list", config)
}

func TestKindAndAliasesLoad(t *testing.T) {
	for _, kind := range []string{"deny_list", "plugins.deny_filter.deny.DenyListPlugin", "DenyListPlugin"} {
		t.Run(kind, func(t *testing.T) {
			pl := plugintest.Load(t, "plugins:\n  - name: d\n    kind: "+kind+"\n    config:\n      words:\n        - innovative\n")
			hooks := framework.ImplementedHooks(pl)
			if len(hooks) != 2 || hooks[0] != framework.PromptPreFetch || hooks[1] != framework.ToolPreInvoke {
				t.Fatalf("hooks = %v", hooks)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ config, want string }{
		{`{}`, "config.words: must list at least one word"},
		{`{words: []}`, "config.words: must list at least one word"},
		{`{words: [a, ""]}`, "config.words[1]: must not be empty"},
		{`{words: [a], match: regex}`, `config.match: "regex" is not one of substring, word`},
		{`{words: [a], case_sensitive: maybe}`, "plugins[0].config.case_sensitive"},
		{`{words: a}`, "plugins[0].config.words: expected a list"},
		{`{word: [a]}`, `unknown key "word"`},
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
	k, _ := framework.DefaultRegistry().Resolve("deny_list")
	got := map[string]string{}
	for _, c := range k.ConfigKeys() {
		got[c.Name] = c.Default
	}
	if got["match"] != "substring" || got["case_sensitive"] != "false" || got["words"] != "[]" {
		t.Fatalf("defaults = %v", got)
	}
}

func toolCall(t *testing.T, pl framework.Plugin, name, args string) *framework.Violation {
	t.Helper()
	res, err := pl.(framework.ToolPreInvoker).ToolPreInvoke(context.Background(),
		&framework.ToolPreInvokePayload{Name: name, Args: json.RawMessage(args)}, &framework.PluginContext{Global: &framework.GlobalContext{}})
	if err != nil {
		t.Fatal(err)
	}
	if res.ModifiedPayload != nil {
		t.Fatal("deny_list must never modify the payload")
	}
	return res.Violation
}

func TestMatching(t *testing.T) {
	for _, tc := range []struct {
		name, config, args string
		path, word         string // "" path: no violation
		inKey              bool
	}{
		{"substring, case ignored", `{words: [innovative]}`, `{"q":"An INNOVATIVELY new idea"}`, "$.q", "innovative", false},
		{"no match", `{words: [innovative]}`, `{"q":"a new idea","n":"innovatve"}`, "", "", false},
		{"empty arguments", `{words: [x]}`, `{}`, "", "", false},
		{"numbers and booleans are not text", `{words: ["123", "true"]}`, `{"n":123,"b":true,"z":null}`, "", "", false},
		{"phrase", `{words: ["drop table"]}`, `{"sql":"DROP TABLE users"}`, "$.sql", "drop table", false},
		{"first of several words", `{words: [alpha, beta]}`, `{"a":"x beta y"}`, "$.a", "beta", false},
		{"nested in objects and arrays", `{words: [secret]}`, `{"a":{"b":[1,"ok",{"c":"top Secret"}]}}`, "$.a.b[2].c", "secret", false},
		{"in a key", `{words: [secret]}`, `{"opts":{"secret_mode":true}}`, "$.opts.secret_mode", "secret", true},
		{"odd key renders quoted", `{words: [bad]}`, `{"my key":"bad"}`, `$["my key"]`, "bad", false},
		{"escapes decoded", `{words: [drop]}`, `{"q":"\u0044rop it"}`, "$.q", "drop", false},
		{"Unicode case folding", `{words: [σοφία]}`, `{"q":"ΣΟΦΊΑ"}`, "$.q", "σοφία", false},
		{"sigma folds (σ)", `{words: [ΟΔΟΣ]}`, `{"q":"οδοσ"}`, "$.q", "ΟΔΟΣ", false},
		{"final sigma folds (ς)", `{words: [ΟΔΟΣ]}`, `{"q":"οδος"}`, "$.q", "ΟΔΟΣ", false},
		{"kelvin sign folds to k", `{words: [kill]}`, `{"q":"\u212aILL it"}`, "$.q", "kill", false},
		{"case_sensitive: exact only", `{words: [Drop], case_sensitive: true}`, `{"q":"drop DROP"}`, "", "", false},
		{"case_sensitive: exact match", `{words: [Drop], case_sensitive: true}`, `{"q":"x Drop"}`, "$.q", "Drop", false},
		{"word: inside a longer word is not a match", `{words: [cat], match: word}`, `{"q":"concatenate cats"}`, "", "", false},
		{"word: standing alone", `{words: [cat], match: word}`, `{"q":"concat cat."}`, "$.q", "cat", false},
		{"word: at the edges", `{words: [cat], match: word}`, `{"q":"cat"}`, "$.q", "cat", false},
		{"word: underscore and digits join words", `{words: [cat], match: word}`, `{"q":"cat_1 2cat"}`, "", "", false},
		{"word: non-ASCII letters join words", `{words: [caf], match: word}`, `{"q":"café"}`, "", "", false},
		{"word: combining mark joins words", `{words: [cafe], match: word}`, "{\"q\":\"cafe\u0301\"}", "", "", false},
		{"substring: inside a word", `{words: [caf]}`, `{"q":"café"}`, "$.q", "caf", false},
		{"word: punctuation edges need no boundary", `{words: ["rm -rf /"], match: word}`, `{"q":"sudo rm -rf /home"}`, "$.q", "rm -rf /", false},
		{"word: leading word edge still bounded", `{words: ["rm -rf"], match: word}`, `{"q":"xrm -rf"}`, "", "", false},
		{"word: later occurrence counts", `{words: [cat], match: word}`, `{"q":"cats, scat, cat"}`, "$.q", "cat", false},
		{"word: case ignored", `{words: [cat], match: word}`, `{"q":"the CAT sat"}`, "$.q", "cat", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := toolCall(t, plugintest.Load(t, withConfig(tc.config)), "search", tc.args)
			if tc.path == "" {
				if v != nil {
					t.Fatalf("unexpected violation: %+v", v)
				}
				return
			}
			if v == nil {
				t.Fatal("not detected")
			}
			if v.Code != "DENY_LIST_MATCH" || v.Reason == "" || !strings.Contains(v.Description, tc.path) {
				t.Fatalf("violation = %+v", v)
			}
			if v.Details["path"] != tc.path || v.Details["word"] != tc.word || (v.Details["in_key"] == true) != tc.inKey {
				t.Fatalf("details = %v, want path %s word %s in_key %v", v.Details, tc.path, tc.word, tc.inKey)
			}
		})
	}
}

func TestToolNameIsNotSearched(t *testing.T) {
	pl := plugintest.Load(t, withConfig(`{words: [drop]}`))
	if v := toolCall(t, pl, "drop_table", `{"table":"users"}`); v != nil {
		t.Fatalf("tool name searched: %+v", v)
	}
}

func TestPromptArguments(t *testing.T) {
	pl := plugintest.Load(t, withConfig(`{words: [innovative]}`)).(framework.PromptPreFetcher)
	for args, want := range map[string]bool{`{"topic":"Innovative products"}`: true, `{"topic":"products"}`: false} {
		res, err := pl.PromptPreFetch(context.Background(), &framework.PromptPreFetchPayload{PromptID: "p", Args: json.RawMessage(args)},
			&framework.PluginContext{Global: &framework.GlobalContext{}})
		if err != nil || (res.Violation != nil) != want {
			t.Fatalf("%s: violation %+v, err %v", args, res.Violation, err)
		}
	}
}

func TestErrors(t *testing.T) {
	pl := plugintest.Load(t, withConfig(`{words: [x]}`)).(framework.ToolPreInvoker)
	pc := &framework.PluginContext{Global: &framework.GlobalContext{}}
	if _, err := pl.ToolPreInvoke(context.Background(), &framework.ToolPreInvokePayload{Args: json.RawMessage(`{"a":`)}, pc); err == nil {
		t.Fatal("malformed arguments must be an error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if res, err := pl.ToolPreInvoke(ctx, &framework.ToolPreInvokePayload{Args: json.RawMessage(`{"a":"b"}`)}, pc); err == nil || res.Violation != nil {
		t.Fatal("a cancelled call must return the context's error")
	}
}

func TestConcurrentUse(t *testing.T) {
	pl := plugintest.Load(t, withConfig(`{words: [secret, ΣΟΦΊΑ]}`)).(framework.ToolPreInvoker)
	errs := make(chan string, 8)
	for i := range 8 {
		go func() {
			pc := &framework.PluginContext{Global: &framework.GlobalContext{}}
			for j := range 300 {
				hit := (i+j)%2 == 0
				arg := strings.Repeat("σοφ ", j%7) + "plain"
				if hit {
					arg += " SECRET"
				}
				res, err := pl.ToolPreInvoke(context.Background(), &framework.ToolPreInvokePayload{Args: json.RawMessage(`{"q":"` + arg + `"}`)}, pc)
				if err != nil || (res.Violation != nil) != hit {
					errs <- arg
					return
				}
			}
			errs <- ""
		}()
	}
	for range 8 {
		if e := <-errs; e != "" {
			t.Fatalf("wrong verdict for %q", e)
		}
	}
}
