package encodedexfil

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/mcpparse"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/hookjson"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/textwalk"
	piifilter "github.com/mcp-extproc/mcp-extproc/plugins/pii_filter"
	secretsdetection "github.com/mcp-extproc/mcp-extproc/plugins/secrets_detection"
)

// CodeEncodedExfil is the violation code of a message blocked because an
// encoded run in it holds a finding.
const CodeEncodedExfil = "ENCODED_EXFIL_DETECTED"

// maxReported bounds the findings listed in a violation, metadata and logs.
const maxReported = 32

// Plugin is an encoded_exfil instance. It is immutable once built and safe
// for concurrent use.
type Plugin struct {
	logger  *slog.Logger // the server's, from SetLogger
	name    string
	cfg     Config
	enabled map[string]bool
	secrets *secretsdetection.Detector
	pii     *piifilter.Detector
	allow   []*regexp.Regexp
	score   *scorer
}

var (
	_ framework.ToolPreInvoker      = (*Plugin)(nil)
	_ framework.ToolPostInvoker     = (*Plugin)(nil)
	_ framework.ResourcePreFetcher  = (*Plugin)(nil)
	_ framework.ResourcePostFetcher = (*Plugin)(nil)
)

// finding is an encoded run of a string whose decoded bytes hold
// something: its bounds in the string, its encodings and what was found
// ("secret:github_token", "pii:email", "suspicious_encoding").
type finding struct {
	start, end int
	encs       []string
	types      []string
}

// scratch is one scan's state: a decode buffer per depth, and the decoded
// bytes spent against max_decoded_bytes.
type scratch struct {
	bufs      [6][]byte
	spent     int
	exhausted bool
}

// spend counts n decoded bytes and reports whether the budget allows them.
func (p *Plugin) spend(sc *scratch, n int) bool {
	sc.spent += n
	if sc.spent > p.cfg.MaxDecodedBytes {
		sc.exhausted = true
	}
	return !sc.exhausted
}

// errBudget is the error of a payload whose decoding exceeds the budget.
func (p *Plugin) errBudget() error {
	return fmt.Errorf("%s: decoding this payload takes more than max_decoded_bytes (%d); it is not passed unread", KindName, p.cfg.MaxDecodedBytes)
}

// findIn returns the findings of s, in order, overlapping runs merged.
func (p *Plugin) findIn(s string, sc *scratch) []finding {
	var out []finding
	p.eachDecoding(s, &sc.bufs[0], func(d decoded) {
		if len(out) >= p.cfg.MaxFindingsPerValue || !p.spend(sc, len(d.bytes)) || p.allowed(s[d.start:d.end]) {
			return
		}
		if types := p.inspectDecoded(s, d, 0, sc, nil); len(types) > 0 {
			out = append(out, finding{start: d.start, end: d.end, encs: []string{d.enc}, types: types})
		}
	})
	return merge(out)
}

// inspectDecoded adds to types what the detectors (and the scorer) find in
// the bytes of d, a run of text, and in the runs inside them while
// max_decode_depth allows.
func (p *Plugin) inspectDecoded(text string, d decoded, depth int, sc *scratch, types []string) []string {
	if p.score != nil && d.skip == 0 && p.score.suspicious(text, d) {
		types = addType(types, TypeSuspicious)
	}
	dec := string(d.bytes)
	types = p.detect(dec, types)
	if wide, ok := utf16LE(d.bytes); ok {
		// PowerShell's -EncodedCommand and Windows tools encode UTF-16LE.
		types = p.detect(wide, types)
	}
	if depth+1 < p.cfg.MaxDecodeDepth && len(dec) >= p.cfg.MinEncodedLength {
		p.eachDecoding(dec, &sc.bufs[depth+1], func(inner decoded) {
			if p.spend(sc, len(inner.bytes)) && !p.allowed(dec[inner.start:inner.end]) {
				types = p.inspectDecoded(dec, inner, depth+1, sc, types)
			}
		})
	}
	return types
}

// detect adds what the secrets and PII detectors find in s to types.
func (p *Plugin) detect(s string, types []string) []string {
	if p.secrets != nil {
		for _, f := range p.secrets.Find(s, nil) {
			types = addType(types, "secret:"+f.Type)
		}
	}
	if p.pii != nil {
		for _, f := range p.pii.Find(s, nil) {
			types = addType(types, "pii:"+f.Type)
		}
	}
	return types
}

