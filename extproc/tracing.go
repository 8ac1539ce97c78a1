package extproc

import (
	"go.opentelemetry.io/contrib/propagators/b3"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// Tracing: with Options.TracerProvider set, each MCP exchange is a server
// span, parented on the trace context Envoy forwards in the request headers
// (W3C traceparent/tracestate or B3, single or multi header). The hook and
// plugin spans of package framework nest under it through the exchange's
// context. Other exchanges (not MCP) get no span. Attributes: the first
// hooked message's method and name, the verdict, the first violation's
// plugin and code — never payload contents.

const tracerName = "github.com/mcp-extproc/mcp-extproc/extproc"

// propagator reads the trace context of a request: W3C first, then B3.
var propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, b3.New())

// headerCarrier lets the propagator read request headers (lower-case names).
type headerCarrier headers

func (c headerCarrier) Get(key string) string { return headers(c).get(key) }
func (headerCarrier) Set(string, string)      {}
func (c headerCarrier) Keys() []string        { return headers(c).names() }

// startTrace opens the exchange's span once it is known to be MCP.
func (e *exchange) startTrace() {
	tp := e.s.opts.TracerProvider
	if tp == nil {
		return
	}
	ctx := propagator.Extract(e.ctx, headerCarrier(e.reqHdrs))
	e.ctx, e.span = tp.Tracer(tracerName).Start(ctx, "mcp.exchange", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", e.reqHdrs.get(":method"))))
}

// endTrace closes the exchange's span with what the exchange decided.
func (e *exchange) endTrace() {
	if e.span == nil {
		return
	}
	f := &e.facts
	if f.method != "" {
		e.span.SetAttributes(attribute.String(framework.AttrMethod, f.method))
	}
	if f.family != mcpparse.FamilyNone {
		e.span.SetAttributes(framework.NameAttribute(f.family, bounded(f.name)))
	}
	if f.verdict != "" {
		e.span.SetAttributes(attribute.String(framework.AttrVerdict, f.verdict))
	}
	if f.code != "" {
		e.span.SetAttributes(attribute.String(framework.AttrViolationCode, f.code), attribute.String(framework.AttrPlugin, f.plugin))
	}
	if f.reason != "" {
		e.span.SetAttributes(attribute.String("mcp.reject_reason", f.reason))
	}
	e.span.End()
}
