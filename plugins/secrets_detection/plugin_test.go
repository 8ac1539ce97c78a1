package secretsdetection

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/findings"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/textwalk"
)

// TestMain keeps the plugin's log records (tested in TestLog*) out of the
// test output.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

// load builds a plugin from a policy's config block, as the loader does.
func load(t *testing.T, config string) (*Plugin, error) {
	t.Helper()
	pl, err := plugintest.Instantiate(plugintest.BlockPolicy("secrets", "secrets_detection", config))
	if err != nil {
		return nil, err
	}
	return pl.(*Plugin), nil
}

func mustLoad(t *testing.T, config string) *Plugin {
	t.Helper()
	return plugintest.Load(t, plugintest.BlockPolicy("secrets", "secrets_detection", config)).(*Plugin)
}

// quiet silences the plugin's log records for the test.
func quiet(t *testing.T) *bytes.Buffer {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return &buf
}

func TestEveryHookRedacts(t *testing.T) {
	quiet(t)
	p := mustLoad(t, "action: redact")
	ctx := context.Background()
	args := json.RawMessage(`{"cfg":{"tokens":["ok","` + ghToken + `"]},"n":1}`)
	wantArgs := `{"cfg":{"tokens":["ok","[SECRET_REDACTED]"]},"n":1}`

	r1, err := p.ToolPreInvoke(ctx, &framework.ToolPreInvokePayload{Name: "t", Args: args}, nil)
	if err != nil || r1.ModifiedPayload == nil || string(r1.ModifiedPayload.Args) != wantArgs || r1.ModifiedPayload.Name != "t" {
		t.Fatalf("tool_pre_invoke: %+v %v", r1.ModifiedPayload, err)
	}
	r2, err := p.PromptPreFetch(ctx, &framework.PromptPreFetchPayload{PromptID: "p", Args: args}, nil)
	if err != nil || r2.ModifiedPayload == nil || string(r2.ModifiedPayload.Args) != wantArgs {
		t.Fatalf("prompt_pre_fetch: %+v %v", r2.ModifiedPayload, err)
	}
	result := json.RawMessage(`{"content":[{"type":"text","text":"key ` + stripeLive + `"},` +
		`{"type":"image","data":"` + randBase64 + `","mimeType":"image/png"},` +
		`{"type":"resource","resource":{"uri":"file:///k","text":"` + strings.ReplaceAll(pemKey, "\n", `\n`) + `"}}],` +
		`"structuredContent":{"env":{"GOOGLE_KEY":"` + googleKey + `"}}}`)
	r3, err := p.ToolPostInvoke(ctx, &framework.ToolPostInvokePayload{Name: "t", Result: result}, nil)
	want3 := `{"content":[{"type":"text","text":"key [SECRET_REDACTED]"},` +
		`{"type":"image","data":"` + randBase64 + `","mimeType":"image/png"},` +
		`{"type":"resource","resource":{"uri":"file:///k","text":"[SECRET_REDACTED]"}}],` +
		`"structuredContent":{"env":{"GOOGLE_KEY":"[SECRET_REDACTED]"}}}`
	if err != nil || r3.ModifiedPayload == nil || string(r3.ModifiedPayload.Result) != want3 {
		t.Fatalf("tool_post_invoke: %s %v", r3.ModifiedPayload.Result, err)
	}
	if r3.Metadata["secrets_count"] != 3 || r3.Metadata["secrets_redacted"] != true {
		t.Fatalf("metadata: %v", r3.Metadata)
	}
	prompt := json.RawMessage(`{"messages":[{"role":"assistant","content":{"type":"text","text":"use ` + jwt + `"}}]}`)
	r4, err := p.PromptPostFetch(ctx, &framework.PromptPostFetchPayload{PromptID: "p", Result: prompt}, nil)
	if err != nil || r4.ModifiedPayload == nil || string(r4.ModifiedPayload.Result) != `{"messages":[{"role":"assistant","content":{"type":"text","text":"use [SECRET_REDACTED]"}}]}` {
		t.Fatalf("prompt_post_fetch: %+v %v", r4.ModifiedPayload, err)
	}
	contents := json.RawMessage(`{"contents":[{"uri":"file:///.env","text":"AWS_ACCESS_KEY_ID=` + awsKeyID + `\nAWS_SECRET_ACCESS_KEY=` + awsSecret + `"}]}`)
	r5, err := p.ResourcePostFetch(ctx, &framework.ResourcePostFetchPayload{URI: "file:///.env", Content: contents}, nil)
	if err != nil || r5.ModifiedPayload == nil || string(r5.ModifiedPayload.Content) != `{"contents":[{"uri":"file:///.env","text":"AWS_ACCESS_KEY_ID=[SECRET_REDACTED]\nAWS_SECRET_ACCESS_KEY=[SECRET_REDACTED]"}]}` {
		t.Fatalf("resource_post_fetch: %+v %v", r5.ModifiedPayload, err)
	}
	uri := "https://api.example.com/v1/data?token=" + ghToken + "&page=2"
	meta := json.RawMessage(`{"auth":{"bearer":"` + slackToken + `"},"trace":"abc"}`)
	r6, err := p.ResourcePreFetch(ctx, &framework.ResourcePreFetchPayload{URI: uri, Metadata: meta}, nil)
	if err != nil || r6.ModifiedPayload == nil || r6.ModifiedPayload.URI != "https://api.example.com/v1/data?token=[SECRET_REDACTED]&page=2" ||
		string(r6.ModifiedPayload.Metadata) != `{"auth":{"bearer":"[SECRET_REDACTED]"},"trace":"abc"}` {
		t.Fatalf("resource_pre_fetch: %+v %v", r6.ModifiedPayload, err)
	}
	if fmt.Sprint(r6.Metadata["secrets_types"]) != "[github_token slack_token]" {
		t.Fatalf("resource_pre_fetch metadata: %v", r6.Metadata)
	}
}

