package secretsdetection

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
)

// benchResult builds a tools/call result of about size bytes: a content
// array of 4 KiB text blocks of log- and prose-like text (numbers, versions,
// UUIDs, hashes, paths, URLs), with every secretEvery-th line carrying a
// secret (0: one line in the whole result, -1: none).
func benchResult(size, secretEvery int) json.RawMessage {
	return plugintest.ToolResult(plugintest.LogTexts(size, secretEvery, plugintest.LogVocab{
		Words: strings.Fields("the request for service account was processed by worker node and returned status ok after retry " +
			"with latency cache miss upstream timeout config reload user session token expired renewed queue depth " +
			"deployment rollout replica pod scheduled image pulled volume mounted health check passed secret rotated"),
		Noise: []string{"version 1.24.3", "at 10:42:17", "took 135ms", "build 7f3a9c1", "/var/log/app.log",
			"https://example.org/docs?page=2", "id " + uuid, "sha256 " + sha256Hex, "task-runner-7", "eyJ is a prefix"},
		Planted: []string{ghToken, awsKeyID, stripeLive, googleKey, jwt, slackToken, openaiKey,
			"aws_secret_access_key=" + awsSecret},
	})...)
}

func BenchmarkToolPostInvoke64KiB(b *testing.B) {
	cases := []struct {
		name        string
		secretEvery int
		action      Action
		entropy     bool
	}{
		{"no_matches", -1, ActionBlock, false},
		{"few_matches_block", 0, ActionBlock, false},
		{"few_matches_redact", 0, ActionRedact, false},
		{"many_matches_redact", 2, ActionRedact, false},
		{"many_matches_block", 2, ActionBlock, false},
		{"no_matches_high_entropy", -1, ActionBlock, true},
		{"many_matches_redact_high_entropy", 2, ActionRedact, true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Action, cfg.DetectHighEntropy, cfg.LogDetections = c.action, c.entropy, false
			p, err := New("bench", cfg)
			if err != nil {
				b.Fatal(err)
			}
			plugintest.BenchDetections(b, p, benchResult(64<<10, c.secretEvery), "secrets_count", c.secretEvery >= 0)
		})
	}
}
