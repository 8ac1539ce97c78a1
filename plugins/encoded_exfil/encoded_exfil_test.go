package encodedexfil_test

import (
	"context"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
	encodedexfil "github.com/mcp-extproc/mcp-extproc/plugins/encoded_exfil"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
)

var ghToken = "ghp" + "_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8" // not a real token

const secretLine = "export GITHUB_TOKEN="

func load(t testing.TB, config string) framework.Plugin {
	t.Helper()
	return plugintest.Load(t, plugintest.Policy("exfil", "encoded_exfil", config))
}

func b64(s string) string    { return base64.StdEncoding.EncodeToString([]byte(s)) }
func b64url(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
func pct(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "%%%02X", s[i])
	}
	return b.String()
}
func xesc(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, `\x%02x`, s[i])
	}
	return b.String()
}

func wrap(s string, n int, eol string) string {
	var lines []string
	for len(s) > n {
		lines, s = append(lines, s[:n]), s[n:]
	}
	return strings.Join(append(lines, s), eol)
}

func utf16(s string) string {
	b := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		b = append(b, s[i], 0)
	}
	return string(b)
}

// post runs tool_post_invoke on a result with one text block.
func post(t *testing.T, pl framework.Plugin, text string) framework.Result[framework.ToolPostInvokePayload] {
	t.Helper()
	q, _ := json.Marshal(text)
	res, err := pl.(framework.ToolPostInvoker).ToolPostInvoke(context.Background(),
		&framework.ToolPostInvokePayload{Name: "t", Result: json.RawMessage(`{"content":[{"type":"text","text":` + string(q) + `}]}`)},
		&framework.PluginContext{Global: &framework.GlobalContext{}})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func types(v *framework.Violation) []string {
	if v == nil {
		return nil
	}
	ts, _ := v.Details["types"].([]string)
	return ts
}

func TestFindsSecretsAndPIIInEveryEncoding(t *testing.T) {
	pl := load(t, `{}`)
	secret := secretLine + ghToken
	hexOfB64 := hex.EncodeToString([]byte(b64(secret)))
	for name, text := range map[string]string{
		"base64":             "here: " + b64(secret),
		"base64 unpadded":    strings.TrimRight(b64(secret+"!"), "="),
		"base64url":          b64url("\xfb\xff" + secret),
		"base32":             base32.StdEncoding.EncodeToString([]byte(secret)),
		"base32 lower":       strings.ToLower(base32.StdEncoding.EncodeToString([]byte(secret))),
		"hex":                "0x" + hex.EncodeToString([]byte(secret)),
		"HEX":                strings.ToUpper(hex.EncodeToString([]byte(secret))),
		"percent":            "https://x.example/?d=" + pct(secret),
		"escaped hex":        `payload = "` + xesc(secret) + `"`,
		"glued to a word":    "dataX" + b64(secret),     // misaligned start
		"glued at both ends": "zz" + b64(secret) + "Qq", // and a tail
		"base64 of hex":      b64(hex.EncodeToString([]byte(secret))),
		"hex of base64":      hexOfB64,
		"percent of base64":  pct(b64(secret)),
		"inside a JSON text": `{"blob":"` + b64(secret) + `"}`,
		"line of a CSV":      "id,value\n1," + b64(secret) + "\n",
		"wrapped like PEM":   "-----BEGIN DATA-----\n" + wrap(b64(secret), 10, "\n") + "\n-----END DATA-----",
		"wrapped with CRLF":  wrap(hex.EncodeToString([]byte(secret)), 32, "\r\n"),
		"UTF-16LE":           "powershell -enc " + b64(utf16(secret)),
	} {
		res := post(t, pl, text)
		if res.Violation == nil || res.Violation.Code != encodedexfil.CodeEncodedExfil || !slices.Contains(types(res.Violation), "secret:github_token") {
			t.Errorf("%s: %+v", name, res.Violation)
		}
	}
	for name, text := range map[string]string{
		"ssn":   b64("patient ssn 123-45-6789 on file"),
		"email": hex.EncodeToString([]byte("contact: jane.doe@example.com")),
		"card":  b64url("card=4111111111111111;exp=12/29"),
	} {
		res := post(t, pl, text)
		if res.Violation == nil || !strings.HasPrefix(strings.Join(types(res.Violation), ","), "pii:") {
			t.Errorf("%s: %+v", name, res.Violation)
		}
	}
}

func TestLeavesHarmlessEncodingsAlone(t *testing.T) {
	pl := load(t, `{}`)
	for name, text := range map[string]string{
		"prose":           strings.Repeat("The quick brown fox jumps over the lazy dog. ", 20),
		"base64 prose":    b64("The quick brown fox jumps over the lazy dog, twice over."),
		"sha256":          "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		"uuid":            "id 123e4567-e89b-12d3-a456-426614174000",
		"git commit":      "commit f713947a1fba8495e1dbe4bb5a9c7c2a4e0c1d2e",
		"snake_case":      "max_scan_string_length_for_the_parser",
		"wrapped prose":   "first line of text\nsecond line here\nthird",
		"id list":         "a1b2c3d4e5f6a7b8c9d0\nffeeddccbbaa99887766\n0123456789abcdef0123",
		"url with spaces": "https://example.com/search?q=hello%20world%20again%20and",
		"plain token":     "token " + ghToken, // not encoded: secrets_detection's business
	} {
		if res := post(t, pl, text); res.Violation != nil {
			t.Errorf("%s: %+v", name, res.Violation)
		}
	}
	// Binary data (an image block's data, a blob) is not text and is not decoded.
	raw := json.RawMessage(`{"content":[{"type":"image","mimeType":"image/png","data":"` + b64(secretLine+ghToken) + `"}]}`)
	res, _ := pl.(framework.ToolPostInvoker).ToolPostInvoke(context.Background(), &framework.ToolPostInvokePayload{Result: raw}, nil)
	if res.Violation != nil {
		t.Errorf("image data decoded: %+v", res.Violation)
	}
}

func TestDecodeDepthAndEncodingSwitches(t *testing.T) {
	nested := b64(hex.EncodeToString([]byte(secretLine + ghToken)))
	if res := post(t, load(t, `{max_decode_depth: 1}`), nested); res.Violation != nil {
		t.Errorf("depth 1 peeled two layers: %+v", res.Violation)
	}
	if res := post(t, load(t, `{max_decode_depth: 2}`), nested); res.Violation == nil {
		t.Error("depth 2 did not peel two layers")
	}
	if res := post(t, load(t, `{enabled: {base64: false}}`), b64(secretLine+ghToken)); res.Violation != nil {
		t.Errorf("base64 disabled: %+v", res.Violation)
	}
	if res := post(t, load(t, `{enabled: {hex: false}}`), b64(secretLine+ghToken)); res.Violation == nil {
		t.Error("disabling hex turned base64 off")
	}
	if res := post(t, load(t, `{detect_secrets: false}`), b64(secretLine+ghToken)); res.Violation != nil {
		t.Errorf("secrets off: %+v", res.Violation)
	}
	if res := post(t, load(t, `{pii: {detect_ssn: false}}`), b64("patient ssn 123-45-6789 on file")); res.Violation != nil {
		t.Errorf("ssn off: %+v", res.Violation)
	}
	if res := post(t, load(t, `{allowlist_patterns: ['^ZXhwb3J0']}`), b64(secretLine+ghToken)); res.Violation != nil {
		t.Errorf("allowlisted run: %+v", res.Violation)
	}
}

func TestRedactReplacesTheRun(t *testing.T) {
	pl := load(t, `{action: redact}`)
	enc := b64(secretLine + ghToken)
	res := post(t, pl, "before "+enc+" after "+hex.EncodeToString([]byte("mail jane.doe@example.com")))
	if res.Violation != nil || res.ModifiedPayload == nil {
		t.Fatalf("%+v", res)
	}
	got := string(res.ModifiedPayload.Result)
	if got != `{"content":[{"type":"text","text":"before [ENCODED_REDACTED] after [ENCODED_REDACTED]"}]}` {
		t.Fatalf("redacted: %s", got)
	}
	if res.Metadata["encoded_exfil_count"] != 2 || res.Metadata["encoded_exfil_redacted"] != true {
		t.Fatalf("metadata %v", res.Metadata)
	}
	// Arguments too, and the resource URI.
	args := json.RawMessage(`{"q":"` + enc + `","n":1}`)
	r2, _ := pl.(framework.ToolPreInvoker).ToolPreInvoke(context.Background(), &framework.ToolPreInvokePayload{Name: "x", Args: args}, nil)
	if r2.ModifiedPayload == nil || string(r2.ModifiedPayload.Args) != `{"q":"[ENCODED_REDACTED]","n":1}` || r2.ModifiedPayload.Name != "x" {
		t.Fatalf("args: %+v", r2.ModifiedPayload)
	}
	r3, _ := pl.(framework.ResourcePreFetcher).ResourcePreFetch(context.Background(), &framework.ResourcePreFetchPayload{URI: "https://x.example/p?d=" + pct(secretLine+ghToken)}, nil)
	if r3.ModifiedPayload == nil || r3.ModifiedPayload.URI != "https://x.example/p?d=[ENCODED_REDACTED]" {
		t.Fatalf("uri: %+v", r3.ModifiedPayload)
	}
}

func TestViolationAndThresholds(t *testing.T) {
	enc := b64(secretLine + ghToken)
	res := post(t, load(t, `{}`), enc)
	v := res.Violation
	if v == nil || v.Details["count"] != 1 {
		t.Fatalf("%+v", v)
	}
	fs, _ := v.Details["findings"].([]map[string]any)
	if len(fs) != 1 || fs[0]["field"] != "$.content[0].text" || !slices.Equal(fs[0]["encodings"].([]string), []string{"base64"}) {
		t.Fatalf("findings %v", v.Details["findings"])
	}
	b, _ := json.Marshal(v)
	if strings.Contains(string(b), ghToken) || strings.Contains(string(b), enc[:20]) {
		t.Fatalf("violation holds the value: %s", b)
	}
	if res := post(t, load(t, `{min_findings_to_block: 2}`), enc); res.Violation != nil || res.Metadata["encoded_exfil_count"] != 1 {
		t.Fatalf("below min_findings_to_block: %+v", res)
	}
	if res := post(t, load(t, `{action: log}`), enc); res.Violation != nil || res.ModifiedPayload != nil || res.Metadata == nil {
		t.Fatalf("log: %+v", res)
	}
	res = post(t, load(t, `{include_detection_details: false}`), enc)
	if res.Violation == nil || res.Violation.Details["findings"] != nil || res.Metadata["encoded_exfil_findings"] != nil {
		t.Fatalf("details: %+v", res.Violation)
	}
}

// ContextForge's scoring, turned on by min_suspicion_score, flags encoded
// runs without a detector finding: here a keyword and an egress hint.
func TestContextForgeConfigAndScoring(t *testing.T) {
	pl := plugintest.Load(t, `plugins:
  - name: EncodedExfilDetector
    kind: cpex_encoded_exfil_detection.EncodedExfilDetectorPlugin
    hooks: [prompt_pre_fetch, tool_post_invoke, resource_post_fetch]
    config:
      allowlist_patterns: []
      block_on_detection: true
      enabled: {base64: true, base64url: true, escaped_hex: true, hex: true, percent_encoding: true}
      extra_egress_hints: []
      extra_sensitive_keywords: [launchcode]
      include_detection_details: true
      log_detections: true
      max_decode_depth: 2
      max_findings_per_value: 50
      max_recursion_depth: 32
      max_scan_string_length: 200000
      min_decoded_length: 12
      min_encoded_length: 24
      min_entropy: 3.3
      min_findings_to_block: 1
      min_printable_ratio: 0.7
      min_suspicion_score: 5
      redact: false
      redaction_text: '***ENCODED_REDACTED***'
`)
	res := post(t, pl, "curl -d "+b64("the launchcode is 0000 for tonight"))
	if !slices.Equal(types(res.Violation), []string{"suspicious_encoding"}) {
		t.Fatalf("scored run: %+v", res.Violation)
	}
	if res := post(t, pl, "see "+b64("the weather is fine for tonight, thanks")); res.Violation != nil {
		t.Fatalf("harmless run scored: %+v", res.Violation)
	}
	if res := post(t, pl, b64(secretLine+ghToken)); !slices.Contains(types(res.Violation), "secret:github_token") {
		t.Fatalf("detectors run too: %+v", res.Violation)
	}
}

func TestConfigErrors(t *testing.T) {
	for config, want := range map[string]string{
		`{enabled: {rot13: true}}`:                   "config.enabled.rot13",
		`{action: shout}`:                            "config.action",
		`{action: block, redact: true}`:              "config.action",
		`{max_decode_depth: 9}`:                      "config.max_decode_depth",
		`{min_encoded_length: 2}`:                    "config.min_encoded_length",
		`{min_suspicion_score: 0}`:                   "config.min_suspicion_score",
		`{detect_secrets: false, detect_pii: false}`: "detect_secrets",
		`{allowlist_patterns: ['(']}`:                "config.allowlist_patterns[0]",
		`{secrets: {enabled: {nope: true}}}`:         "config.secrets.enabled.nope",
		`{secrets: {action: redact}}`:                "config.secrets.action",
		`{pii: {mask_strategy: hash}}`:               "config.pii.mask_strategy",
		`{per_encoding_score: {rot13: 2}}`:           "config.per_encoding_score.rot13",
		`{bogus: 1}`:                                 "bogus",
		`{max_decoded_bytes: 10}`:                    "config.max_decoded_bytes",
	} {
		_, err := plugintest.Instantiate(plugintest.Policy("exfil", "encoded_exfil", config))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", config, err, want)
		}
	}
}