func TestBlockViolationShape(t *testing.T) {
	quiet(t)
	p := mustLoad(t, "")
	secrets := []string{ghToken, awsKeyID, awsSecret, jwt}
	result := json.RawMessage(`{"content":[{"type":"text","text":"` + ghToken + `"},{"type":"text","text":"` + awsKeyID + ` ` + awsSecret + `"}],"structuredContent":{"t":"` + jwt + `"}}`)
	res, err := p.ToolPostInvoke(context.Background(), &framework.ToolPostInvokePayload{Name: "t", Result: result}, nil)
	if err != nil || res.Violation == nil || res.ModifiedPayload != nil {
		t.Fatalf("%+v %v", res, err)
	}
	v := res.Violation
	details, _ := json.Marshal(v.Details)
	if v.Code != CodeSecretDetected || v.Reason != "secret detected" ||
		v.Description != "a credential was found in the tool result: aws_access_key_id, aws_secret_access_key, github_token, jwt" ||
		string(details) != `{"count":4,"fields":["$.content[0].text","$.content[1].text","$.structuredContent.t"],"types":["aws_access_key_id","aws_secret_access_key","github_token","jwt"]}` {
		t.Fatalf("violation %+v details %s", v, details)
	}
	all, _ := json.Marshal(res)
	for _, s := range secrets {
		if bytes.Contains(all, []byte(s)) || bytes.Contains(all, []byte(s[:12])) {
			t.Fatalf("result holds a secret: %s", all)
		}
	}
}

func TestResourcePreFetch(t *testing.T) {
	quiet(t)
	tests := []struct {
		name, config, uri string
		blocked           bool
		newURI            string
	}{
		{"token in query blocks", "", "https://x.test/?key=" + googleKey, true, ""},
		{"clean uri passes", "", "https://x.test/?key=value", false, ""},
		{"redacted in place", "action: redact", "https://x.test/?key=" + googleKey, false, "https://x.test/?key=[SECRET_REDACTED]"},
		{"percent-encoded secret blocks even under redact", "action: redact", "s3://b/o?creds=" + url.QueryEscape("aws_secret_access_key="+awsSecret), true, ""},
		{"log passes unchanged", "action: log", "https://x.test/?key=" + googleKey, false, ""},
		{"percent-encoded secret is only logged under log", "action: log", "s3://b/o?creds=" + url.QueryEscape("aws_secret_access_key="+awsSecret), false, ""},
		{"percent-encoded secret blocks under block", "", "s3://b/o?creds=" + url.QueryEscape("aws_secret_access_key="+awsSecret), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustLoad(t, tt.config)
			res, err := p.ResourcePreFetch(context.Background(), &framework.ResourcePreFetchPayload{URI: tt.uri}, nil)
			if err != nil || (res.Violation != nil) != tt.blocked {
				t.Fatalf("%+v %v", res, err)
			}
			if got := ""; res.ModifiedPayload != nil {
				if got = res.ModifiedPayload.URI; got != tt.newURI {
					t.Fatalf("uri %q, want %q", got, tt.newURI)
				}
			} else if tt.newURI != "" {
				t.Fatalf("not rewritten: %+v", res)
			}
		})
	}
}

