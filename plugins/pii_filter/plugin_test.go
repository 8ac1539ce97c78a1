package piifilter

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
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
	pl, err := plugintest.Instantiate(plugintest.BlockPolicy("pii", "pii_filter", config))
	if err != nil {
		return nil, err
	}
	return pl.(*Plugin), nil
}

func mustLoad(t *testing.T, config string) *Plugin {
	t.Helper()
	return plugintest.Load(t, plugintest.BlockPolicy("pii", "pii_filter", config)).(*Plugin)
}

func TestHooksReachEveryString(t *testing.T) {
	p := mustLoad(t, "")
	ctx := context.Background()
	pc := &framework.PluginContext{Global: &framework.GlobalContext{RequestID: "r1"}}

	args := json.RawMessage(`{"user":{"email":"john@example.com","tags":["ok","SSN 123-45-6789"]},"n":7,"note":"nothing here"}`)
	wantArgs := `{"user":{"email":"[REDACTED]","tags":["ok","SSN [REDACTED]"]},"n":7,"note":"nothing here"}`
	r1, err := p.ToolPreInvoke(ctx, &framework.ToolPreInvokePayload{Name: "t", Args: args, Headers: map[string]string{"x": "y"}}, pc)
	if err != nil || r1.ModifiedPayload == nil || string(r1.ModifiedPayload.Args) != wantArgs || r1.ModifiedPayload.Name != "t" || r1.ModifiedPayload.Headers["x"] != "y" {
		t.Fatalf("tool_pre_invoke: %+v %v", r1.ModifiedPayload, err)
	}
	r2, err := p.PromptPreFetch(ctx, &framework.PromptPreFetchPayload{PromptID: "p", Args: args}, pc)
	if err != nil || r2.ModifiedPayload == nil || string(r2.ModifiedPayload.Args) != wantArgs || r2.ModifiedPayload.PromptID != "p" {
		t.Fatalf("prompt_pre_fetch: %+v %v", r2.ModifiedPayload, err)
	}

	result := json.RawMessage(`{"content":[` +
		`{"type":"text","text":"call (555) 123-4567"},` +
		`{"type":"image","data":"NDExMSAxMTExIDExMTEgMTExMQ==","mimeType":"image/png"},` +
		`{"type":"resource","resource":{"uri":"file:///a","text":"ip 10.0.0.1","mimeType":"text/plain"}}],` +
		`"structuredContent":{"rows":[{"card":"4111111111111111"}]},"isError":false}`)
	wantResult := `{"content":[` +
		`{"type":"text","text":"call [REDACTED]"},` +
		`{"type":"image","data":"NDExMSAxMTExIDExMTEgMTExMQ==","mimeType":"image/png"},` +
		`{"type":"resource","resource":{"uri":"file:///a","text":"ip [REDACTED]","mimeType":"text/plain"}}],` +
		`"structuredContent":{"rows":[{"card":"[REDACTED]"}]},"isError":false}`
	r3, err := p.ToolPostInvoke(ctx, &framework.ToolPostInvokePayload{Name: "t", Result: result}, pc)
	if err != nil || r3.ModifiedPayload == nil || string(r3.ModifiedPayload.Result) != wantResult {
		t.Fatalf("tool_post_invoke: %s %v", r3.ModifiedPayload.Result, err)
	}
	if r3.Metadata["pii_count"] != 3 || fmt.Sprint(r3.Metadata["pii_types"]) != "[credit_card ip_address phone]" {
		t.Fatalf("metadata: %v", r3.Metadata)
	}

	prompt := json.RawMessage(`{"description":"d","messages":[{"role":"user","content":{"type":"text","text":"me: a@b.io"}}]}`)
	r4, err := p.PromptPostFetch(ctx, &framework.PromptPostFetchPayload{PromptID: "p", Result: prompt}, pc)
	if err != nil || r4.ModifiedPayload == nil || !strings.Contains(string(r4.ModifiedPayload.Result), `"text":"me: [REDACTED]"`) {
		t.Fatalf("prompt_post_fetch: %+v %v", r4.ModifiedPayload, err)
	}

	contents := json.RawMessage(`{"contents":[{"uri":"file:///x","text":"ssn 123-45-6789"},{"uri":"file:///y","blob":"MTIzLTQ1LTY3ODk="}]}`)
	r5, err := p.ResourcePostFetch(ctx, &framework.ResourcePostFetchPayload{URI: "file:///x", Content: contents}, pc)
	if err != nil || r5.ModifiedPayload == nil || string(r5.ModifiedPayload.Content) != `{"contents":[{"uri":"file:///x","text":"ssn [REDACTED]"},{"uri":"file:///y","blob":"MTIzLTQ1LTY3ODk="}]}` {
		t.Fatalf("resource_post_fetch: %+v %v", r5.ModifiedPayload, err)
	}
	if r5.ModifiedPayload.URI != "file:///x" {
		t.Fatal("uri lost")
	}
}

