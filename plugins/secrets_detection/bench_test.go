package secretsdetection

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// benchResult builds a tools/call result of about size bytes: a content
// array of 4 KiB text blocks of log- and prose-like text (numbers, versions,
// UUIDs, hashes, paths, URLs), with every secretEvery-th line carrying a
// secret (0: one line in the whole result, -1: none).
func benchResult(size, secretEvery int) json.RawMessage {
	r := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("the request for service account was processed by worker node and returned status ok after retry " +
		"with latency cache miss upstream timeout config reload user session token expired renewed queue depth " +
		"deployment rollout replica pod scheduled image pulled volume mounted health check passed secret rotated")
	noise := []string{"version 1.24.3", "at 10:42:17", "took 135ms", "build 7f3a9c1", "/var/log/app.log",
		"https://example.org/docs?page=2", "id " + uuid, "sha256 " + sha256Hex, "task-runner-7", "eyJ is a prefix"}
	secrets := []string{ghToken, awsKeyID, stripeLive, googleKey, jwt, slackToken, openaiKey,
		"aws_secret_access_key=" + awsSecret}
	var blocks []string
	total, line, planted := 0, 0, false
	for total < size {
		var b strings.Builder
		for b.Len() < 4096 {
			line++
			for range 12 {
				b.WriteString(words[r.IntN(len(words))])
				b.WriteByte(' ')
			}
			b.WriteString(noise[r.IntN(len(noise))])
			if secretEvery > 0 && line%secretEvery == 0 || secretEvery == 0 && !planted && total > size/2 {
				b.WriteString(", " + secrets[r.IntN(len(secrets))])
				planted = true
			}
			b.WriteString(".\n")
		}
		text, _ := json.Marshal(b.String())
		blocks = append(blocks, `{"type":"text","text":`+string(text)+`}`)
		total += len(text) + 24
	}
	return json.RawMessage(`{"content":[` + strings.Join(blocks, ",") + `],"isError":false}`)
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
			payload := &framework.ToolPostInvokePayload{Name: "t", Result: benchResult(64<<10, c.secretEvery)}
			res, _ := p.ToolPostInvoke(context.Background(), payload, nil)
			matches, _ := res.Metadata["secrets_count"].(int)
			if matches == 0 != (c.secretEvery < 0) {
				b.Fatalf("%d matches", matches)
			}
			b.SetBytes(int64(len(payload.Result)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.ToolPostInvoke(context.Background(), payload, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(matches), "matches/op")
		})
	}
}