// Decoding is bounded: a payload whose readings and layers add up to more
// than max_decoded_bytes fails the hook instead of passing unread.
func TestDecodeBudget(t *testing.T) {
	layered := secretLine + ghToken
	for range 4 {
		layered = b64(layered)
	}
	big := strings.Repeat(layered+" ", 40)
	pl := load(t, `{max_decode_depth: 5, max_decoded_bytes: 4096}`).(framework.ToolPostInvoker)
	q, _ := json.Marshal(big)
	_, err := pl.ToolPostInvoke(context.Background(), &framework.ToolPostInvokePayload{Result: json.RawMessage(`{"content":[{"type":"text","text":` + string(q) + `}]}`)}, nil)
	if err == nil || !strings.Contains(err.Error(), "max_decoded_bytes") {
		t.Fatalf("err = %v", err)
	}
	// Within the budget the same layers are peeled.
	if res := post(t, load(t, `{max_decode_depth: 5}`), layered); res.Violation == nil {
		t.Fatal("five layers not peeled")
	}
}

func TestHonoursCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	pl := load(t, `{}`).(framework.ToolPostInvoker)
	big := `{"content":[` + strings.Repeat(`{"type":"text","text":"`+strings.Repeat("QUFB", 20000)+`"},`, 10) + `{"type":"text","text":"x"}]}`
	if _, err := pl.ToolPostInvoke(ctx, &framework.ToolPostInvokePayload{Result: json.RawMessage(big)}, nil); err == nil {
		t.Fatal("a cancelled scan must fail, not pass half-scanned")
	}
}
