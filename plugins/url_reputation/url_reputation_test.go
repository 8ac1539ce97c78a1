package urlreputation_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
	urlreputation "github.com/mcp-extproc/mcp-extproc/plugins/url_reputation"
)

func load(t testing.TB, config string) *urlreputation.Plugin {
	t.Helper()
	pl := plugintest.Load(t, plugintest.Policy("urls", "url_reputation", config)).(*urlreputation.Plugin)
	if err := pl.Initialize(context.Background()); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	return pl
}

// args runs the tool_pre_invoke hook on arguments holding text.
func args(t *testing.T, pl *urlreputation.Plugin, text string) *framework.Violation {
	t.Helper()
	raw, _ := json.Marshal(map[string]any{"note": text})
	res, err := pl.ToolPreInvoke(context.Background(), &framework.ToolPreInvokePayload{Name: "fetch", Args: raw}, &framework.PluginContext{Global: &framework.GlobalContext{}})
	if err != nil {
		t.Fatal(err)
	}
	if res.ModifiedPayload != nil {
		t.Fatal("url_reputation never rewrites")
	}
	return res.Violation
}

func TestDenyDomainsWhateverTheSpelling(t *testing.T) {
	pl := load(t, `{deny_domains: [evil.com, 169.254.169.254, "[::1]"]}`)
	for _, text := range []string{
		"fetch https://evil.com/x",
		"fetch https://cdn.evil.com/x",
		"HTTPS://EVIL.COM./x",
		"see:https://evil.com",
		"seeHTTPS://evil.com",                      // scheme glued to the word before it
		"https://ｅｖｉｌ．ｃｏｍ/path",                    // full-width host
		"https://evil。com",                         // ideographic full stop
		"https://%65vil.com/",                      // percent-escaped host
		"https://user:pw@evil.com/",                // user info
		"https://good.com@evil.com/",               // the host is after the last @
		`https:\\evil.com\x`,                       // backslashes, as WHATWG reads them
		"https:evil.com",                           // no slashes, still a host for fetchers
		"https:///evil.com",                        // three slashes
		"https://evil.com:8443/",                   // port
		"wss://evil.com/socket",                    //
		"[link](https://evil.com)",                 // markdown
		"http://2852039166/latest/meta",            // 169.254.169.254 as one number
		"http://0xa9.254.169.254/",                 // hex part
		"http://[::ffff:169.254.169.254]",          // IPv4-mapped
		"http://[0:0::1]:8080/",                    // IPv6 in another spelling
		"https://good.com/ then https://evil.com/", // the second URL
	} {
		if v := args(t, pl, text); v == nil || v.Code != urlreputation.CodeURLBlocked {
			t.Errorf("%q: not blocked (%+v)", text, v)
		}
	}
	for _, text := range []string{
		"fetch https://notevil.com/x",
		"evil.com without a scheme",
		"mailto:someone@evil.com",
		"https://good.com/?next=evil.com",
		"the word https: alone",
		"https://evil.community/",
	} {
		if v := args(t, pl, text); v != nil {
			t.Errorf("%q: blocked: %+v", text, v)
		}
	}
}

func TestWholeStringURLDropsTabsAndNewlines(t *testing.T) {
	pl := load(t, `{deny_domains: [evil.com]}`)
	for _, s := range []string{" https://ev\nil.c\tom/x ", "ht\ttps://evil.com/", "h\r\nttps://evil.com"} {
		if v := args(t, pl, s); v == nil {
			t.Errorf("%q is still evil.com to a fetcher", s)
		}
	}
}

func TestViolationDetails(t *testing.T) {
	pl := load(t, `{deny_domains: [evil.com]}`)
	raw := []byte(`{"items":[{"href":"x"},{"href":"https://token:s3cret@api.evil.com/a?key=k"}]}`)
	res, _ := pl.ToolPreInvoke(context.Background(), &framework.ToolPreInvokePayload{Name: "t", Args: raw}, nil)
	v := res.Violation
	if v == nil {
		t.Fatal("not blocked")
	}
	if v.Details["reason"] != "denied_domain" || v.Details["host"] != "api.evil.com" || v.Details["rule"] != "deny_domains: evil.com" ||
		v.Details["field"] != "$.items[1].href" || v.Details["scheme"] != "https" {
		t.Fatalf("details = %v", v.Details)
	}
	b, _ := json.Marshal(v)
	if strings.Contains(string(b), "s3cret") || strings.Contains(string(b), "key=k") {
		t.Fatalf("violation repeats the URL's credentials: %s", b)
	}
}

func TestAllowWinsAndPatterns(t *testing.T) {
	pl := load(t, `{allow_domains: [docs.evil.com], deny_domains: [evil.com], allow_patterns: ['^https://evil\.com/public/'], deny_patterns: ['(?i)casino', '^http://[^/]*/admin']}`)
	for text, blocked := range map[string]bool{
		"https://docs.evil.com/a":   false, // allowed subdomain of a denied one
		"https://a.docs.evil.com/a": false,
		"https://evil.com/public/x": false, // allow pattern
		"https://EVIL.COM/public/x": false, // patterns see the canonical host
		"https://evil.com/private":  true,
		"https://good.com/CASINO":   true,
		"http://good.com/admin":     true,
		"https://good.com/admin":    false,
		"https://ｇｏｏｄ.com/casino":   true,
	} {
		if v := args(t, pl, text); (v != nil) != blocked {
			t.Errorf("%q: blocked %v, want %v (%+v)", text, v != nil, blocked, v)
		}
	}
}