// utf16LE returns b as text when it looks like ASCII in UTF-16LE (every
// second byte zero, the others not).
func utf16LE(b []byte) (string, bool) {
	if len(b) < 8 {
		return "", false
	}
	out := make([]byte, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		if b[i+1] != 0 || b[i] == 0 {
			return "", false
		}
		out = append(out, b[i])
	}
	return string(out), true
}

func (p *Plugin) allowed(run string) bool {
	for _, re := range p.allow {
		if re.MatchString(run) {
			return true
		}
	}
	return false
}

func addType(types []string, t string) []string {
	if slices.Contains(types, t) {
		return types
	}
	return append(types, t)
}

// merge sorts findings and joins those whose runs overlap.
func merge(fs []finding) []finding {
	if len(fs) < 2 {
		return fs
	}
	slices.SortFunc(fs, func(a, b finding) int { return a.start - b.start })
	out := fs[:1]
	for _, f := range fs[1:] {
		last := &out[len(out)-1]
		if f.start < last.end {
			last.end = max(last.end, f.end)
			for _, e := range f.encs {
				last.encs = addType(last.encs, e)
			}
			for _, t := range f.types {
				last.types = addType(last.types, t)
			}
			continue
		}
		out = append(out, f)
	}
	return out
}

// redact replaces each finding's run with the redaction text.
func (p *Plugin) redact(s string, fs []finding) string {
	var b strings.Builder
	last := 0
	for _, f := range fs {
		b.WriteString(s[last:f.start])
		b.WriteString(p.cfg.RedactionText)
		last = f.end
	}
	b.WriteString(s[last:])
	return b.String()
}

// report sums up the findings of one payload: paths, encodings and types,
// never values.
type report struct {
	total int
	items []map[string]any
	types []string
}

func (r *report) add(field string, fs []finding) {
	r.total += len(fs)
	for _, f := range fs {
		for _, t := range f.types {
			r.types = addType(r.types, t)
		}
		if len(r.items) < maxReported {
			r.items = append(r.items, map[string]any{"field": field, "encodings": f.encs, "types": f.types})
		}
	}
}

// scan walks the strings of raw (see textwalk) and, under action redact,
// replaces the runs that hold findings.
func (p *Plugin) scan(ctx context.Context, pc *framework.PluginContext, v textwalk.Value, raw []byte, root string, rep *report) ([]byte, bool, error) {
	redact := p.cfg.Action == ActionRedact
	sc := &scratch{}
	out, changed, err := textwalk.Walk(ctx, pc, KindName, v, raw, p.cfg.MinEncodedLength, func(path mcpparse.Path, s string) (string, bool) {
		if sc.exhausted {
			return "", false
		}
		fs := p.findIn(s, sc)
		if len(fs) == 0 {
			return "", false
		}
		rep.add(root+path.String()[1:], fs)
		if !redact {
			return "", false
		}
		return p.redact(s, fs), true
	})
	if err == nil && sc.exhausted {
		err = p.errBudget()
	}
	return out, changed, err
}

// process is the plugin's hookjson.Inspect.
func (p *Plugin) process(ctx context.Context, hook framework.HookType, where string, raw json.RawMessage, pc *framework.PluginContext) (json.RawMessage, *framework.Violation, map[string]any, error) {
	if len(raw) == 0 {
		return nil, nil, nil, ctx.Err()
	}
	var rep report
	out, changed, err := p.scan(ctx, pc, textwalk.ValueOf(hook), raw, "$", &rep)
	if err != nil {
		return nil, nil, nil, err
	}
	v, meta := p.decide(ctx, hook, where, rep, pc)
	if v != nil || !changed {
		return nil, v, meta, nil
	}
	return out, nil, meta, nil
}

