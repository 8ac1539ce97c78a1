package resourcefilter_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
)

func TestPreFetch(t *testing.T) {
	const blocked = `{blocked_domains: [evil.com, "BAD.example.", "10.0.0.1", "[::1]"]}`
	for _, tc := range []struct {
		name, config, uri string
		code              string // "" for no violation
		details           map[string]any
	}{
		// allowed_protocols
		{"https allowed", "{}", "https://example.com/a", "", nil},
		{"http allowed", "{}", "http://example.com/a", "", nil},
		{"scheme case-insensitive", "{}", "HtTpS://example.com/", "", nil},
		{"file refused by default", "{}", "file:///etc/passwd", "PROTOCOL_BLOCKED",
			map[string]any{"protocol": "file", "allowed": []string{"http", "https"}}},
		{"custom scheme refused", "{}", "db://users/1", "PROTOCOL_BLOCKED", nil},
		{"configured file", "{allowed_protocols: [FILE]}", "file:///etc/hosts", "", nil},
		{"configured list replaces default", "{allowed_protocols: [file]}", "https://example.com", "PROTOCOL_BLOCKED", nil},
		{"empty list refuses all", "{allowed_protocols: []}", "https://example.com", "PROTOCOL_BLOCKED", nil},
		// INVALID_URI
		{"no scheme", "{}", "/etc/passwd", "INVALID_URI", map[string]any{"problem": "missing_scheme"}},
		{"relative host", "{}", "//evil.com/x", "INVALID_URI", nil},
		{"empty", "{}", "", "INVALID_URI", nil},
		{"unparsable", "{}", "http://a b.com/", "INVALID_URI", map[string]any{"problem": "unparsable"}},
		{"leading space", "{}", " http://example.com", "INVALID_URI", nil},
		{"control character", "{}", "http://example.com/\n", "INVALID_URI", nil},
		{"backslash host", blocked, `http://evil.com\.good.com/`, "INVALID_URI", nil},
		{"http without authority", blocked, "http:evil.com/x", "INVALID_URI", map[string]any{"problem": "missing_host"}},
		{"http with empty authority", blocked, "http:///evil.com/x", "INVALID_URI", nil},
		// blocked_domains
		{"blocked domain", blocked, "https://evil.com/x", "DOMAIN_BLOCKED",
			map[string]any{"domain": "evil.com", "blocked_domain": "evil.com"}},
		{"subdomain", blocked, "https://a.b.evil.com/x", "DOMAIN_BLOCKED", nil},
		{"upper case and trailing dot", blocked, "HTTP://EVIL.COM./", "DOMAIN_BLOCKED", nil},
		{"rule with case and dot", blocked, "https://x.bad.example/", "DOMAIN_BLOCKED", nil},
		{"port ignored", blocked, "https://evil.com:8443/", "DOMAIN_BLOCKED", nil},
		{"upper case, trailing dot and port", blocked, "HTTP://EVIL.COM.:8443/", "DOMAIN_BLOCKED", map[string]any{"domain": "evil.com"}},
		{"escaped host", blocked, "http://%65vil.com/", "DOMAIN_BLOCKED", map[string]any{"domain": "evil.com"}},
		{"escaped host with user info and port", blocked, "http://u@%45VIL.com:81/x", "DOMAIN_BLOCKED", map[string]any{"domain": "evil.com"}},
		{"escaped non-ASCII host", blocked, "http://%EF%BD%85vil.com/", "DOMAIN_BLOCKED", map[string]any{"domain": "evil.com"}},
		{"full-width host", blocked, "https://ｅｖｉｌ．ｃｏｍ/", "DOMAIN_BLOCKED", map[string]any{"domain": "evil.com"}},
		{"ideographic full stop", blocked, "https://evil。com/", "DOMAIN_BLOCKED", map[string]any{"domain": "evil.com"}},
		{"full-width subdomain and trailing dot", blocked, "https://ａ.evil.com./", "DOMAIN_BLOCKED", nil},
		{"punycode spelling of a rule", `{blocked_domains: [bücher.example]}`, "https://xn--bcher-kva.example/", "DOMAIN_BLOCKED", nil},
		{"unicode spelling of a punycode rule", `{blocked_domains: [xn--bcher-kva.example]}`, "https://BÜCHER.example/", "DOMAIN_BLOCKED", nil},
		{"decimal IPv4", `{blocked_domains: [127.0.0.1]}`, "http://2130706433/", "DOMAIN_BLOCKED", map[string]any{"domain": "127.0.0.1"}},
		{"hex IPv4", `{blocked_domains: [127.0.0.1]}`, "http://0x7f.1/", "DOMAIN_BLOCKED", nil},
		{"IPv4-mapped IPv6", `{blocked_domains: [127.0.0.1]}`, "http://[::ffff:127.0.0.1]/", "DOMAIN_BLOCKED", nil},
		{"host that does not normalise", blocked, "https://xn--a.com/", "INVALID_URI", map[string]any{"problem": "bad_host"}},
		{"out-of-range IPv4", blocked, "http://256.1.1.1/", "INVALID_URI", map[string]any{"problem": "bad_host"}},
		{"user info is not the host", blocked, "http://evil.com@good.com/", "", nil},
		{"host after user info", blocked, "http://good.com@evil.com/", "DOMAIN_BLOCKED", nil},
		{"suffix that is not a subdomain", blocked, "https://notevil.com/", "", nil},
		{"domain in path", blocked, "https://good.com/evil.com", "", nil},
		{"domain in query", blocked, "https://good.com/?u=https://evil.com", "", nil},
		{"ipv4", blocked, "http://10.0.0.1:8080/", "DOMAIN_BLOCKED", nil},
		{"ipv6 canonical form", blocked, "http://[0:0::1]/", "DOMAIN_BLOCKED", map[string]any{"domain": "::1"}},
		{"custom scheme with host", `{allowed_protocols: [ui], blocked_domains: [widget]}`, "ui://widget/x", "DOMAIN_BLOCKED", nil},
		{"opaque URI has no host", `{allowed_protocols: [mailto], blocked_domains: [evil.com]}`, "mailto:a@evil.com", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := pre(t, plugintest.Load(t, withConfig(tc.config)), tc.uri)
			if tc.code == "" {
				if v != nil {
					t.Fatalf("unexpected violation %s: %s", v.Code, v.Description)
				}
				return
			}
			if v == nil || v.Code != tc.code {
				t.Fatalf("violation = %+v, want code %s", v, tc.code)
			}
			if v.Reason == "" || v.Description == "" {
				t.Fatalf("violation without reason or description: %+v", v)
			}
			for k, want := range tc.details {
				if got := v.Details[k]; !equalJSONish(got, want) {
					t.Errorf("details[%s] = %#v, want %#v", k, got, want)
				}
			}
			if _, ok := v.Details["uri"]; ok {
				t.Error("details must not repeat the URI (it may carry credentials)")
			}
		})
	}
}