func TestShapeFlags(t *testing.T) {
	for _, tc := range []struct {
		config, text, reason string
	}{
		{`{}`, "https://аpple.com/login", "mixed_script"},                 // Cyrillic а + Latin
		{`{}`, "https://аррӏе.com/login", "confusable_script"},            // all Cyrillic lookalikes
		{`{}`, "https://xn--pple-43d.com/", "mixed_script"},               // the same, written in punycode
		{`{}`, "https://bücher.example/", ""},                             // one script: fine
		{`{}`, "https://例え.テスト/", ""},                                     // Han + Hiragana + Katakana
		{`{}`, "https://пример.рф/", ""},                                  // Cyrillic that imitates nothing
		{`{block_mixed_script: false}`, "https://аpple.com/", ""},         //
		{`{block_punycode: true}`, "https://bücher.example/", "punycode"}, //
		{`{block_ip_hosts: true}`, "http://10.0.0.1/", "ip_host"},         //
		{`{block_ip_hosts: true}`, "http://[2001:db8::1]/", "ip_host"},    //
		{`{block_ip_hosts: true}`, "http://017700000001/", "ip_host"},     // octal 127.0.0.1
		{`{deny_ip_ranges: [169.254.0.0/16]}`, "http://169.254.169.254/", "denied_ip_range"},
		{`{deny_ip_ranges: [127.0.0.0/8]}`, "http://[::ffff:127.0.0.2]/", "denied_ip_range"},
		{`{deny_ip_ranges: [10.0.0.0/8]}`, "http://11.0.0.1/", ""},
		{`{block_non_secure_http: true}`, "http://example.com/", "non_secure_http"},
		{`{block_non_secure_http: true}`, "ws://example.com/", "non_secure_http"},
		{`{block_non_secure_http: true}`, "https://example.com/", ""},
		{`{use_heuristic_check: true}`, "https://x7qk29vzpl4m8rjw.com/", "high_entropy"},
		{`{use_heuristic_check: true}`, "https://docs.example.com/", ""},
		{`{}`, "https://exa mple.com", ""}, // the host ends at the space
		{`{}`, "https://xn--zz.com/", "bad_host"},
		{`{}`, "see https://xn--zz.com/ here", ""}, // in prose: no fetcher resolves it
		{`{}`, `fmt.Sprintf("https://%s/api", host)`, ""},
		{`{}`, "https://%s/api", "bad_host"},
		{`{}`, "https://a\u00a0b.com/", ""},
		{`{}`, "https://[::1/", "bad_host"},
		{`{}`, "http://256.256.256.256/", "bad_host"},
	} {
		pl := load(t, tc.config)
		v := args(t, pl, tc.text)
		got := ""
		if v != nil {
			got, _ = v.Details["reason"].(string)
		}
		if got != tc.reason {
			t.Errorf("%s %q: reason %q, want %q", tc.config, tc.text, got, tc.reason)
		}
	}
}

func TestEveryHook(t *testing.T) {
	pl := load(t, `{deny_domains: [evil.com]}`)
	pc := &framework.PluginContext{Global: &framework.GlobalContext{}}
	ctx := context.Background()
	bad := json.RawMessage(`{"content":[{"type":"text","text":"go to https://evil.com"}]}`)
	r1, _ := pl.ToolPostInvoke(ctx, &framework.ToolPostInvokePayload{Result: bad}, pc)
	r2, _ := pl.PromptPreFetch(ctx, &framework.PromptPreFetchPayload{Args: json.RawMessage(`{"u":"https://evil.com"}`)}, pc)
	r3, _ := pl.PromptPostFetch(ctx, &framework.PromptPostFetchPayload{Result: json.RawMessage(`{"messages":[{"role":"user","content":{"type":"text","text":"https://evil.com"}}]}`)}, pc)
	r4, _ := pl.ResourcePreFetch(ctx, &framework.ResourcePreFetchPayload{URI: "HTTPS://EVIL.COM/doc"}, pc)
	r5, _ := pl.ResourcePreFetch(ctx, &framework.ResourcePreFetchPayload{URI: "docs://readme", Metadata: json.RawMessage(`{"via":"https://evil.com"}`)}, pc)
	r6, _ := pl.ResourcePostFetch(ctx, &framework.ResourcePostFetchPayload{Content: json.RawMessage(`{"contents":[{"uri":"https://evil.com/x","text":"hi"}]}`)}, pc)
	for i, v := range []*framework.Violation{r1.Violation, r2.Violation, r3.Violation, r4.Violation, r5.Violation, r6.Violation} {
		if v == nil {
			t.Errorf("hook %d: not blocked", i+1)
		}
	}
	if r5.Violation != nil && r5.Violation.Details["field"] != "$._meta.via" {
		t.Errorf("meta field = %v", r5.Violation.Details["field"])
	}
	ok, _ := pl.ResourcePreFetch(ctx, &framework.ResourcePreFetchPayload{URI: "https://good.com/doc"}, pc)
	if ok.Violation != nil {
		t.Fatal(ok.Violation)
	}
	// Base64 data is not text: a blob is not scanned for URLs.
	blob, _ := pl.ResourcePostFetch(ctx, &framework.ResourcePostFetchPayload{Content: json.RawMessage(`{"contents":[{"uri":"x:a","blob":"https://evil.com"}]}`)}, pc)
	if blob.Violation != nil {
		t.Fatal("blob scanned")
	}
}

