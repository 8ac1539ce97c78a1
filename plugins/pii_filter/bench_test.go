package piifilter

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
)

// benchResult builds a tools/call result of about size bytes: a content
// array of 4 KiB text blocks of log- and prose-like text (numbers, dates,
// versions, times, paths, URLs), with every piiEvery-th line carrying PII
// (0: one line in the whole result, -1: none).
func benchResult(size, piiEvery int) json.RawMessage {
	return plugintest.ToolResult(plugintest.LogTexts(size, piiEvery, plugintest.LogVocab{
		Words: strings.Fields("the request for service account was processed by worker node and returned status ok after retry " +
			"with latency cache miss upstream timeout config reload user session token expired renewed queue depth " +
			"deployment rollout replica pod scheduled image pulled volume mounted health check passed"),
		Noise: []string{"version 1.24.3", "at 10:42:17", "in 2024-05-12", "42 items", "order #58213", "took 135ms",
			"v2.3.1", "build 7f3a9c1", "/var/log/app.log", "https://example.org/docs", "port 8080", "3.5%", "id 550e8400-e29b-41d4-a716-446655440000"},
		Planted: []string{"contact john.doe@example.com", "SSN 123-45-6789", "card 4111 1111 1111 1111", "call +44 20 7946 0958",
			"client 203.0.113.42", "phone (555) 123-4567", "key AKIAIOSFODNN7EXAMPLE"},
	})...)
}

func BenchmarkToolPostInvoke64KiB(b *testing.B) {
	cases := []struct {
		name     string
		piiEvery int
		strategy MaskStrategy
		block    bool
	}{
		{"no_matches", -1, MaskRedact, false},
		{"few_matches", 0, MaskRedact, false},
		{"many_matches", 2, MaskRedact, false},
		{"many_matches_partial", 2, MaskPartial, false},
		{"many_matches_tokenize", 2, MaskTokenize, false},
		{"many_matches_block", 2, MaskRedact, true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.MaskStrategy, cfg.BlockOnDetection, cfg.LogDetections = c.strategy, c.block, false
			p, err := New("bench", cfg)
			if err != nil {
				b.Fatal(err)
			}
			plugintest.BenchDetections(b, p, benchResult(64<<10, c.piiEvery), "pii_count", c.piiEvery >= 0)
		})
	}
}
