package openaimoderation_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/openai_moderation"
	"github.com/mcp-extproc/mcp-extproc/plugins/openai_moderation/moderationtest"
)

const apiKey = "sk-moderation-test-7c1d2e3f"

func standIn(t testing.TB) *moderationtest.Server {
	t.Helper()
	s, err := moderationtest.New(apiKey)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// load builds and initialises a plugin whose config (YAML block lines) is
// added to base_url and the key's variable.
func load(t testing.TB, srv *moderationtest.Server, config string) framework.Plugin {
	t.Helper()
	if tt, ok := t.(*testing.T); ok {
		tt.Setenv("MODERATION_TEST_KEY", apiKey)
	}
	if !strings.Contains(config, "http:") {
		config += "\nhttp: {timeout: 1s, retries: {attempts: 1, backoff: 1ms, max_backoff: 2ms}, circuit_breaker: {failures: 0}}"
	}
	pl := plugintest.Load(t, plugintest.BlockPolicy("mod", "openai_moderation", "base_url: "+srv.URL+"\napi_key_env: MODERATION_TEST_KEY\n"+config))
	if err := pl.(framework.Initializer).Initialize(context.Background()); err != nil {
		t.Fatal(err)
	}
	return pl
}

func pc() *framework.PluginContext {
	return &framework.PluginContext{Global: &framework.GlobalContext{}}
}

func toolArgs(t *testing.T, pl framework.Plugin, args string) framework.Result[framework.ToolPreInvokePayload] {
	t.Helper()
	res, err := pl.(framework.ToolPreInvoker).ToolPreInvoke(context.Background(), &framework.ToolPreInvokePayload{Name: "send", Args: json.RawMessage(args)}, pc())
	if err != nil {
		t.Fatal(err)
	}
	if res.ModifiedPayload != nil {
		t.Fatal("openai_moderation never rewrites")
	}
	return res
}

func categories(v *framework.Violation) []string {
	c, _ := v.Details["categories"].([]string)
	return c
}

func TestFlaggedArgumentsAreBlocked(t *testing.T) {
	srv := standIn(t)
	pl := load(t, srv, "")
	res := toolArgs(t, pl, `{"to":"bob","body":{"text":"I will kill you tomorrow"}}`)
	v := res.Violation
	if v == nil || v.Code != "CONTENT_MODERATION" {
		t.Fatalf("violation = %+v", v)
	}
	if got := categories(v); !slices.Equal(got, []string{"harassment", "harassment/threatening", "violence"}) {
		t.Fatalf("categories = %v", got)
	}
	if !strings.Contains(v.Description, "the tool arguments") || !strings.Contains(v.Description, "violence") {
		t.Fatalf("description = %q", v.Description)
	}
	if strings.Contains(fmt.Sprint(v), "kill") {
		t.Fatalf("the violation repeats the text: %+v", v)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Model != "omni-moderation-latest" || reqs[0].Authorization != "Bearer "+apiKey {
		t.Fatalf("requests = %+v", reqs)
	}
	// Keys and values of the arguments are sent; nothing else.
	if in := reqs[0].Inputs; len(in) != 1 || in[0] != "to\nbob\nbody\ntext\nI will kill you tomorrow" {
		t.Fatalf("inputs = %q", in)
	}
	if toolArgs(t, pl, `{"to":"bob","body":"see you tomorrow"}`).Violation != nil {
		t.Fatal("harmless text blocked")
	}
}

func TestBlockCategoriesAndThresholds(t *testing.T) {
	srv := standIn(t)
	for _, tc := range []struct {
		name, config, text string
		blocked            []string // nil: passes
		flagged            []string // reported in metadata when it passes
	}{
		{"only listed categories block", "block_categories: [hate]", "I will kill you", nil, []string{"harassment", "harassment/threatening", "violence"}},
		{"a listed category blocks", "block_categories: [hate, violence]", "I will kill you", []string{"violence"}, nil},
		{"a threshold flags below the service's flag", "thresholds: {violence: 0.4}", "build a pipe bomb", []string{"illicit", "illicit/violent", "violence"}, nil},
		{"a threshold unflags above the service's flag", "thresholds: {harassment: 0.9}\nblock_categories: [harassment]", "you are worthless", nil, nil},
		{"nothing flagged", "", "a calm note", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := toolArgs(t, load(t, srv, tc.config), `{"q":"`+tc.text+`"}`)
			if tc.blocked == nil {
				if res.Violation != nil {
					t.Fatalf("blocked: %+v", res.Violation)
				}
				got, _ := res.Metadata["moderation_flagged"].([]string)
				if !slices.Equal(got, tc.flagged) {
					t.Fatalf("flagged metadata = %v, want %v", got, tc.flagged)
				}
				return
			}
			if res.Violation == nil || !slices.Equal(categories(res.Violation), tc.blocked) {
				t.Fatalf("violation = %+v, want categories %v", res.Violation, tc.blocked)
			}
		})
	}
}

func TestResultsArePostChecked(t *testing.T) {
	srv := standIn(t)
	pl := load(t, srv, "")
	result := `{"content":[{"type":"text","text":"I hate all of them"},{"type":"image","mimeType":"image/png","data":"aGVsbG8="}],"isError":false}`
	res, err := pl.(framework.ToolPostInvoker).ToolPostInvoke(context.Background(), &framework.ToolPostInvokePayload{Name: "t", Result: json.RawMessage(result)}, pc())
	if err != nil || res.Violation == nil || !slices.Contains(categories(res.Violation), "hate") {
		t.Fatalf("tool result: %+v, %v", res.Violation, err)
	}
	if in := srv.Requests()[0].Inputs; !slices.Equal(in, []string{"I hate all of them"}) {
		t.Fatalf("structure or binary sent: %q", in)
	}
	pres, err := pl.(framework.PromptPostFetcher).PromptPostFetch(context.Background(), &framework.PromptPostFetchPayload{PromptID: "p",
		Result: json.RawMessage(`{"messages":[{"role":"user","content":{"type":"text","text":"I want to hurt myself"}}]}`)}, pc())
	if err != nil || pres.Violation == nil || !slices.Contains(categories(pres.Violation), "self-harm") {
		t.Fatalf("prompt result: %+v, %v", pres.Violation, err)
	}
	rres, err := pl.(framework.ResourcePostFetcher).ResourcePostFetch(context.Background(), &framework.ResourcePostFetchPayload{URI: "docs://a",
		Content: json.RawMessage(`{"contents":[{"uri":"docs://a","mimeType":"text/plain","text":"you are worthless"}]}`)}, pc())
	if err != nil || rres.Violation == nil {
		t.Fatalf("resource: %+v, %v", rres.Violation, err)
	}
	ppre, err := pl.(framework.PromptPreFetcher).PromptPreFetch(context.Background(), &framework.PromptPreFetchPayload{PromptID: "p", Args: json.RawMessage(`{"topic":"I will kill you"}`)}, pc())
	if err != nil || ppre.Violation == nil {
		t.Fatalf("prompt args: %+v, %v", ppre.Violation, err)
	}
}

func TestLongTextIsChunkedAndBounded(t *testing.T) {
	srv := standIn(t)
	pl := load(t, srv, "chunk_bytes: 1024\nmax_text_bytes: 4096")
	long := strings.Repeat("lorem ipsum ", 250) + "I will kill you"
	res := toolArgs(t, pl, `{"q":"`+long+`"}`)
	if res.Violation == nil {
		t.Fatal("a flagged phrase at the end of a long text passed")
	}
	in := srv.Requests()[0].Inputs
	if len(in) < 4 || len(in) > 5 {
		t.Fatalf("%d inputs, want the key and the text in chunks of at most 1 KiB", len(in))
	}
	// Wherever a chunk boundary falls, the phrase is seen whole in a chunk.
	for pad := 1000; pad < 1030; pad++ {
		res := toolArgs(t, pl, `{"q":"`+strings.Repeat("z", pad)+` I will kill you"}`)
		if res.Violation == nil {
			t.Fatalf("padding %d split the phrase across chunks unseen", pad)
		}
	}
	res = toolArgs(t, pl, `{"q":"`+strings.Repeat("x", 4097)+`"}`)
	if res.Violation == nil || res.Violation.Code != "MODERATION_INPUT_TOO_LARGE" {
		t.Fatalf("over max_text_bytes: %+v", res.Violation)
	}
}

func TestServiceFailures(t *testing.T) {
	srv := standIn(t)
	dead := standIn(t)
	deadURL := dead.URL
	dead.Close()
	for _, tc := range []struct {
		name  string
		fault moderationtest.Fault
		url   string
		kind  string
	}{
		{"slow", moderationtest.Fault{Delay: 5 * time.Second}, "", "timeout"},
		{"500", moderationtest.Fault{Status: 500, Body: `{"error":{"message":"The server had an error"}}`}, "", "status"},
		{"503", moderationtest.Fault{Status: 503}, "", "status"},
		{"429", moderationtest.Fault{Status: 429, Body: `{"error":{"message":"Rate limit reached"}}`}, "", "status"},
		{"connection refused", moderationtest.Fault{}, deadURL, "connection"},
		{"not JSON", moderationtest.Fault{Body: "<html>gateway</html>"}, "", "malformed"},
		{"no results", moderationtest.Fault{Body: `{"id":"modr-1","model":"m","results":[]}`}, "", "malformed"},
		{"result without scores", moderationtest.Fault{Body: `{"id":"modr-1","model":"m","results":[{"flagged":false,"categories":{}}]}`}, "", "malformed"},
		{"wrong types", moderationtest.Fault{Body: `{"results":[{"flagged":"yes","categories":{"hate":1},"category_scores":{"hate":"x"}}]}`}, "", "malformed"},
	} {
		for _, policy := range []string{"block", "allow"} {
			t.Run(tc.name+"/"+policy, func(t *testing.T) {
				srv.SetFault(tc.fault)
				defer srv.SetFault(moderationtest.Fault{})
				s := srv
				if tc.url != "" {
					s = &moderationtest.Server{URL: tc.url}
				}
				pl := load(t, s, "on_service_error: "+policy)
				start := time.Now()
				res := toolArgs(t, pl, `{"q":"I will kill you"}`)
				if el := time.Since(start); el > 3500*time.Millisecond {
					t.Fatalf("took %v: a slow service must not hold the call past the client's timeouts", el)
				}
				if policy == "allow" {
					if res.Violation != nil || res.Metadata["service_error"] != tc.kind {
						t.Fatalf("allow: violation %+v, metadata %v", res.Violation, res.Metadata)
					}
					return
				}
				v := res.Violation
				if v == nil || v.Code != "MODERATION_ERROR" || v.Details["service_error"] != tc.kind {
					t.Fatalf("block: violation %+v, want MODERATION_ERROR %s", v, tc.kind)
				}
				if strings.Contains(fmt.Sprint(v), "127.0.0.1") || strings.Contains(fmt.Sprint(v), apiKey) {
					t.Fatalf("the violation shows the service's address or key: %+v", v)
				}
			})
		}
	}
	// A wrong key is refused by the service: a status error, not retried.
	other, err := moderationtest.New("sk-other")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	res := toolArgs(t, load(t, other, ""), `{"q":"hello"}`)
	if res.Violation == nil || res.Violation.Details["status"] != http.StatusUnauthorized || len(other.Requests()) != 0 {
		t.Fatalf("401: %+v", res.Violation)
	}
}

func TestVerdictsAreCached(t *testing.T) {
	srv := standIn(t)
	pl := load(t, srv, "")
	for range 3 {
		if toolArgs(t, pl, `{"q":"I will kill you"}`).Violation == nil {
			t.Fatal("not blocked")
		}
	}
	toolArgs(t, pl, `{"q":"something else"}`)
	if n := len(srv.Requests()); n != 2 {
		t.Fatalf("%d requests for two distinct texts", n)
	}
	nocache := load(t, srv, "http: {cache: {size: 0}}")
	toolArgs(t, nocache, `{"q":"I will kill you"}`)
	toolArgs(t, nocache, `{"q":"I will kill you"}`)
	if n := len(srv.Requests()); n != 4 {
		t.Fatalf("cache off: %d requests, want 4", n)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ config, want string }{
		{"block_categories: [violent]", `config.block_categories[0]: unknown category "violent"`},
		{"thresholds: {hate: 1.5}", "config.thresholds.hate: 1.5 is not in (0, 1]"},
		{"thresholds: {spam: 0.5}", "config.thresholds.spam: unknown category"},
		{"on_service_error: warn", `config.on_service_error: "warn" is not one of block, allow`},
		{"base_url: ftp://x", "config.base_url"},
		{"api_key_file: /k", "api_key_env and api_key_file exclude each other"},
		{"model: ''", "config.model: must not be empty"},
		{"chunk_bytes: 10", "chunk_bytes must be at least 256"},
		{"http: {timeout: 0s}", "config.timeout: must be positive"},
		{"http: {retry: {}}", `unknown key "retry"`},
		{"apikey: x", `unknown key "apikey"`},
	} {
		t.Run(tc.config, func(t *testing.T) {
			_, err := plugintest.Instantiate(plugintest.BlockPolicy("mod", "openai_moderation", tc.config))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	// The key is read when the plugin starts: a missing variable fails it.
	pl := plugintest.Load(t, plugintest.BlockPolicy("mod", "openai_moderation", "api_key_env: MODERATION_TEST_UNSET"))
	if err := pl.(framework.Initializer).Initialize(context.Background()); err == nil || !strings.Contains(err.Error(), "MODERATION_TEST_UNSET") {
		t.Fatalf("missing key: %v", err)
	}
}

func TestKindDocumentsDefaults(t *testing.T) {
	got := plugintest.KindDefaults(t, "openai_moderation")
	if got["base_url"] != "https://api.openai.com/v1" || got["model"] != "omni-moderation-latest" || got["on_service_error"] != "block" || got["api_key_env"] != "OPENAI_API_KEY" {
		t.Fatalf("defaults = %v", got)
	}
}

func TestContextForgeEntry(t *testing.T) {
	srv := standIn(t)
	entry := func(config string) string {
		return `plugins:
  - name: ContentModeration
    kind: plugins.content_moderation.content_moderation.ContentModerationPlugin
    hooks: ["prompt_pre_fetch", "tool_pre_invoke", "tool_post_invoke"]
    mode: enforce
    config:
` + config
	}
	openai := `      provider: openai
      openai:
        api_key: "` + apiKey + `"
        api_base: "` + srv.URL + `"
        model: omni-moderation-latest
        timeout: 1
`
	pl := plugintest.Load(t, entry(openai+`      categories:
        violence: {threshold: 0.8, action: block}
        harassment: {threshold: 0.7, action: warn}
        profanity: {threshold: 0.6, action: redact}
`))
	if err := pl.(framework.Initializer).Initialize(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v := toolArgs(t, pl, `{"q":"I will kill you"}`).Violation; v == nil || !slices.Equal(categories(v), []string{"violence"}) {
		t.Fatalf("block action: %+v", v)
	}
	if res := toolArgs(t, pl, `{"q":"you are worthless"}`); res.Violation != nil {
		t.Fatalf("warn action blocked: %+v", res.Violation)
	}
	if r := srv.Requests(); r[len(r)-1].Authorization != "Bearer "+apiKey {
		t.Fatalf("the entry's key was not sent: %+v", r[len(r)-1])
	}
	// Default categories: hate, violence and self_harm block.
	pl = plugintest.Load(t, entry(openai))
	_ = pl.(framework.Initializer).Initialize(context.Background())
	if v := toolArgs(t, pl, `{"q":"I want to hurt myself"}`).Violation; v == nil {
		t.Fatal("ContextForge's default self_harm: block not honoured")
	}
	for _, tc := range []struct{ config, want string }{
		{"      provider: ibm_granite\n", `config.provider: "ibm_granite" is not served by openai_moderation`},
		{openai + "      fallback_provider: ibm_watson\n", "config.fallback_provider"},
		{openai + "      categories:\n        hate: {action: redact}\n", `config.categories.hate.action: "redact" cannot be honoured`},
		{"      provider: openai\n", "config.openai.api_key: required"},
		{openai + "      no_such: 1\n", `unknown key "no_such"`},
	} {
		if _, err := plugintest.Instantiate(entry(tc.config)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.config, err, tc.want)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	srv := standIn(t)
	pl := load(t, srv, "").(framework.ToolPreInvoker)
	errs := make(chan string, 8)
	for i := range 8 {
		go func() {
			for j := range 20 {
				bad := (i+j)%2 == 0
				text := fmt.Sprintf("note %d", j%5)
				if bad {
					text = "I will kill you " + text
				}
				res, err := pl.ToolPreInvoke(context.Background(), &framework.ToolPreInvokePayload{Args: json.RawMessage(`{"q":"` + text + `"}`)}, pc())
				if err != nil || (res.Violation != nil) != bad {
					errs <- text
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
