package framework

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// Tracing: the framework adds a span per hook run and per plugin call under
// the span the caller's context carries (extproc's exchange span), with the
// caller's tracer provider. A context without a recording span costs
// nothing: no span, no allocation. Spans carry names, verdicts and codes —
// never payload contents.

const tracerName = "github.com/mcp-extproc/mcp-extproc/framework"

// Span attribute keys, shared with package extproc.
const (
	AttrMethod        = "mcp.method"
	AttrToolName      = "mcp.tool.name"
	AttrPromptName    = "mcp.prompt.name"
	AttrResourceURI   = "mcp.resource.uri"
	AttrHook          = "mcp.hook"
	AttrPlugin        = "mcp.plugin.name"
	AttrPluginMode    = "mcp.plugin.mode"
	AttrVerdict       = "mcp.verdict"
	AttrViolationCode = "mcp.violation.code"
	AttrOutcome       = "mcp.plugin.outcome"
)

// NameAttribute is the attribute that names what a hook of family f is
// about: the tool, the prompt or the resource URI.
func NameAttribute(f mcpparse.Family, name string) attribute.KeyValue {
	switch f {
	case mcpparse.FamilyPrompt:
		return attribute.String(AttrPromptName, name)
	case mcpparse.FamilyResource:
		return attribute.String(AttrResourceURI, name)
	}
	return attribute.String(AttrToolName, name)
}

func tracerFrom(ctx context.Context) (trace.Tracer, bool) {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return nil, false
	}
	return parent.TracerProvider().Tracer(tracerName), true
}

// startHookSpan opens the span of one hook pipeline; span is nil when the
// caller does not trace.
func startHookSpan(ctx context.Context, hook HookType, name string) (context.Context, trace.Span) {
	tr, ok := tracerFrom(ctx)
	if !ok {
		return ctx, nil
	}
	return tr.Start(ctx, "mcp.hook "+string(hook), trace.WithAttributes(
		attribute.String(AttrHook, string(hook)), NameAttribute(hook.Family(), name)))
}

func endHookSpan(span trace.Span, plugins int, modified bool, v *Violation) {
	if span == nil {
		return
	}
	verdict := "allowed"
	switch {
	case v != nil:
		verdict = "blocked"
		span.SetAttributes(attribute.String(AttrViolationCode, v.Code), attribute.String(AttrPlugin, v.Plugin))
	case modified:
		verdict = "modified"
	}
	span.SetAttributes(attribute.String(AttrVerdict, verdict), attribute.Int("mcp.hook.plugins", plugins))
	span.End()
}

// invoke is invokeUntraced inside a span of the plugin call when the
// caller traces. External plugins are called the same way, so their calls
// (connection, round trip) get a span too.
func invoke[P Payload](ctx context.Context, m *Manager, e *entry, spec *hookSpec[P], p *P, pc *PluginContext) (Result[P], CallOutcome, *PluginContext, error) {
	tr, ok := tracerFrom(ctx)
	if !ok {
		return invokeUntraced(ctx, m, e, spec, p, pc)
	}
	ctx, span := tr.Start(ctx, "mcp.plugin "+e.name, trace.WithAttributes(
		attribute.String(AttrPlugin, e.name), attribute.String(AttrHook, string(spec.hook)),
		attribute.String(AttrPluginMode, string(e.mode))))
	defer span.End()
	res, oc, snap, err := invokeUntraced(ctx, m, e, spec, p, pc)
	endPluginSpan(span, oc, res.Violation)
	return res, oc, snap, err
}

// invokeInlineTraced is invokeInline inside a span of the plugin call when
// the caller traces; untraced it adds nothing to the call.
func invokeInlineTraced[P Payload](ctx context.Context, e *entry, spec *hookSpec[P], p *P, pc *PluginContext, start time.Time) (Result[P], CallOutcome, time.Time, error) {
	tr, ok := tracerFrom(ctx)
	if !ok {
		return invokeInline(ctx, e, spec, p, pc, start)
	}
	ctx, span := tr.Start(ctx, "mcp.plugin "+e.name, trace.WithAttributes(
		attribute.String(AttrPlugin, e.name), attribute.String(AttrHook, string(spec.hook)),
		attribute.String(AttrPluginMode, string(e.mode))))
	defer span.End()
	res, oc, end, err := invokeInline(ctx, e, spec, p, pc, start)
	endPluginSpan(span, oc, res.Violation)
	return res, oc, end, err
}

// endPluginSpan records a plugin call's outcome on its span.
func endPluginSpan(span trace.Span, oc CallOutcome, v *Violation) {
	span.SetAttributes(attribute.String(AttrOutcome, string(oc)))
	if v != nil {
		span.SetAttributes(attribute.String(AttrViolationCode, v.Code))
	}
	if oc.IsError() {
		// The outcome, not the error text: a plugin's error may quote the payload.
		span.SetStatus(codes.Error, string(oc))
	}
}