func TestActionsAndContextForgeKeys(t *testing.T) {
	quiet(t)
	text := json.RawMessage(`{"a":"` + ghToken + `","b":"` + stripeLive + `"}`)
	tests := []struct {
		config                string
		blocked, rewritten    bool
		wantAction            Action
		wantSecretsInMetadata bool
	}{
		{"", true, false, ActionBlock, true},
		{"action: block", true, false, ActionBlock, true},
		{"action: redact", false, true, ActionRedact, true},
		{"action: log", false, false, ActionLog, true},
		{"block_on_detection: true", true, false, ActionBlock, true},
		{"block_on_detection: false\nredact: true", false, true, ActionRedact, true},
		{"block_on_detection: false", false, false, ActionLog, true},
		{"redact: true", true, false, ActionBlock, true}, // ContextForge: block_on_detection (default true) wins
		{"min_findings_to_block: 3", false, false, ActionBlock, true},
		{"min_findings_to_block: 2", true, false, ActionBlock, true},
	}
	for _, tt := range tests {
		t.Run(tt.config, func(t *testing.T) {
			p := mustLoad(t, tt.config)
			if p.cfg.Action != tt.wantAction {
				t.Fatalf("action %q, want %q", p.cfg.Action, tt.wantAction)
			}
			res, err := p.ToolPreInvoke(context.Background(), &framework.ToolPreInvokePayload{Args: text}, nil)
			if err != nil || (res.Violation != nil) != tt.blocked || (res.ModifiedPayload != nil) != tt.rewritten || res.Metadata["secrets_count"] != 2 {
				t.Fatalf("%+v %v", res, err)
			}
		})
	}
}