func TestNothingFoundLeavesPayloadAlone(t *testing.T) {
	p := mustLoad(t, "")
	for _, raw := range []string{``, `{}`, `{"content":[{"type":"text","text":"all clear, 42 items, version 1.2.3.4.5"}]}`} {
		res, err := p.ToolPostInvoke(context.Background(), &framework.ToolPostInvokePayload{Result: json.RawMessage(raw)}, nil)
		if err != nil || res.ModifiedPayload != nil || res.Violation != nil || res.Metadata != nil {
			t.Fatalf("%q: %+v %v", raw, res, err)
		}
	}
}

func TestBlockOnDetection(t *testing.T) {
	secret := []string{"123-45-6789", "john@example.com", "4111111111111111"}
	result := json.RawMessage(`{"content":[{"type":"text","text":"SSN 123-45-6789"},{"type":"text","text":"mail john@example.com"}],"structuredContent":{"card":"4111111111111111"}}`)
	tests := []struct {
		name    string
		config  string
		details string
		desc    string
	}{
		{"with details", "block_on_detection: true",
			`{"count":3,"fields":["$.content[0].text","$.content[1].text","$.structuredContent.card"],"types":["credit_card","email","ssn"]}`,
			"personally identifiable information found in the tool result: credit_card, email, ssn"},
		{"without details", "block_on_detection: true\ninclude_detection_details: false",
			`{"count":3}`, "personally identifiable information found in the tool result"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustLoad(t, tt.config)
			res, err := p.ToolPostInvoke(context.Background(), &framework.ToolPostInvokePayload{Name: "t", Result: result}, nil)
			if err != nil || res.Violation == nil || res.ModifiedPayload != nil {
				t.Fatalf("%+v %v", res, err)
			}
			v := res.Violation
			details, _ := json.Marshal(v.Details)
			if v.Code != CodePIIDetected || v.Reason != "PII detected" || v.Description != tt.desc || string(details) != tt.details {
				t.Fatalf("violation: %+v details %s", v, details)
			}
			all, _ := json.Marshal(v)
			for _, s := range secret {
				if bytes.Contains(all, []byte(s)) {
					t.Fatalf("violation holds the value %q: %s", s, all)
				}
			}
		})
	}
}

