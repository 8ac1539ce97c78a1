package openaimoderation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/hookjson"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/outbound"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/textwalk"
)

// Violation codes of the kind (ContextForge's, so that a policy or an
// alert written for its content moderation plugin keeps working).
const (
	CodeFlagged      = "CONTENT_MODERATION"
	CodeServiceError = "MODERATION_ERROR"
	CodeTooLarge     = "MODERATION_INPUT_TOO_LARGE"
)

// Plugin is a loaded openai_moderation. It is safe for concurrent use.
type Plugin struct {
	outbound.Lifecycle[verdict]
	client         *outbound.Client[verdict]
	model          string
	block          map[string]bool // nil: every flagged category blocks
	thresholds     map[string]float64
	onServiceError string
	chunkBytes     int
	maxTextBytes   int
}

var (
	_ framework.ToolPreInvoker      = (*Plugin)(nil)
	_ framework.ToolPostInvoker     = (*Plugin)(nil)
	_ framework.PromptPreFetcher    = (*Plugin)(nil)
	_ framework.PromptPostFetcher   = (*Plugin)(nil)
	_ framework.ResourcePostFetcher = (*Plugin)(nil)
	_ framework.Initializer         = (*Plugin)(nil)
	_ framework.Shutdowner          = (*Plugin)(nil)
)

// ToolPreInvoke moderates the tool arguments.
func (p *Plugin) ToolPreInvoke(ctx context.Context, pl *framework.ToolPreInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	return hookjson.ToolPreInvoke(ctx, pl, pc, p.inspect)
}

// ToolPostInvoke moderates the tool result.
func (p *Plugin) ToolPostInvoke(ctx context.Context, pl *framework.ToolPostInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPostInvokePayload], error) {
	return hookjson.ToolPostInvoke(ctx, pl, pc, p.inspect)
}

// PromptPreFetch moderates the prompt arguments.
func (p *Plugin) PromptPreFetch(ctx context.Context, pl *framework.PromptPreFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPreFetchPayload], error) {
	return hookjson.PromptPreFetch(ctx, pl, pc, p.inspect)
}

// PromptPostFetch moderates the prompt's messages.
func (p *Plugin) PromptPostFetch(ctx context.Context, pl *framework.PromptPostFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPostFetchPayload], error) {
	return hookjson.PromptPostFetch(ctx, pl, pc, p.inspect)
}

// ResourcePostFetch moderates the resource's text contents.
func (p *Plugin) ResourcePostFetch(ctx context.Context, pl *framework.ResourcePostFetchPayload, pc *framework.PluginContext) (framework.Result[framework.ResourcePostFetchPayload], error) {
	return hookjson.ResourcePostFetch(ctx, pl, pc, p.inspect)
}

// result is one entry of the answer's results, for one input.
type result struct {
	Flagged    bool               `json:"flagged"`
	Categories map[string]bool    `json:"categories"`
	Scores     map[string]float64 `json:"category_scores"`
}

func isPre(h framework.HookType) bool {
	return h == framework.ToolPreInvoke || h == framework.PromptPreFetch
}

