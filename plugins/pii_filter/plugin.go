package piifilter

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// CodePIIDetected is the violation code of a message blocked because it
// holds PII (block_on_detection: true).
const CodePIIDetected = "PII_DETECTED"

// maxFields bounds the JSON paths listed in a violation and a log record.
const maxFields = 32

// Plugin is a pii_filter instance. Its hook methods are safe for concurrent
// use: all its state is fixed when it is built.
type Plugin struct {
	name   string
	cfg    Config
	det    *detector
	masker *masker
}

// New builds a plugin named name from settings (start from DefaultConfig).
// It checks the settings and compiles the patterns; it does no I/O.
func New(name string, cfg Config) (*Plugin, error) {
	cfg.CustomPatterns = slices.Clone(cfg.CustomPatterns)
	cfg.WhitelistPatterns = slices.Clone(cfg.WhitelistPatterns)
	det, err := cfg.compile()
	if err != nil {
		return nil, err
	}
	return &Plugin{name: name, cfg: cfg, det: det, masker: newMasker(&cfg)}, nil
}

// PromptPreFetch scans the prompt arguments.
func (p *Plugin) PromptPreFetch(ctx context.Context, pl *framework.PromptPreFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPreFetchPayload], error) {
	out, v, meta, err := p.process(ctx, framework.PromptPreFetch, "the prompt arguments", pl.Args, pc)
	res := framework.Result[framework.PromptPreFetchPayload]{Violation: v, Metadata: meta}
	if out != nil {
		res.ModifiedPayload = &framework.PromptPreFetchPayload{PromptID: pl.PromptID, Args: out}
	}
	return res, err
}

// PromptPostFetch scans the prompt result (its messages).
func (p *Plugin) PromptPostFetch(ctx context.Context, pl *framework.PromptPostFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPostFetchPayload], error) {
	out, v, meta, err := p.process(ctx, framework.PromptPostFetch, "the prompt result", pl.Result, pc)
	res := framework.Result[framework.PromptPostFetchPayload]{Violation: v, Metadata: meta}
	if out != nil {
		res.ModifiedPayload = &framework.PromptPostFetchPayload{PromptID: pl.PromptID, Result: out}
	}
	return res, err
}

// ToolPreInvoke scans the tool arguments.
func (p *Plugin) ToolPreInvoke(ctx context.Context, pl *framework.ToolPreInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	out, v, meta, err := p.process(ctx, framework.ToolPreInvoke, "the tool arguments", pl.Args, pc)
	res := framework.Result[framework.ToolPreInvokePayload]{Violation: v, Metadata: meta}
	if out != nil {
		res.ModifiedPayload = &framework.ToolPreInvokePayload{Name: pl.Name, Args: out, Headers: pl.Headers}
	}
	return res, err
}

// ToolPostInvoke scans the tool result: content blocks, embedded resources,
// structuredContent.
func (p *Plugin) ToolPostInvoke(ctx context.Context, pl *framework.ToolPostInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPostInvokePayload], error) {
	out, v, meta, err := p.process(ctx, framework.ToolPostInvoke, "the tool result", pl.Result, pc)
	res := framework.Result[framework.ToolPostInvokePayload]{Violation: v, Metadata: meta}
	if out != nil {
		res.ModifiedPayload = &framework.ToolPostInvokePayload{Name: pl.Name, Result: out}
	}
	return res, err
}

// ResourcePostFetch scans the resource contents.
func (p *Plugin) ResourcePostFetch(ctx context.Context, pl *framework.ResourcePostFetchPayload, pc *framework.PluginContext) (framework.Result[framework.ResourcePostFetchPayload], error) {
	out, v, meta, err := p.process(ctx, framework.ResourcePostFetch, "the resource content", pl.Content, pc)
	res := framework.Result[framework.ResourcePostFetchPayload]{Violation: v, Metadata: meta}
	if out != nil {
		res.ModifiedPayload = &framework.ResourcePostFetchPayload{URI: pl.URI, Content: out}
	}
	return res, err
}