func TestConfigLoads(t *testing.T) {
	p := mustLoad(t, "")
	c := p.cfg
	if c.Action != ActionBlock || c.RedactionText != "[SECRET_REDACTED]" || c.DetectHighEntropy || c.EntropyThreshold != 4.5 ||
		c.MinEntropyLength != 20 || !c.LogDetections || c.MinFindingsToBlock != 1 {
		t.Fatalf("defaults: %+v", c)
	}
	// ContextForge's own example block.
	p = mustLoad(t, `
enabled:
  aws_access_key_id: true
  aws_secret_access_key: true
  google_api_key: true
  slack_token: true
  private_key_block: true
  jwt_like: true
  hex_secret_32: true
  base64_24: true
redact: false
redaction_text: "***REDACTED***"
block_on_detection: true
min_findings_to_block: 1`)
	if p.cfg.Action != ActionBlock || p.cfg.RedactionText != "***REDACTED***" || !p.det.entropy {
		t.Fatalf("ContextForge block: %+v", p.cfg)
	}
	// ContextForge's OpenShift profile sets one broad pattern on and the
	// other off; both are the high-entropy detector here, which is on.
	if p = mustLoad(t, "enabled: {hex_secret_32: true, base64_24: false}"); !p.det.entropy {
		t.Fatal("hex_secret_32: true must turn high-entropy detection on")
	}
	if p = mustLoad(t, "enabled: {hex_secret_32: false, base64_24: false}"); p.det.entropy {
		t.Fatal("both off must leave it off")
	}
	p = mustLoad(t, "detect_high_entropy: true\nentropy_threshold: 5\nmin_entropy_length: 32\nredaction_text: X\nlog_detections: false\nwhitelist_patterns: [EXAMPLE]\ncustom_patterns: [{type: t, pattern: 'itk_[0-9]+', description: d}]")
	if !p.det.entropy || p.det.threshold != 5 || p.det.minLen != 32 || p.cfg.RedactionText != "X" || p.cfg.LogDetections || len(p.det.whitelist) != 1 || len(p.det.custom) != 1 {
		t.Fatalf("%+v", p.cfg)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct{ config, want string }{
		{"action: quarantine", "config.action"},
		{"action: redact\nblock_on_detection: false", "config.action: set together with ContextForge's"},
		{"enabled: {aws_key: true}", "config.enabled.aws_key: unknown secret type"},
		{"enabled: {jwt: true, jwt_like: false}", "contradicts"},
		{"enabled: {github: maybe}", "plugins[0].config.enabled.github"},
		{"entropy_threshold: 0", "config.entropy_threshold"},
		{"entropy_threshold: 9", "config.entropy_threshold"},
		{"min_entropy_length: 4", "config.min_entropy_length"},
		{"min_findings_to_block: 0", "config.min_findings_to_block"},
		{"whitelist_patterns: ['(']", "config.whitelist_patterns[0]: invalid regular expression"},
		{"custom_patterns: [{type: x, pattern: '[a-'}]", "config.custom_patterns[0].pattern: invalid regular expression"},
		{"custom_patterns: [{type: x, pattern: 'a?'}]", "matches the empty string"},
		{"custom_patterns: [{pattern: abc}]", "config.custom_patterns[0].type"},
		{"custom_patterns: [{type: x, pattern: abc, mask_strategy: redact}]", `unknown key "mask_strategy"`},
		{"detect_everything: true", `unknown key "detect_everything"`},
	}
	for _, tt := range tests {
		t.Run(tt.config, func(t *testing.T) {
			_, err := load(t, tt.config)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

// Detections are logged through the server's logger (the Manager's), with
// the plugin's name, never through slog.Default.
func TestLogRecord(t *testing.T) {
	stray := quiet(t)
	buf := &bytes.Buffer{}
	run := func(config string) {
		t.Helper()
		cfg, _, err := framework.Parse([]byte(plugintest.BlockPolicy("secrets", "secrets_detection", config)), "p.yaml", framework.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		m, err := framework.NewManager(context.Background(), cfg, framework.WithLogger(slog.New(slog.NewJSONHandler(buf, nil))))
		if err != nil {
			t.Fatal(err)
		}
		defer m.Shutdown(context.Background())
		m.ToolPreInvoke(context.Background(), &framework.ToolPreInvokePayload{Args: json.RawMessage(`{"k":"` + openaiKey + `"}`)},
			framework.NewContextTable(framework.GlobalContext{RequestID: "req-1"}))
	}
	run("action: redact")
	if stray.Len() > 0 {
		t.Fatalf("the plugin logged through slog.Default: %s", stray)
	}
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("%v: %s", err, buf)
	}
	if rec["msg"] != "secrets detected" || rec["level"] != "WARN" || rec["plugin"] != "secrets" || rec["action"] != "redact" || rec["request_id"] != "req-1" ||
		fmt.Sprint(rec["counts"]) != "map[openai_api_key:1]" || fmt.Sprint(rec["fields"]) != "[$.k]" || strings.Contains(buf.String(), openaiKey[:10]) {
		t.Fatalf("log record: %s", buf)
	}
	buf.Reset()
	run("log_detections: false")
	if strings.Contains(buf.String(), "secrets detected") {
		t.Fatalf("log_detections: false still logs: %s", buf)
	}
}

func TestNothingFound(t *testing.T) {
	p := mustLoad(t, "action: redact\ndetect_high_entropy: true")
	result := json.RawMessage(`{"content":[{"type":"text","text":"request ` + uuid + ` digest ` + sha256Hex + ` ok"}]}`)
	res, err := p.ToolPostInvoke(context.Background(), &framework.ToolPostInvokePayload{Result: result}, nil)
	if err != nil || res.ModifiedPayload != nil || res.Violation != nil || res.Metadata != nil {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestCancelled(t *testing.T) {
	p := mustLoad(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.ResourcePreFetch(ctx, &framework.ResourcePreFetchPayload{URI: "x"}, nil); err == nil {
		t.Fatal("cancelled call ran")
	}
	big := `{"content":[` + strings.Repeat(`{"type":"text","text":"`+strings.Repeat("y", 4096)+`"},`, 100) + `{"type":"text","text":"z"}]}`
	if _, _, err := p.scan(ctx, nil, textwalk.Result, []byte(big), false, "$", &findings.Report{}); err == nil {
		t.Fatal("scan ignored cancellation")
	}
}

func TestConcurrentUse(t *testing.T) {
	quiet(t)
	p := mustLoad(t, "action: redact")
	result := json.RawMessage(`{"content":[{"type":"text","text":"` + ghToken + ` ` + jwt + `"}]}`)
	var wg sync.WaitGroup
	outs := make([]string, 16)
	for i := range outs {
		wg.Go(func() {
			res, err := p.ToolPostInvoke(context.Background(), &framework.ToolPostInvokePayload{Result: result}, nil)
			if err == nil && res.ModifiedPayload != nil {
				outs[i] = string(res.ModifiedPayload.Result)
			}
		})
	}
	wg.Wait()
	for _, o := range outs {
		if o != `{"content":[{"type":"text","text":"[SECRET_REDACTED] [SECRET_REDACTED]"}]}` {
			t.Fatalf("concurrent calls: %q", outs)
		}
	}
}

func TestKindRegistered(t *testing.T) {
	for _, name := range []string{KindName, "plugins.secrets_detection.secrets_detection.SecretsDetectionPlugin", "SecretsDetection"} {
		if k, ok := framework.DefaultRegistry().Resolve(name); !ok || k.Name != KindName {
			t.Fatalf("%s does not resolve", name)
		}
	}
	k, _ := framework.DefaultRegistry().Resolve(KindName)
	if got := framework.ImplementedHooks(mustLoad(t, "")); fmt.Sprint(got) != fmt.Sprint(k.Hooks) || len(got) != 6 {
		t.Fatalf("implements %v, registers %v", got, k.Hooks)
	}
}