func (p *Plugin) inspect(ctx context.Context, hook framework.HookType, where string, raw json.RawMessage, pc *framework.PluginContext) (json.RawMessage, *framework.Violation, map[string]any, error) {
	inputs, err := textwalk.Collect(ctx, pc, KindName, raw, textwalk.CollectOptions{Value: textwalk.ValueOf(hook), Keys: isPre(hook), ChunkBytes: p.chunkBytes, MaxBytes: p.maxTextBytes, Overlap: p.chunkBytes / 8})
	if errors.Is(err, textwalk.ErrTooMuchText) {
		return nil, &framework.Violation{Reason: "Too much text to moderate", Code: CodeTooLarge,
			Description: fmt.Sprintf("there is more text in %s than the %d bytes this plugin sends for moderation", where, p.maxTextBytes),
			Details:     map[string]any{"max_text_bytes": p.maxTextBytes}}, nil, nil
	}
	if err != nil || len(inputs) == 0 {
		return nil, nil, nil, err
	}
	vd, err := p.moderate(ctx, inputs)
	if err != nil {
		v, meta, err := outbound.Failure(err, p.onServiceError, CodeServiceError, "Content moderation service error", where)
		return nil, v, meta, err
	}
	flagged, scores := vd.flagged, vd.scores
	if len(flagged) == 0 {
		return nil, nil, nil, nil
	}
	blocking := flagged
	if p.block != nil {
		blocking = nil
		for _, c := range flagged {
			if p.block[c] {
				blocking = append(blocking, c)
			}
		}
	}
	if len(blocking) == 0 {
		return nil, nil, map[string]any{"moderation_flagged": flagged}, nil
	}
	return nil, &framework.Violation{
		Reason:      "Content policy violation detected",
		Description: fmt.Sprintf("content moderation flagged %s: %s", where, strings.Join(blocking, ", ")),
		Code:        CodeFlagged,
		Details:     map[string]any{"categories": blocking, "flagged": flagged, "scores": scores},
	}, nil, nil
}

// verdict is what the plugin makes of an answer: the flagged categories,
// sorted, and their highest scores. It is what the cache keeps.
type verdict struct {
	flagged []string
	scores  map[string]float64
}

// moderate asks the service about inputs (one request; the verdict is
// cached under the model and the inputs).
func (p *Plugin) moderate(ctx context.Context, inputs []string) (verdict, error) {
	encode := func() ([]byte, error) {
		return json.Marshal(struct {
			Input []string `json:"input"`
			Model string   `json:"model"`
		}{inputs, p.model})
	}
	parts := make([][]byte, 0, len(inputs)+1)
	parts = append(parts, []byte(p.model))
	for _, in := range inputs {
		parts = append(parts, []byte(in))
	}
	key := outbound.KeyOf(parts...)
	n := len(inputs)
	return p.client.Call(ctx, outbound.Request{Encode: encode, Idempotent: true, CacheKey: &key},
		func(status int, _ http.Header, b []byte) (verdict, error) {
			results, err := decode(status, b, n)
			if err != nil {
				return verdict{}, err
			}
			return p.verdict(results), nil
		})
}

// decode reads the answer as the API reference documents it: results, one
// per input, each with flagged, categories and category_scores.
func decode(status int, body []byte, inputs int) ([]result, error) {
	if status != http.StatusOK {
		return nil, outbound.StatusError(status)
	}
	var ans struct {
		Results []result `json:"results"`
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		return nil, fmt.Errorf("answer is not a moderation object: %w", err)
	}
	if len(ans.Results) != inputs {
		return nil, fmt.Errorf("answer has %d results for %d inputs", len(ans.Results), inputs)
	}
	for i, r := range ans.Results {
		if r.Categories == nil || r.Scores == nil {
			return nil, fmt.Errorf("results[%d] lacks categories or category_scores", i)
		}
	}
	return ans.Results, nil
}

// verdict merges the results: the categories flagged in any input (by
// the service, or by a configured threshold), sorted, and each flagged
// category's highest score.
func (p *Plugin) verdict(results []result) verdict {
	scores := map[string]float64{}
	for _, r := range results {
		for c, s := range r.Scores {
			th, has := p.thresholds[c]
			if has && s >= th || !has && r.Categories[c] {
				scores[c] = max(scores[c], s)
			}
		}
		for c, on := range r.Categories {
			if _, has := p.thresholds[c]; on && !has {
				if _, ok := scores[c]; !ok {
					scores[c] = r.Scores[c]
				}
			}
		}
	}
	flagged := make([]string, 0, len(scores))
	for c := range scores {
		flagged = append(flagged, c)
	}
	sort.Strings(flagged)
	return verdict{flagged, scores}
}