func equalJSONish(a, b any) bool {
	as, aok := a.([]string)
	bs, bok := b.([]string)
	if aok && bok {
		return strings.Join(as, ",") == strings.Join(bs, ",")
	}
	return a == b
}

func TestPostFetch(t *testing.T) {
	blob := base64.StdEncoding.EncodeToString(make([]byte, 30)) // 40 characters, 30 bytes
	for _, tc := range []struct {
		name, config, content string
		want                  string // modified content; "" = unchanged
		code                  string
	}{
		{"no filters, small", "{}", `{"contents":[{"uri":"x:a","text":"hello"}]}`, "", ""},
		{"filter replaces, case-insensitive, default ***",
			`{content_filters: [{pattern: 'password=\S+'}]}`,
			`{"contents":[{"uri":"x:a","mimeType":"text/plain","text":"user=a PASSWORD=hunter2 ok"}]}`,
			`{"contents":[{"uri":"x:a","mimeType":"text/plain","text":"user=a *** ok"}]}`, ""},
		{"explicit replacement with group, filters in order",
			`{content_filters: [{pattern: '(\w+)@example\.com', replacement: '$1@…'}, {pattern: 'alice', replacement: 'A.'}]}`,
			`{"contents":[{"uri":"x:a","text":"mail alice@example.com"},{"uri":"x:b","text":"bob@EXAMPLE.com"}]}`,
			`{"contents":[{"uri":"x:a","text":"mail A.@…"},{"uri":"x:b","text":"bob@…"}]}`, ""},
		{"empty replacement deletes", `{content_filters: [{pattern: 'secret', replacement: ''}]}`,
			`{"contents":[{"uri":"x:a","text":"a secret b"}]}`, `{"contents":[{"uri":"x:a","text":"a  b"}]}`, ""},
		{"no match, unchanged", `{content_filters: [{pattern: 'password'}]}`,
			`{"contents":[{"uri":"x:a","text":"nothing here"}]}`, "", ""},
		{"uri, mimeType and blob are not filtered", `{content_filters: [{pattern: 'secret|text|a'}]}`,
			`{"contents":[{"uri":"secret:a","mimeType":"text/plain","blob":"` + blob + `"}]}`, "", ""},
		{"escaped text is decoded before filtering", `{content_filters: [{pattern: 'secret'}]}`,
			`{"contents":[{"uri":"x:a","text":"\u0073ecret\n\"q\""}]}`,
			`{"contents":[{"uri":"x:a","text":"***\n\"q\""}]}`, ""},
		// Case-insensitive matching follows Unicode simple folding, prefilter or not.
		{"long s folds to s", `{content_filters: [{pattern: 'password=\S+'}]}`,
			`{"contents":[{"uri":"x:a","text":"PAſſWORD=x y"}]}`, `{"contents":[{"uri":"x:a","text":"*** y"}]}`, ""},
		{"kelvin sign folds to k", `{content_filters: [{pattern: 'key'}]}`,
			`{"contents":[{"uri":"x:a","text":"a \u212aEY"}]}`, `{"contents":[{"uri":"x:a","text":"a ***"}]}`, ""},
		{"non-ASCII literal", `{content_filters: [{pattern: 'contraseña'}]}`,
			`{"contents":[{"uri":"x:a","text":"CONTRASEÑA!"}]}`, `{"contents":[{"uri":"x:a","text":"***!"}]}`, ""},
		{"alternation, second branch", `{content_filters: [{pattern: 'secret|token'}]}`,
			`{"contents":[{"uri":"x:a","text":"my TOKEN"}]}`, `{"contents":[{"uri":"x:a","text":"my ***"}]}`, ""},
		{"alternation, neither branch", `{content_filters: [{pattern: 'secret|token'}]}`,
			`{"contents":[{"uri":"x:a","text":"my tokn"}]}`, "", ""},
		{"optional part between literals", `{content_filters: [{pattern: 'api[_-]?key=\w+'}]}`,
			`{"contents":[{"uri":"x:a","text":"API-KEY=abc apikey=d"}]}`, `{"contents":[{"uri":"x:a","text":"*** ***"}]}`, ""},
		{"no literal at all", `{content_filters: [{pattern: '\d{4}-\d{4}'}]}`,
			`{"contents":[{"uri":"x:a","text":"card 1234-5678"}]}`, `{"contents":[{"uri":"x:a","text":"card ***"}]}`, ""},
		{"second filter sees the first one's output", `{content_filters: [{pattern: 'a', replacement: 'KEY'}, {pattern: 'key'}]}`,
			`{"contents":[{"uri":"x:a","text":"a"}]}`, `{"contents":[{"uri":"x:a","text":"***"}]}`, ""},
		{"size: text within limit", `{max_content_size: 5}`, `{"contents":[{"uri":"x:a","text":"hello"}]}`, "", ""},
		{"size: text over limit", `{max_content_size: 4}`, `{"contents":[{"uri":"x:a","text":"hello"}]}`, "", "CONTENT_SIZE_EXCEEDED"},
		{"size: counted in UTF-8 bytes", `{max_content_size: 4}`, `{"contents":[{"uri":"x:a","text":"héé"}]}`, "", "CONTENT_SIZE_EXCEEDED"},
		{"size: summed over contents", `{max_content_size: 8}`,
			`{"contents":[{"uri":"x:a","text":"hello"},{"uri":"x:b","text":"world"}]}`, "", "CONTENT_SIZE_EXCEEDED"},
		{"size: blob counted decoded", `{max_content_size: 30}`, `{"contents":[{"uri":"x:a","blob":"` + blob + `"}]}`, "", ""},
		{"size: blob over limit", `{max_content_size: 29}`, `{"contents":[{"uri":"x:a","blob":"` + blob + `"}]}`, "", "CONTENT_SIZE_EXCEEDED"},
		{"size: 0 disables", `{max_content_size: 0}`, `{"contents":[{"uri":"x:a","text":"` + strings.Repeat("x", 2<<20) + `"}]}`, "", ""},
		{"size: default 1 MiB", `{}`, `{"contents":[{"uri":"x:a","text":"` + strings.Repeat("x", 1<<20+1) + `"}]}`, "", "CONTENT_SIZE_EXCEEDED"},
		{"size: metadata is not content", `{max_content_size: 4}`, `{"contents":[{"uri":"x:aaaaaaaaaa","mimeType":"text/plain","text":"abc"}],"_meta":{"k":"vvvvvvvvv"}}`, "", ""},
		{"size checked before filters", `{max_content_size: 5, content_filters: [{pattern: 'longer', replacement: ''}]}`,
			`{"contents":[{"uri":"x:a","text":"longer"}]}`, "", "CONTENT_SIZE_EXCEEDED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, v := post(t, plugintest.Load(t, withConfig(tc.config)), tc.content)
			if tc.code != "" {
				if v == nil || v.Code != tc.code || v.Details["size"] == nil || v.Details["max_size"] == nil {
					t.Fatalf("violation = %+v, want %s with size details", v, tc.code)
				}
				if got != "" {
					t.Fatal("a blocked result must not be modified")
				}
				return
			}
			if v != nil {
				t.Fatalf("unexpected violation %+v", v)
			}
			if got != tc.want {
				t.Fatalf("content =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestPostFetchHonoursCancellation(t *testing.T) {
	pl := plugintest.Load(t, withConfig(`{content_filters: [{pattern: 'a'}]}`))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := pl.(framework.ResourcePostFetcher).ResourcePostFetch(ctx,
		&framework.ResourcePostFetchPayload{Content: []byte(`{"contents":[{"uri":"x:a","text":"aaa"}]}`)},
		&framework.PluginContext{Global: &framework.GlobalContext{}})
	if err == nil {
		t.Fatal("a cancelled call must return an error, not a half-filtered result")
	}
}

func TestConcurrentUse(t *testing.T) {
	pl := plugintest.Load(t, withConfig(`{blocked_domains: [evil.com], content_filters: [{pattern: 'secret'}]}`))
	pre, post := pl.(framework.ResourcePreFetcher), pl.(framework.ResourcePostFetcher)
	errs := make(chan string, 8)
	for i := range 8 {
		go func() {
			pc := &framework.PluginContext{Global: &framework.GlobalContext{}}
			for j := range 200 {
				uri := "https://evil.com/" + strings.Repeat("x", j%5)
				if i%2 == 0 {
					uri = "https://good.com/"
				}
				res, err := pre.ResourcePreFetch(context.Background(), &framework.ResourcePreFetchPayload{URI: uri}, pc)
				if err != nil || (res.Violation != nil) != (i%2 != 0) {
					errs <- uri
					return
				}
				in := `{"contents":[{"uri":"x:a","text":"secret ` + strings.Repeat("x", j%7) + `"}]}`
				pres, err := post.ResourcePostFetch(context.Background(), &framework.ResourcePostFetchPayload{Content: []byte(in)}, pc)
				if err != nil || pres.ModifiedPayload == nil || !strings.Contains(string(pres.ModifiedPayload.Content), `"text":"*** `) {
					errs <- in
					return
				}
			}
			errs <- ""
		}()
	}
	for range 8 {
		if e := <-errs; e != "" {
			t.Fatalf("wrong verdict for %s", e)
		}
	}
}
