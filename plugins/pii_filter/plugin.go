package piifilter

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/findings"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/hookjson"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/textwalk"
)

// CodePIIDetected is the violation code of a message blocked because it
// holds PII (block_on_detection: true).
const CodePIIDetected = "PII_DETECTED"

// Plugin is a pii_filter instance. Its hook methods are safe for concurrent
// use: all its state is fixed when it is built.
type Plugin struct {
	logger *slog.Logger // the server's, from SetLogger
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
	return &Plugin{logger: slog.New(slog.DiscardHandler), name: name, cfg: cfg, det: det, masker: newMasker(&cfg)}, nil
}

// PromptPreFetch scans the prompt arguments.
func (p *Plugin) PromptPreFetch(ctx context.Context, pl *framework.PromptPreFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPreFetchPayload], error) {
	return hookjson.PromptPreFetch(ctx, pl, pc, p.process)
}

// PromptPostFetch scans the prompt result (its messages).
func (p *Plugin) PromptPostFetch(ctx context.Context, pl *framework.PromptPostFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPostFetchPayload], error) {
	return hookjson.PromptPostFetch(ctx, pl, pc, p.process)
}

// ToolPreInvoke scans the tool arguments.
func (p *Plugin) ToolPreInvoke(ctx context.Context, pl *framework.ToolPreInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	return hookjson.ToolPreInvoke(ctx, pl, pc, p.process)
}

// ToolPostInvoke scans the tool result: content blocks, embedded resources,
// structuredContent.
func (p *Plugin) ToolPostInvoke(ctx context.Context, pl *framework.ToolPostInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPostInvokePayload], error) {
	return hookjson.ToolPostInvoke(ctx, pl, pc, p.process)
}

// ResourcePostFetch scans the resource contents.
func (p *Plugin) ResourcePostFetch(ctx context.Context, pl *framework.ResourcePostFetchPayload, pc *framework.PluginContext) (framework.Result[framework.ResourcePostFetchPayload], error) {
	return hookjson.ResourcePostFetch(ctx, pl, pc, p.process)
}

// process is the plugin's hookjson.Inspect: it scans raw and returns the
// masked JSON (nil when nothing changed), or a violation when the plugin
// blocks, and metadata for the caller.
func (p *Plugin) process(ctx context.Context, hook framework.HookType, where string, raw json.RawMessage, pc *framework.PluginContext) (json.RawMessage, *framework.Violation, map[string]any, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, nil, err
	}
	if len(raw) == 0 {
		return nil, nil, nil, nil
	}
	rewrite := !p.cfg.BlockOnDetection
	out, changed, rep, err := p.scan(ctx, pc, textwalk.ValueOf(hook), raw, rewrite)
	if err != nil {
		return nil, nil, nil, err
	}
	if rep.Total == 0 {
		return nil, nil, nil, nil
	}
	types := rep.Types()
	if p.cfg.LogDetections {
		action := "masked"
		if p.cfg.BlockOnDetection {
			action = "blocked"
		}
		rep.Log(ctx, p.logger, slog.LevelInfo, "PII detected", hook, pc, action)
	}
	meta := map[string]any{"pii_count": rep.Total, "pii_types": types}
	if p.cfg.BlockOnDetection {
		return nil, p.violation(where, rep, types), meta, nil
	}
	if !changed {
		return nil, nil, meta, nil
	}
	return out, nil, meta, nil
}

// scan walks the text strings of raw (a JSON value; see findings.Scan),
// finds PII and, when rewrite is set, masks it.
func (p *Plugin) scan(ctx context.Context, pc *framework.PluginContext, v textwalk.Value, raw []byte, rewrite bool) ([]byte, bool, findings.Report, error) {
	var rep findings.Report
	out, changed, err := findings.Scan(ctx, pc, KindName, v, raw, 3, "$", &rep, findings.Detector[finding]{
		Find: p.det.find, Type: func(f finding) string { return f.typ }, Replace: p.masker.apply,
	}, rewrite)
	if err != nil {
		return nil, false, rep, err
	}
	return out, changed, rep, nil
}

func (p *Plugin) violation(where string, rep findings.Report, types []string) *framework.Violation {
	v := &framework.Violation{
		Reason:      "PII detected",
		Description: "personally identifiable information found in " + where,
		Code:        CodePIIDetected,
		Details:     map[string]any{"count": rep.Total},
	}
	if p.cfg.IncludeDetectionDetails {
		v.Description += ": " + strings.Join(types, ", ")
		v.Details["types"] = types
		v.Details["fields"] = rep.Fields
	}
	return v
}

var _ framework.LoggerSetter = (*Plugin)(nil)

// SetLogger implements framework.LoggerSetter: detections are logged
// through the server's logger, which names the plugin.
func (p *Plugin) SetLogger(l *slog.Logger) { p.logger = l }
