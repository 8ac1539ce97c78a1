package secretsdetection

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/findings"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/hookjson"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/textwalk"
)

// CodeSecretDetected is the violation code of a message blocked because it
// holds a secret.
const CodeSecretDetected = "SECRET_DETECTED"

// Plugin is a secrets_detection instance. Its hook methods are safe for
// concurrent use: all its state is fixed when it is built.
type Plugin struct {
	logger *slog.Logger // the server's, from SetLogger
	name   string
	cfg    Config
	det    *detector
}

// New builds a plugin named name from settings (start from DefaultConfig).
// An empty Action is derived from ContextForge's block_on_detection and
// redact. It checks the settings and compiles the patterns; it does no I/O.
func New(name string, cfg Config) (*Plugin, error) {
	cfg.Enabled = maps.Clone(cfg.Enabled)
	cfg.CustomPatterns = slices.Clone(cfg.CustomPatterns)
	cfg.WhitelistPatterns = slices.Clone(cfg.WhitelistPatterns)
	det, err := cfg.resolve(cfg.Action != "")
	if err != nil {
		return nil, err
	}
	return &Plugin{logger: slog.New(slog.DiscardHandler), name: name, cfg: cfg, det: det}, nil
}

// PromptPreFetch scans the prompt arguments.
func (p *Plugin) PromptPreFetch(ctx context.Context, pl *framework.PromptPreFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPreFetchPayload], error) {
	return hookjson.PromptPreFetch(ctx, pl, pc, p.process)
}

// PromptPostFetch scans the prompt result.
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

// ResourcePreFetch scans the resource URI (a token in its query string, say)
// and the request's _meta.
func (p *Plugin) ResourcePreFetch(ctx context.Context, pl *framework.ResourcePreFetchPayload, pc *framework.PluginContext) (framework.Result[framework.ResourcePreFetchPayload], error) {
	if err := ctx.Err(); err != nil {
		return framework.Result[framework.ResourcePreFetchPayload]{}, err
	}
	var rep findings.Report
	redact := p.cfg.Action == ActionRedact
	uri := pl.URI
	found := p.det.find(uri, nil)
	// A secret written with percent-escapes (%2F for '/') is only visible
	// once unescaped. It cannot be redacted in place: under action redact,
	// it blocks.
	hidden := false
	if strings.IndexByte(uri, '%') >= 0 {
		if un, err := url.PathUnescape(uri); err == nil {
			if unFound := p.det.find(un, nil); len(unFound) > len(found) {
				found, hidden = unFound, true
			}
		}
	}
	if len(found) > 0 {
		rep.Add("$.uri", types(found)...)
		if redact && !hidden {
			uri = p.redact(uri, found)
		}
	}
	var meta json.RawMessage
	if len(pl.Metadata) > 0 {
		out, changed, err := p.scan(ctx, pc, textwalk.Arguments, pl.Metadata, redact, "$._meta", &rep)
		if err != nil {
			return framework.Result[framework.ResourcePreFetchPayload]{}, err
		}
		if changed {
			meta = out
		}
	}
	v, md := p.decide(ctx, framework.ResourcePreFetch, "the resource request", rep, pc, hidden && redact)
	res := framework.Result[framework.ResourcePreFetchPayload]{Violation: v, Metadata: md}
	if v == nil && redact && (uri != pl.URI || meta != nil) {
		mp := &framework.ResourcePreFetchPayload{URI: uri, Metadata: pl.Metadata}
		if meta != nil {
			mp.Metadata = meta
		}
		res.ModifiedPayload = mp
	}
	return res, nil
}

// ResourcePostFetch scans the resource contents.
func (p *Plugin) ResourcePostFetch(ctx context.Context, pl *framework.ResourcePostFetchPayload, pc *framework.PluginContext) (framework.Result[framework.ResourcePostFetchPayload], error) {
	return hookjson.ResourcePostFetch(ctx, pl, pc, p.process)
}

// process is the plugin's hookjson.Inspect: it scans raw and returns the
// redacted JSON (nil when nothing changed), or a violation, and metadata for
// the caller.
func (p *Plugin) process(ctx context.Context, hook framework.HookType, where string, raw json.RawMessage, pc *framework.PluginContext) (json.RawMessage, *framework.Violation, map[string]any, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, nil, err
	}
	if len(raw) == 0 {
		return nil, nil, nil, nil
	}
	redact := p.cfg.Action == ActionRedact
	var rep findings.Report
	out, changed, err := p.scan(ctx, pc, textwalk.ValueOf(hook), raw, redact, "$", &rep)
	if err != nil {
		return nil, nil, nil, err
	}
	v, meta := p.decide(ctx, hook, where, rep, pc, false)
	if v != nil || !changed {
		return nil, v, meta, nil
	}
	return out, nil, meta, nil
}

// decide turns a report into the plugin's answer: a violation under action
// block (or when a secret could not be redacted), metadata otherwise, and a
// log record.
func (p *Plugin) decide(ctx context.Context, hook framework.HookType, where string, rep findings.Report, pc *framework.PluginContext, mustBlock bool) (*framework.Violation, map[string]any) {
	if rep.Total == 0 {
		return nil, nil
	}
	types := rep.Types()
	block := mustBlock || p.cfg.Action == ActionBlock && rep.Total >= p.cfg.MinFindingsToBlock
	action := string(p.cfg.Action)
	if block {
		action = string(ActionBlock)
	} else if p.cfg.Action == ActionBlock {
		action = string(ActionLog) // below min_findings_to_block
	}
	if p.cfg.LogDetections {
		rep.Log(ctx, p.logger, slog.LevelWarn, "secrets detected", hook, pc, action)
	}
	meta := map[string]any{"secrets_count": rep.Total, "secrets_types": types, "secrets_redacted": action == string(ActionRedact)}
	if !block {
		return nil, meta
	}
	return &framework.Violation{
		Reason:      "secret detected",
		Description: "a credential was found in " + where + ": " + strings.Join(types, ", "),
		Code:        CodeSecretDetected,
		Details:     map[string]any{"types": types, "fields": rep.Fields, "count": rep.Total},
	}, meta
}

// scan walks the text strings of raw (a JSON value; see findings.Scan),
// adds the secrets it holds to rep under root and, when redact is set,
// replaces them.
func (p *Plugin) scan(ctx context.Context, pc *framework.PluginContext, v textwalk.Value, raw []byte, redact bool, root string, rep *findings.Report) ([]byte, bool, error) {
	return findings.Scan(ctx, pc, KindName, v, raw, 8, root, rep, findings.Detector[finding]{
		Find: p.det.find, Type: func(f finding) string { return f.typ }, Replace: p.redact,
	}, redact)
}

// types lists the types of fs, for a Report.
func types(fs []finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.typ
	}
	return out
}

// redact replaces each finding of s with the redaction text.
func (p *Plugin) redact(s string, fs []finding) string {
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, f := range fs {
		b.WriteString(s[last:f.start])
		b.WriteString(p.cfg.RedactionText)
		last = f.end
	}
	b.WriteString(s[last:])
	return b.String()
}

var _ framework.LoggerSetter = (*Plugin)(nil)

// SetLogger implements framework.LoggerSetter: detections are logged
// through the server's logger, which names the plugin.
func (p *Plugin) SetLogger(l *slog.Logger) { p.logger = l }