// decide turns a report into a violation (action block, enough findings)
// and metadata, and logs it.
func (p *Plugin) decide(ctx context.Context, hook framework.HookType, where string, rep report, pc *framework.PluginContext) (*framework.Violation, map[string]any) {
	if rep.total == 0 {
		return nil, nil
	}
	slices.Sort(rep.types)
	block := p.cfg.Action == ActionBlock && rep.total >= p.cfg.MinFindingsToBlock
	meta := map[string]any{"encoded_exfil_count": rep.total, "encoded_exfil_redacted": p.cfg.Action == ActionRedact}
	if p.cfg.IncludeDetectionDetails {
		meta["encoded_exfil_findings"] = rep.items
	}
	if p.cfg.LogDetections {
		action := string(p.cfg.Action)
		if p.cfg.Action == ActionBlock && !block {
			action = string(ActionLog)
		}
		attrs := []slog.Attr{slog.String("hook", string(hook)), slog.String("action", action),
			slog.Int("count", rep.total), slog.Any("types", rep.types), slog.Any("findings", rep.items)}
		if pc != nil && pc.Global != nil && pc.Global.RequestID != "" {
			attrs = append(attrs, slog.String("request_id", pc.Global.RequestID))
		}
		if p.logger != nil {
			p.logger.LogAttrs(ctx, slog.LevelWarn, "encoded data with findings", attrs...)
		}
	}
	if !block {
		return nil, meta
	}
	v := &framework.Violation{
		Reason:      "encoded exfiltration detected",
		Description: "encoded data in " + where + " decodes to sensitive content",
		Code:        CodeEncodedExfil,
		Details:     map[string]any{"count": rep.total},
	}
	if p.cfg.IncludeDetectionDetails {
		v.Description += ": " + strings.Join(rep.types, ", ")
		v.Details["types"] = rep.types
		v.Details["findings"] = rep.items
	}
	return v, meta
}

// ToolPreInvoke scans the tool arguments.
func (p *Plugin) ToolPreInvoke(ctx context.Context, pl *framework.ToolPreInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	return hookjson.ToolPreInvoke(ctx, pl, pc, p.process)
}

// ToolPostInvoke scans the tool result.
func (p *Plugin) ToolPostInvoke(ctx context.Context, pl *framework.ToolPostInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPostInvokePayload], error) {
	return hookjson.ToolPostInvoke(ctx, pl, pc, p.process)
}

// PromptPreFetch scans the prompt arguments.
func (p *Plugin) PromptPreFetch(ctx context.Context, pl *framework.PromptPreFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPreFetchPayload], error) {
	return hookjson.PromptPreFetch(ctx, pl, pc, p.process)
}

// PromptPostFetch scans the prompt result.
func (p *Plugin) PromptPostFetch(ctx context.Context, pl *framework.PromptPostFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPostFetchPayload], error) {
	return hookjson.PromptPostFetch(ctx, pl, pc, p.process)
}

// ResourcePostFetch scans the resource contents (text; blobs are binary).
func (p *Plugin) ResourcePostFetch(ctx context.Context, pl *framework.ResourcePostFetchPayload, pc *framework.PluginContext) (framework.Result[framework.ResourcePostFetchPayload], error) {
	return hookjson.ResourcePostFetch(ctx, pl, pc, p.process)
}

// ResourcePreFetch scans the resource URI (a query parameter carrying
// base64, say) and the request's _meta.
func (p *Plugin) ResourcePreFetch(ctx context.Context, pl *framework.ResourcePreFetchPayload, pc *framework.PluginContext) (framework.Result[framework.ResourcePreFetchPayload], error) {
	var res framework.Result[framework.ResourcePreFetchPayload]
	if err := ctx.Err(); err != nil {
		return res, err
	}
	var rep report
	uri := pl.URI
	sc := &scratch{}
	if fs := p.findIn(uri, sc); len(fs) > 0 {
		rep.add("$.uri", fs)
		if p.cfg.Action == ActionRedact {
			uri = p.redact(uri, fs)
		}
	}
	if sc.exhausted {
		return res, p.errBudget()
	}
	meta := pl.Metadata
	if len(meta) > 0 {
		out, changed, err := p.scan(ctx, pc, textwalk.Arguments, meta, "$._meta", &rep)
		if err != nil {
			return res, err
		}
		if changed {
			meta = out
		}
	}
	res.Violation, res.Metadata = p.decide(ctx, framework.ResourcePreFetch, "the resource request", rep, pc)
	if res.Violation == nil && (uri != pl.URI || len(meta) != len(pl.Metadata) || string(meta) != string(pl.Metadata)) {
		res.ModifiedPayload = &framework.ResourcePreFetchPayload{URI: uri, Metadata: meta}
	}
	return res, nil
}

var _ framework.LoggerSetter = (*Plugin)(nil)

// SetLogger implements framework.LoggerSetter.
func (p *Plugin) SetLogger(l *slog.Logger) { p.logger = l }
