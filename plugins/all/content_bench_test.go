package all_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// contentPolicy is the content pipeline of the core benchmarks: the load
// benchmark's four plugins plus deny_list and regex_filter, all enforcing.
// resource_filter runs on a tool result too: it checks the URIs of embedded
// resources and resource links (embedded: block).
const contentPolicy = `
plugins:
  - {name: tools, kind: tool_filter, config: {deny: ["delete_*"]}}
  - {name: pii, kind: pii_filter}
  - {name: secrets, kind: secrets_detection}
  - {name: resources, kind: resource_filter}
  - {name: deny, kind: deny_list, config: {words: [drop table, "rm -rf", exfiltrate, ransomware]}}
  - {name: words, kind: regex_filter, config: {words: [{search: crap, replace: crud}]}}
`

// contentManager loads contentPolicy.
func contentManager(tb testing.TB) *framework.Manager {
	tb.Helper()
	cfg, _, err := framework.Parse([]byte(contentPolicy), "policy.yaml", framework.LoadOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	mgr, err := framework.NewManager(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = mgr.Shutdown(context.Background()) })
	return mgr
}

// toolCall1KiB is about 1 KiB of tools/call arguments as a model writes
// them: a question, a few options, a nested filter and a list of tags.
func toolCall1KiB() json.RawMessage {
	args := map[string]any{
		"query":    "What were the three largest open incidents last week, who owns them, and what is the current status of each? " + strings.Repeat("Include the timeline of events and the customer impact. ", 6),
		"language": "en",
		"limit":    json.Number("10"),
		"filters": map[string]any{
			"team":     "platform reliability",
			"severity": []any{"sev1", "sev2"},
			"since":    "2026-11-24T00:00:00Z",
			"note":     "ignore incidents that were closed as duplicates or resolved within an hour of being opened",
		},
		"tags":    []any{"incident", "weekly-review", "status", "owners"},
		"context": strings.Repeat("The team reviews incidents every Monday; summaries should be short. ", 4),
	}
	b, _ := json.Marshal(args)
	return b
}

// toolResult1KiB is about 1 KiB of tools/call result: two text blocks of
// prose and a structuredContent mirror.
func toolResult1KiB() json.RawMessage {
	text := strings.Repeat("Incident 4127 is mitigated and awaits the postmortem. ", 8)
	res := map[string]any{
		"content": []any{
			map[string]any{"type": "text", "text": text},
			map[string]any{"type": "text", "text": "Owner: the platform on-call rotation; next review on Monday."},
		},
		"structuredContent": map[string]any{"incidents": []any{
			map[string]any{"id": "4127", "status": "mitigated", "summary": strings.Repeat("database failover took longer than planned ", 4)},
			map[string]any{"id": "4130", "status": "open", "summary": "elevated error rate on the billing API"},
		}},
		"isError": false,
	}
	b, _ := json.Marshal(res)
	return b
}

// BenchmarkContentPipeline runs the content policy over a 1 KiB tool call
// and its 1 KiB result: every content plugin reads the same strings, the
// cost text-once-per-message is about. Nothing matches, so nothing is
// rewritten (the common case); "masked" has one e-mail address to mask in
// each, which every later plugin then reads in the masked payload. The
// tool call runs five plugins (resource_filter has no tool_pre_invoke
// hook), the result four (tool_filter and deny_list read requests only;
// resource_filter checks the result's embedded resources).
func BenchmarkContentPipeline(b *testing.B) {
	ctx := context.Background()
	mgr := contentManager(b)
	for _, bc := range []struct {
		name   string
		args   json.RawMessage
		result json.RawMessage
		masked bool
	}{
		{"clean", toolCall1KiB(), toolResult1KiB(), false},
		{"masked",
			json.RawMessage(strings.Replace(string(toolCall1KiB()), "platform reliability", "mail ops@example.com", 1)),
			json.RawMessage(strings.Replace(string(toolResult1KiB()), "the platform on-call rotation", "ann@example.com", 1)), true},
	} {
		g := framework.GlobalContext{RequestID: "r", User: "u"}
		pre := &framework.ToolPreInvokePayload{Name: "incidents", Args: bc.args}
		post := &framework.ToolPostInvokePayload{Name: "incidents", Result: bc.result}
		check := func(t *framework.ContextTable) {
			o := mgr.ToolPreInvoke(ctx, pre, t)
			if o.Violation != nil || o.Ran != 5 || o.Modified != bc.masked {
				b.Fatalf("pre: %+v", o)
			}
			p := mgr.ToolPostInvoke(ctx, post, t)
			if p.Violation != nil || p.Ran != 4 || p.Modified != bc.masked {
				b.Fatalf("post: %+v", p)
			}
		}
		check(framework.NewContextTable(g))
		b.Run(bc.name, func(b *testing.B) {
			measure(b, len(bc.args)+len(bc.result), func() {
				t := framework.NewContextTable(g)
				mgr.ToolPreInvoke(ctx, pre, t)
				mgr.ToolPostInvoke(ctx, post, t)
			})
		})
	}
}