func TestDomainFiles(t *testing.T) {
	dir := t.TempDir()
	deny := filepath.Join(dir, "deny.txt")
	allow := filepath.Join(dir, "allow.txt")
	os.WriteFile(deny, []byte("# a blocklist\nevil.com\n\n0.0.0.0 tracker.example ads.example # hosts format\n127.0.0.1 localhost\n||phish.example^\nＢＡＤ．example\n"), 0o644)
	os.WriteFile(allow, []byte("safe.tracker.example\n"), 0o644)
	pl := load(t, `{deny_domain_files: [`+deny+`], allow_domain_files: [`+allow+`]}`)
	for text, blocked := range map[string]bool{
		"https://www.evil.com/":         true,
		"https://ads.example/":          true,
		"https://x.tracker.example/":    true,
		"https://safe.tracker.example/": false,
		"https://phish.example/":        true,
		"https://bad.example/":          true,
		"http://localhost:8080/":        false,
		"https://good.example/":         false,
	} {
		v := args(t, pl, text)
		if (v != nil) != blocked {
			t.Errorf("%q: blocked %v, want %v", text, v != nil, blocked)
		}
		if v != nil && v.Details["rule"] == nil {
			t.Errorf("%q: no rule in details", text)
		}
	}

	// A bad line fails Initialize, naming file and line; a missing file too.
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("ok.example\nhttps://x.example/path\n"), 0o644)
	for _, f := range []string{bad, filepath.Join(dir, "missing.txt")} {
		pl := plugintest.Load(t, plugintest.Policy("urls", "url_reputation", `{deny_domain_files: [`+f+`]}`)).(*urlreputation.Plugin)
		err := pl.Initialize(context.Background())
		if err == nil || !strings.Contains(err.Error(), "config.deny_domain_files[0]") || !strings.Contains(err.Error(), filepath.Base(f)) {
			t.Errorf("%s: err = %v", f, err)
		}
		if f == bad && !strings.Contains(err.Error(), "bad.txt:2") {
			t.Errorf("line not named: %v", err)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for config, want := range map[string]string{
		`{deny_domains: ["*.evil.com"]}`:     "config.deny_domains[0]",
		`{allow_domains: ["https://x.com"]}`: "config.allow_domains[0]",
		`{deny_domains: [""]}`:               "config.deny_domains[0]: must not be empty",
		`{deny_patterns: ['(']}`:             "config.deny_patterns[0]",
		`{deny_ip_ranges: [10.0.0.0]}`:       "config.deny_ip_ranges[0]",
		`{schemes: ["https://"]}`:            "config.schemes[0]",
		`{schemes: []}`:                      "config.schemes",
		`{entropy_threshold: 9}`:             "config.entropy_threshold",
		`{deny_domain_files: [""]}`:          "config.deny_domain_files[0]",
		`{no_such_key: 1}`:                   "no_such_key",
	} {
		_, err := plugintest.Instantiate(plugintest.Policy("urls", "url_reputation", config))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", config, err, want)
		}
	}
}

// ContextForge's URLReputationPlugin entry, as its plugins/config.yaml
// writes it, loads and blocks its domain.
func TestContextForgeConfig(t *testing.T) {
	pl := plugintest.Load(t, `plugins:
  - name: URLReputationPlugin
    kind: cpex_url_reputation.URLReputationPlugin
    hooks: [resource_pre_fetch]
    config:
      whitelist_domains: [ibm.com]
      allowed_patterns: ['^https://trusted\.internal/.*']
      blocked_domains: [malicious.example.com]
      blocked_patterns: [casino]
      use_heuristic_check: false
      entropy_threshold: 3.65
      block_non_secure_http: true
`).(framework.ResourcePreFetcher)
	for uri, blocked := range map[string]bool{
		"https://malicious.example.com/x":   true,
		"https://sub.malicious.example.com": true,
		"https://a.com/casino":              true,
		"http://a.com/":                     true,
		"https://trusted.internal/casino":   false, // an allowed pattern wins
		"http://www.ibm.com/":               false,
		"https://a.com/":                    false,
	} {
		res, err := pl.ResourcePreFetch(context.Background(), &framework.ResourcePreFetchPayload{URI: uri}, nil)
		if err != nil || (res.Violation != nil) != blocked {
			t.Errorf("%s: blocked %v, want %v (%v)", uri, res.Violation != nil, blocked, err)
		}
	}
}