// Detections are logged through the server's logger (the Manager's), never
// slog.Default, with the plugin's name.
func TestLogDetections(t *testing.T) {
	var buf, stray bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&stray, nil)))
	defer slog.SetDefault(old)
	run := func(config string) {
		t.Helper()
		cfg, _, err := framework.Parse([]byte(plugintest.BlockPolicy("pii", "pii_filter", config)), "p.yaml", framework.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		m, err := framework.NewManager(context.Background(), cfg, framework.WithLogger(slog.New(slog.NewJSONHandler(&buf, nil))))
		if err != nil {
			t.Fatal(err)
		}
		defer m.Shutdown(context.Background())
		m.ToolPreInvoke(context.Background(), &framework.ToolPreInvokePayload{Args: json.RawMessage(`{"q":"SSN 123-45-6789 and a@b.com"}`)},
			framework.NewContextTable(framework.GlobalContext{RequestID: "req-9"}))
	}
	run("")
	if stray.Len() > 0 {
		t.Fatalf("the plugin logged through slog.Default: %s", stray.String())
	}
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	if rec["msg"] != "PII detected" || rec["plugin"] != "pii" || rec["hook"] != "tool_pre_invoke" || rec["request_id"] != "req-9" ||
		rec["action"] != "masked" || rec["count"] != 2.0 || fmt.Sprint(rec["counts"]) != "map[email:1 ssn:1]" || fmt.Sprint(rec["fields"]) != "[$.q]" {
		t.Fatalf("log record: %s", buf.String())
	}
	if strings.Contains(buf.String(), "6789") || strings.Contains(buf.String(), "a@b.com") {
		t.Fatalf("log holds a value: %s", buf.String())
	}

	buf.Reset()
	run("log_detections: false")
	if strings.Contains(buf.String(), "PII detected") {
		t.Fatalf("log_detections: false still logs: %s", buf.String())
	}
}

