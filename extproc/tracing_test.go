package extproc

import (
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func tracedHarness(t *testing.T) (*harness, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	return newHarnessWith(t, testPolicy, testRegistry(), Options{TracerProvider: tp}), exp
}

// waitSpans returns the ended spans once the exchange span is among them
// (it ends when the server sees the stream end).
func waitSpans(t *testing.T, exp *tracetest.InMemoryExporter) tracetest.SpanStubs {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		spans := exp.GetSpans()
		for _, s := range spans {
			if s.Name == "mcp.exchange" {
				return spans
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no exchange span; got %v", exp.GetSpans())
	return nil
}

func spanNamed(t *testing.T, spans tracetest.SpanStubs, name string) tracetest.SpanStub {
	t.Helper()
	for _, s := range spans {
		if s.Name == name {
			return s
		}
	}
	var names []string
	for _, s := range spans {
		names = append(names, s.Name)
	}
	t.Fatalf("no span %q among %v", name, names)
	return tracetest.SpanStub{}
}

func attrs(s tracetest.SpanStub) map[string]string {
	out := map[string]string{}
	for _, kv := range s.Attributes {
		out[string(kv.Key)] = kv.Value.String()
	}
	return out
}

// A blocked tools/call makes three nested spans under the trace Envoy
// forwarded: exchange, hook, plugin — with method, tool, verdict and code,
// and none of the arguments.
func TestTracingSpansOfABlock(t *testing.T) {
	h, exp := tracedHarness(t)
	st := h.open(buffered, buffered)
	body := toolCallBody("7", "delete_everything", `{"target":"the-password-is-hunter2"}`)
	r := postRequest(t, st, body, "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	immediateOf(t, r)
	st.close()
	spans := waitSpans(t, exp)

	ex := spanNamed(t, spans, "mcp.exchange")
	if ex.SpanContext.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || ex.Parent.SpanID().String() != "00f067aa0ba902b7" {
		t.Errorf("exchange span not parented on traceparent: trace %s parent %s", ex.SpanContext.TraceID(), ex.Parent.SpanID())
	}
	if ex.SpanKind != trace.SpanKindServer {
		t.Errorf("exchange span kind %v", ex.SpanKind)
	}
	want := map[string]string{"mcp.method": "tools/call", "mcp.tool.name": "delete_everything", "mcp.verdict": "blocked", "mcp.violation.code": "TEST_DENIED", "mcp.plugin.name": "deny"}
	got := attrs(ex)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("exchange span %s = %q, want %q", k, got[k], v)
		}
	}
	hook := spanNamed(t, spans, "mcp.hook tool_pre_invoke")
	if hook.Parent.SpanID() != ex.SpanContext.SpanID() {
		t.Error("the hook span is not a child of the exchange span")
	}
	if a := attrs(hook); a["mcp.verdict"] != "blocked" || a["mcp.tool.name"] != "delete_everything" {
		t.Errorf("hook span attributes %v", a)
	}
	plugin := spanNamed(t, spans, "mcp.plugin deny")
	if plugin.Parent.SpanID() != hook.SpanContext.SpanID() {
		t.Error("the plugin span is not a child of the hook span")
	}
	if a := attrs(plugin); a["mcp.plugin.outcome"] != "violation" || a["mcp.violation.code"] != "TEST_DENIED" {
		t.Errorf("plugin span attributes %v", a)
	}
	for _, s := range spans {
		for k, v := range attrs(s) {
			if strings.Contains(v, "hunter2") {
				t.Errorf("span %s attribute %s carries payload contents: %q", s.Name, k, v)
			}
		}
	}
}

// B3 (single header) parents the exchange span too.
func TestTracingB3Parent(t *testing.T) {
	h, exp := tracedHarness(t)
	st := h.open(buffered, buffered)
	postRequest(t, st, toolCallBody("1", "lookup", `{}`), "b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1")
	st.close()
	ex := spanNamed(t, waitSpans(t, exp), "mcp.exchange")
	if ex.SpanContext.TraceID().String() != "80f198ee56343ba864fe8b2a57d3eff7" || ex.Parent.SpanID().String() != "e457b5a2e4d86bd1" {
		t.Errorf("exchange span not parented on b3: trace %s parent %s", ex.SpanContext.TraceID(), ex.Parent.SpanID())
	}
	if a := attrs(ex); a["mcp.verdict"] != "allowed" || a["mcp.tool.name"] != "lookup" {
		t.Errorf("attributes %v", a)
	}
}

// Traffic that is not MCP makes no span.
func TestTracingSkipsOtherTraffic(t *testing.T) {
	h, exp := tracedHarness(t)
	st := h.open(buffered, buffered)
	st.roundTrip(reqHeaders(true, ":method", "GET", ":path", "/healthz"))
	st.close()
	time.Sleep(200 * time.Millisecond)
	if spans := exp.GetSpans(); len(spans) != 0 {
		t.Errorf("spans for a non-MCP exchange: %v", spans)
	}
}
