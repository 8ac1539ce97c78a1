package outputguard_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/output_guard"
)

func withConfig(config string) string {
	return plugintest.Policy("og", "output_guard", config)
}

var pc = &framework.PluginContext{Global: &framework.GlobalContext{}}

func TestKindAndAliasesLoad(t *testing.T) {
	for _, kind := range []string{"output_guard", "OutputLengthGuard", "plugins.output_length_guard.output_length_guard.OutputLengthGuardPlugin", "OutputLengthGuardPlugin"} {
		t.Run(kind, func(t *testing.T) {
			pl := plugintest.Load(t, "plugins:\n  - name: o\n    kind: "+kind+"\n    config:\n      max_chars: 10\n      strategy: \"Truncate\"\n")
			if h := framework.ImplementedHooks(pl); len(h) != 1 || h[0] != framework.ToolPostInvoke {
				t.Fatalf("hooks = %v", h)
			}
		})
	}
	k, _ := framework.DefaultRegistry().Resolve("output_guard")
	got := map[string]string{}
	for _, c := range k.ConfigKeys() {
		got[c.Name] = c.Default
	}
	if got["max_chars"] != "0" || got["min_chars"] != "0" || got["strategy"] != "truncate" || got["ellipsis"] != "…" || got["word_boundary"] != "false" {
		t.Fatalf("defaults = %v", got)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ config, want string }{
		{`{}`, "config: set max_chars, min_chars or both"},
		{`{max_chars: -1}`, "config.max_chars: must not be negative"},
		{`{min_chars: -1, max_chars: 5}`, "config.min_chars: must not be negative"},
		{`{min_chars: 6, max_chars: 5}`, "config.min_chars: 6 is greater than max_chars 5"},
		{`{max_chars: 5, strategy: cut}`, `config.strategy: "cut" is not one of truncate, block`},
		{`{max_chars: null}`, "plugins[0].config.max_chars: expected an integer"},
		{`{max_tokens: 5}`, `unknown key "max_tokens"`},
	} {
		t.Run(tc.config, func(t *testing.T) {
			_, err := plugintest.Instantiate(withConfig(tc.config))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// text is a result with one text block per argument.
func text(blocks ...string) string {
	var b strings.Builder
	b.WriteString(`{"content":[`)
	for i, s := range blocks {
		if i > 0 {
			b.WriteByte(',')
		}
		q, _ := json.Marshal(s)
		b.WriteString(`{"type":"text","text":` + string(q) + `}`)
	}
	b.WriteString(`]}`)
	return b.String()
}

func TestGuard(t *testing.T) {
	long := strings.Repeat("abcdefghij", 3) // 30 characters
	for _, tc := range []struct {
		name, config, result string
		want                 string // modified result; "" unchanged
		code                 string
		details              map[string]any
	}{
		{"within limit", `{max_chars: 30}`, text(long), "", "", nil},
		{"truncated with ellipsis", `{max_chars: 10}`, text(long), text("abcdefghi…"), "", nil},
		{"custom ellipsis counts", `{max_chars: 10, ellipsis: "..."}`, text(long), text("abcdefg..."), "", nil},
		{"no ellipsis", `{max_chars: 10, ellipsis: ""}`, text(long), text("abcdefghij"), "", nil},
		{"ellipsis longer than the limit: hard cut", `{max_chars: 2, ellipsis: "[cut]"}`, text(long), text("ab"), "", nil},
		{"characters, not bytes", `{max_chars: 4}`, text("héllo wörld"), text("hél…"), "", nil},
		{"cut between characters, never inside one", `{max_chars: 3, ellipsis: ""}`, text("日本語テキスト"), text("日本語"), "", nil},
		{"emoji are one character each", `{max_chars: 2, ellipsis: ""}`, text("😀😀😀"), text("😀😀"), "", nil},
		{"limit shared by blocks, in order", `{max_chars: 8}`, text("abcde", "fghij", "klmno"), text("abcde", "fg…", ""), "", nil},
		{"block exactly filling the limit", `{max_chars: 5}`, text("abcde", "f"), text("abcd…", ""), "", nil},
		{"images and links are not text",
			`{max_chars: 5}`,
			`{"content":[{"type":"image","data":"aaaaaaaaaaaaaaaaaaaa","mimeType":"image/png"},{"type":"resource_link","uri":"x:aaaaaaaaaaaa","name":"aaaaaaaaaa"},{"type":"text","text":"abc"}]}`,
			"", "", nil},
		{"embedded resource text counts",
			`{max_chars: 5}`,
			`{"content":[{"type":"resource","resource":{"uri":"x:a","mimeType":"text/plain","text":"abcdefgh"}}]}`,
			`{"content":[{"type":"resource","resource":{"uri":"x:a","mimeType":"text/plain","text":"abcd…"}}]}`, "", nil},
		{"type after text",
			`{max_chars: 5}`, `{"content":[{"text":"abcdefgh","type":"text"}]}`, `{"content":[{"text":"abcd…","type":"text"}]}`, "", nil},
		{"text of a non-text block is ignored",
			`{max_chars: 5}`, `{"content":[{"type":"image","text":"abcdefgh","data":""}]}`, "", "", nil},
		{"structuredContent measured on its own",
			`{max_chars: 8}`,
			`{"content":[{"type":"text","text":"{\"a\":1}"}],"structuredContent":{"a":"abcdefgh","n":12345678,"b":"ij"}}`,
			`{"content":[{"type":"text","text":"{\"a\":1}"}],"structuredContent":{"a":"abcdefg…","n":12345678,"b":""}}`, "", nil},
		{"keys of structuredContent are not text",
			`{max_chars: 3}`, `{"content":[{"type":"text","text":"ok"}],"structuredContent":{"a_very_long_key":"abc"}}`, "", "", nil},
		{"ellipsis after a block that ends at the cut", `{max_chars: 4}`, text("abc", "defgh"), text("abc…", ""), "", nil},
		{"both parts truncated",
			`{max_chars: 4, ellipsis: ""}`,
			`{"content":[{"type":"text","text":"{\"key\":\"abcdefgh\"}"}],"structuredContent":{"key":"abcdefgh"}}`,
			`{"content":[{"type":"text","text":"{\"ke"}],"structuredContent":{"key":"abcd"}}`, "", nil},
		{"escapes decoded, output re-encoded", `{max_chars: 4, ellipsis: ""}`, `{"content":[{"type":"text","text":"a\"\n\u00e9xyz"}]}`,
			`{"content":[{"type":"text","text":"a\"\né"}]}`, "", nil},
		{"other members kept", `{max_chars: 3}`, `{"content":[{"type":"text","text":"abcdef","annotations":{"priority":1}}],"isError":false,"_meta":{"x":"yyyyyyy"}}`,
			`{"content":[{"type":"text","text":"ab…","annotations":{"priority":1}}],"isError":false,"_meta":{"x":"yyyyyyy"}}`, "", nil},
		{"word boundary at a space", `{max_chars: 12, word_boundary: true}`, text("hello brave new world"), text("hello brave…"), "", nil},
		{"word boundary keeps punctuation", `{max_chars: 12, word_boundary: true}`, text("hello,world-wide web"), text("hello,world…"), "", nil},
		{"word boundary only in the last fifth", `{max_chars: 12, word_boundary: true}`, text("a verylongwordwithoutspaces"), text("a verylongw…"), "", nil},
		{"block: too long", `{max_chars: 10, strategy: block}`, text(long), "", "OUTPUT_TOO_LONG",
			map[string]any{"part": "content", "chars": 30, "max_chars": 10}},
		{"block: sum of blocks too long", `{max_chars: 10, strategy: BLOCK}`, text("abcdef", "ghijk"), "", "OUTPUT_TOO_LONG", nil},
		{"block: structuredContent too long", `{max_chars: 5, strategy: block}`, `{"content":[{"type":"text","text":"ok"}],"structuredContent":{"a":"abcdef"}}`, "", "OUTPUT_TOO_LONG",
			map[string]any{"part": "structuredContent", "chars": 6}},
		{"block: within limit", `{max_chars: 30, strategy: block}`, text(long), "", "", nil},
		{"too short, truncate strategy", `{min_chars: 5}`, text("abc"), "", "OUTPUT_TOO_SHORT",
			map[string]any{"part": "content", "chars": 3, "min_chars": 5}},
		{"too short, block strategy", `{min_chars: 5, max_chars: 10, strategy: block}`, text("ab", "c"), "", "OUTPUT_TOO_SHORT", nil},
		{"no text at all is too short", `{min_chars: 1}`, `{"content":[]}`, "", "OUTPUT_TOO_SHORT", nil},
		{"min reached", `{min_chars: 5}`, text("ab", "cde"), "", "", nil},
		{"error results are not held to min_chars", `{min_chars: 50}`, `{"content":[{"type":"text","text":"not found"}],"isError":true}`, "", "", nil},
		{"error results are truncated", `{max_chars: 3}`, `{"content":[{"type":"text","text":"long error"}],"isError":true}`,
			`{"content":[{"type":"text","text":"lo…"}],"isError":true}`, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pl := plugintest.Load(t, withConfig(tc.config)).(framework.ToolPostInvoker)
			res, err := pl.ToolPostInvoke(context.Background(), &framework.ToolPostInvokePayload{Name: "t", Result: json.RawMessage(tc.result)}, pc)
			if err != nil {
				t.Fatal(err)
			}
			if tc.code != "" {
				v := res.Violation
				if v == nil || v.Code != tc.code || v.Reason == "" || v.Description == "" || res.ModifiedPayload != nil {
					t.Fatalf("violation = %+v, want %s", v, tc.code)
				}
				for k, want := range tc.details {
					if v.Details[k] != want {
						t.Errorf("details[%s] = %v, want %v", k, v.Details[k], want)
					}
				}
				return
			}
			if res.Violation != nil {
				t.Fatalf("unexpected violation %+v", res.Violation)
			}
			var got string
			if res.ModifiedPayload != nil {
				got = string(res.ModifiedPayload.Result)
				if !json.Valid(res.ModifiedPayload.Result) || res.ModifiedPayload.Name != "t" {
					t.Fatalf("bad modified payload %s", got)
				}
			}
			if got != tc.want {
				t.Fatalf("result =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestTruncationProperties cuts many texts at every limit and checks what
// must always hold: valid JSON, valid UTF-8, a prefix of the input, and no
// more than max_chars characters.
func TestTruncationProperties(t *testing.T) {
	inputs := []string{"héllo wörld, 日本語 😀 text", strings.Repeat("ab ", 20), "\"quoted\"\n\ttabs\\", "ſK"}
	for max := 1; max <= 40; max++ {
		for _, ell := range []string{"…", "", "..."} {
			for _, wb := range []string{"false", "true"} {
				cfg := withConfig(`{max_chars: ` + itoa(max) + `, ellipsis: "` + ell + `", word_boundary: ` + wb + `}`)
				g := plugintest.Load(t, cfg).(framework.ToolPostInvoker)
				for _, in := range inputs {
					res, err := g.ToolPostInvoke(context.Background(), &framework.ToolPostInvokePayload{Result: json.RawMessage(text(in, in))}, pc)
					if err != nil {
						t.Fatal(err)
					}
					if res.ModifiedPayload == nil {
						if 2*utf8.RuneCountInString(in) > max {
							t.Fatalf("max %d: %q not truncated", max, in)
						}
						continue
					}
					var r struct {
						Content []struct{ Text string } `json:"content"`
					}
					if err := json.Unmarshal(res.ModifiedPayload.Result, &r); err != nil {
						t.Fatal(err)
					}
					total := 0
					for _, b := range r.Content {
						if !utf8.ValidString(b.Text) {
							t.Fatalf("invalid UTF-8 %q", b.Text)
						}
						total += utf8.RuneCountInString(b.Text)
						if !strings.HasPrefix(in, strings.TrimSuffix(b.Text, ell)) {
							t.Fatalf("%q is not a prefix of %q", b.Text, in)
						}
					}
					if total > max {
						t.Fatalf("max %d, ellipsis %q: %d characters kept", max, ell, total)
					}
				}
			}
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestErrors(t *testing.T) {
	pl := plugintest.Load(t, withConfig(`{max_chars: 3}`)).(framework.ToolPostInvoker)
	if _, err := pl.ToolPostInvoke(context.Background(), &framework.ToolPostInvokePayload{Result: json.RawMessage(`{"content":[`)}, pc); err == nil {
		t.Fatal("malformed result must be an error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := pl.ToolPostInvoke(ctx, &framework.ToolPostInvokePayload{Result: json.RawMessage(text("abcdef"))}, pc); err == nil {
		t.Fatal("a cancelled call must return the context's error")
	}
}

func TestConcurrentUse(t *testing.T) {
	g := plugintest.Load(t, withConfig(`{max_chars: 5}`)).(framework.ToolPostInvoker)
	errs := make(chan string, 8)
	for i := range 8 {
		go func() {
			for j := range 200 {
				in := strings.Repeat("é", 3+(i+j)%6)
				res, err := g.ToolPostInvoke(context.Background(), &framework.ToolPostInvokePayload{Result: json.RawMessage(text(in))}, pc)
				want := utf8.RuneCountInString(in) > 5
				if err != nil || (res.ModifiedPayload != nil) != want {
					errs <- in
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