func TestConfigLoads(t *testing.T) {
	tests := []struct {
		name   string
		config string
		check  func(*Plugin) bool
	}{
		{"defaults", "", func(p *Plugin) bool {
			c := p.cfg
			return c.DetectSSN && c.DetectCreditCard && c.DetectEmail && c.DetectPhone && c.DetectIPAddress && c.DetectAWSKeys && c.DetectAPIKeys &&
				!c.DetectDateOfBirth && c.MaskStrategy == MaskRedact && c.RedactionText == "[REDACTED]" && !c.BlockOnDetection && c.LogDetections && c.IncludeDetectionDetails
		}},
		{"mask_strategy", "mask_strategy: hash", func(p *Plugin) bool { return p.cfg.MaskStrategy == MaskHash }},
		{"ContextForge block", `
detect_ssn: true
detect_bsn: false
detect_credit_card: true
detect_email: true
detect_phone: true
detect_ip_address: true
detect_date_of_birth: false
detect_passport: false
detect_driver_license: false
detect_bank_account: false
detect_medical_record: false
detect_aws_keys: true
detect_api_keys: true
default_mask_strategy: "partial"
redaction_text: "[PII_REDACTED]"
block_on_detection: false
log_detections: true
include_detection_details: true
custom_patterns:
  - type: "custom"
    pattern: "\\bEMP\\d{6}\\b"
    description: "Employee ID"
    mask_strategy: "redact"
    enabled: true
whitelist_patterns:
  - "test@example.com"
  - "555-555-5555"`, func(p *Plugin) bool {
			return p.cfg.MaskStrategy == MaskPartial && p.cfg.RedactionText == "[PII_REDACTED]" && len(p.det.custom) == 1 && len(p.det.whitelist) == 2
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if p := mustLoad(t, tt.config); !tt.check(p) {
				t.Fatalf("%+v", p.cfg)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct{ config, want string }{
		{"mask_strategy: scramble", "config.mask_strategy"},
		{"default_mask_strategy: scramble", "config.mask_strategy"},
		{"detect_ssn: maybe", "plugins[0].config.detect_ssn"},
		{"detect_everything: true", `unknown key "detect_everything"`},
		{"mask_strategy: hash\ndefault_mask_strategy: redact", "set more than once"},
		{"whitelist_patterns: ['(']", "config.whitelist_patterns[0]: invalid regular expression"},
		{"custom_patterns: [{type: x, pattern: '[a-'}]", "config.custom_patterns[0].pattern: invalid regular expression"},
		{"custom_patterns: [{type: x, pattern: 'a*'}]", "config.custom_patterns[0].pattern: \"a*\" matches the empty string"},
		{"custom_patterns: [{pattern: 'abc'}]", "config.custom_patterns[0].type"},
		{"custom_patterns: [{type: x}]", "config.custom_patterns[0].pattern"},
		{"custom_patterns: [{type: x, pattern: abc, mask_strategy: nope}]", "config.custom_patterns[0].mask_strategy"},
		{"custom_patterns: [{type: x, pattern: abc, color: red}]", `unknown key "color"`},
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

func TestCancelledContext(t *testing.T) {
	p := mustLoad(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.ToolPostInvoke(ctx, &framework.ToolPostInvokePayload{Result: json.RawMessage(`{"content":[]}`)}, nil)
	if err == nil {
		t.Fatal("a cancelled call ran")
	}
	// Cancellation during a long scan is noticed too.
	big := `{"content":[` + strings.Repeat(`{"type":"text","text":"`+strings.Repeat("x", 4096)+`"},`, 200) + `{"type":"text","text":"a@b.com"}]}`
	_, _, _, err = p.scan(ctx, nil, textwalk.Result, []byte(big), true)
	if err == nil {
		t.Fatal("scan ignored cancellation")
	}
}

func TestConcurrentUse(t *testing.T) {
	p := mustLoad(t, "mask_strategy: tokenize")
	result := json.RawMessage(`{"content":[{"type":"text","text":"a@b.com 123-45-6789"}]}`)
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
		if o == "" || o != outs[0] {
			t.Fatalf("concurrent calls disagree: %q", outs)
		}
	}
}

func TestKindRegistered(t *testing.T) {
	for _, name := range []string{KindName, "plugins.pii_filter.pii_filter.PIIFilterPlugin", "cpex_pii_filter.PIIFilterPlugin", "PIIFilterPlugin"} {
		k, ok := framework.DefaultRegistry().Resolve(name)
		if !ok || k.Name != KindName {
			t.Fatalf("%s does not resolve", name)
		}
	}
	k, _ := framework.DefaultRegistry().Resolve(KindName)
	p := mustLoad(t, "")
	if got := framework.ImplementedHooks(p); fmt.Sprint(got) != fmt.Sprint(k.Hooks) {
		t.Fatalf("implements %v, registers %v", got, k.Hooks)
	}
}

// Binary is what MCP's schema says is binary, not any key named data or
// blob: PII under such keys in structuredContent, or in a text block, is
// text a model reads and is masked; image data and resource blobs are not
// touched; arguments shaped like a result are all text.
func TestBinaryIsDecidedBySchema(t *testing.T) {
	p := mustLoad(t, "")
	ctx := context.Background()
	pc := &framework.PluginContext{Global: &framework.GlobalContext{}}
	result := json.RawMessage(`{"content":[{"type":"text","text":"ok","data":"SSN 123-45-6789"},` +
		`{"type":"image","data":"U1NOIDEyMy00NS02Nzg5","mimeType":"image/png"}],` +
		`"structuredContent":{"blob":"SSN 123-45-6789","data":{"blob":"SSN 123-45-6789"}}}`)
	want := `{"content":[{"type":"text","text":"ok","data":"SSN [REDACTED]"},` +
		`{"type":"image","data":"U1NOIDEyMy00NS02Nzg5","mimeType":"image/png"}],` +
		`"structuredContent":{"blob":"SSN [REDACTED]","data":{"blob":"SSN [REDACTED]"}}}`
	r, err := p.ToolPostInvoke(ctx, &framework.ToolPostInvokePayload{Name: "t", Result: result}, pc)
	if err != nil || r.ModifiedPayload == nil || string(r.ModifiedPayload.Result) != want {
		t.Fatalf("tool_post_invoke: %s %v", modifiedResult(r), err)
	}
	args := json.RawMessage(`{"content":[{"type":"image","data":"SSN 123-45-6789"}]}`)
	r2, err := p.ToolPreInvoke(ctx, &framework.ToolPreInvokePayload{Name: "t", Args: args}, pc)
	if err != nil || r2.ModifiedPayload == nil || string(r2.ModifiedPayload.Args) != `{"content":[{"type":"image","data":"SSN [REDACTED]"}]}` {
		t.Fatalf("tool_pre_invoke: %+v %v", r2.ModifiedPayload, err)
	}
}

func modifiedResult(r framework.Result[framework.ToolPostInvokePayload]) string {
	if r.ModifiedPayload == nil {
		return "(unchanged)"
	}
	return string(r.ModifiedPayload.Result)
}