// process scans raw and returns the masked JSON (nil when nothing changed),
// or a violation when the plugin blocks, and metadata for the caller.
func (p *Plugin) process(ctx context.Context, hook framework.HookType, where string, raw json.RawMessage, pc *framework.PluginContext) (json.RawMessage, *framework.Violation, map[string]any, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, nil, err
	}
	if len(raw) == 0 {
		return nil, nil, nil, nil
	}
	rewrite := !p.cfg.BlockOnDetection
	out, changed, rep, err := p.scan(ctx, raw, rewrite)
	if err != nil {
		return nil, nil, nil, err
	}
	if rep.total == 0 {
		return nil, nil, nil, nil
	}
	types := slices.Sorted(maps.Keys(rep.counts))
	if p.cfg.LogDetections {
		p.log(ctx, hook, pc, rep, types)
	}
	meta := map[string]any{"pii_count": rep.total, "pii_types": types}
	if p.cfg.BlockOnDetection {
		return nil, p.violation(where, rep, types), meta, nil
	}
	if !changed {
		return nil, nil, meta, nil
	}
	return out, nil, meta, nil
}

// report sums up the findings of one payload: types and paths, never values.
type report struct {
	counts map[string]int
	fields []string
	total  int
}

func (r *report) add(path mcpparse.Path, fs []finding) {
	if r.counts == nil {
		r.counts = map[string]int{}
	}
	for _, f := range fs {
		r.counts[f.typ]++
	}
	r.total += len(fs)
	if len(r.fields) < maxFields {
		r.fields = append(r.fields, path.String())
	}
}

// ctxCheckBytes is how much text is scanned between two looks at ctx.
const ctxCheckBytes = 256 << 10

// scan walks every string of raw (a JSON value), finds PII and, when
// rewrite is set, masks it.
func (p *Plugin) scan(ctx context.Context, raw []byte, rewrite bool) ([]byte, bool, report, error) {
	var rep report
	var found []finding
	var scanned int
	var cancelled error
	out, changed, err := mcpparse.WalkStrings(raw, mcpparse.WalkOptions{}, func(path mcpparse.Path, s string) (string, bool) {
		if cancelled != nil || len(s) < 3 || binaryField(path) {
			return "", false
		}
		if scanned += len(s); scanned > ctxCheckBytes {
			scanned = 0
			if cancelled = ctx.Err(); cancelled != nil {
				return "", false
			}
		}
		found = p.det.find(s, found[:0])
		if len(found) == 0 {
			return "", false
		}
		rep.add(path, found)
		if !rewrite {
			return "", false
		}
		return p.masker.apply(s, found), true
	})
	if cancelled != nil {
		return nil, false, rep, cancelled
	}
	if err != nil {
		return nil, false, rep, fmt.Errorf("pii_filter: %w", err)
	}
	return out, changed, rep, nil
}

// binaryField reports whether the string at path is base64 data: a resource's
// blob, or the data of an image or audio content block. Such data is not text
// a person reads, and masking it would corrupt it.
func binaryField(path mcpparse.Path) bool {
	n := len(path)
	if n == 0 || path[n-1].Index != mcpparse.MemberIndex {
		return false
	}
	switch path[n-1].Key {
	case "blob":
		return true
	case "data":
		// content[i].data (tool results) or messages[i].content.data (prompts).
		return n >= 3 && path[n-2].Index >= 0 && path[n-3].Key == "content" ||
			n >= 2 && path[n-2].Key == "content" && path[n-2].Index == mcpparse.MemberIndex
	}
	return false
}

func (p *Plugin) violation(where string, rep report, types []string) *framework.Violation {
	v := &framework.Violation{
		Reason:      "PII detected",
		Description: "personally identifiable information found in " + where,
		Code:        CodePIIDetected,
		Details:     map[string]any{"count": rep.total},
	}
	if p.cfg.IncludeDetectionDetails {
		v.Description += ": " + strings.Join(types, ", ")
		v.Details["types"] = types
		v.Details["fields"] = rep.fields
	}
	return v
}

func (p *Plugin) log(ctx context.Context, hook framework.HookType, pc *framework.PluginContext, rep report, types []string) {
	action := "masked"
	if p.cfg.BlockOnDetection {
		action = "blocked"
	}
	attrs := []slog.Attr{
		slog.String("plugin", p.name),
		slog.String("hook", string(hook)),
		slog.String("action", action),
		slog.Int("count", rep.total),
		slog.Any("types", types),
		slog.Any("counts", rep.counts),
		slog.Any("fields", rep.fields),
	}
	if pc != nil && pc.Global != nil && pc.Global.RequestID != "" {
		attrs = append(attrs, slog.String("request_id", pc.Global.RequestID))
	}
	slog.Default().LogAttrs(ctx, slog.LevelInfo, "PII detected", attrs...)
}
