package extproc

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
)

// collector is a real OTLP/gRPC trace receiver: the collector service of
// the OTLP protocol definitions, recording what it is sent.
type collector struct {
	collectortrace.UnimplementedTraceServiceServer
	mu   sync.Mutex
	reqs []*collectortrace.ExportTraceServiceRequest
}

func (c *collector) Export(_ context.Context, r *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reqs = append(c.reqs, r)
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

func startCollector(t *testing.T) (*collector, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	gs := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(gs, c)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	return c, lis.Addr().String()
}

func TestTracingOffUnlessConfigured(t *testing.T) {
	for _, env := range []map[string]string{
		{},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_SDK_DISABLED": "true"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_TRACES_EXPORTER": "none"},
	} {
		for _, k := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER"} {
			t.Setenv(k, env[k])
		}
		tp, shutdown, err := NewTracerProvider(t.Context(), "test")
		if err != nil || tp != nil {
			t.Errorf("env %v: tracer provider %v, err %v; want tracing off", env, tp, err)
		}
		_ = shutdown(t.Context())
	}
	t.Setenv("OTEL_SDK_DISABLED", "")
	t.Setenv("OTEL_TRACES_EXPORTER", "")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon")
	if _, _, err := NewTracerProvider(t.Context(), "test"); err == nil {
		t.Error("an unknown OTLP protocol was accepted")
	}
}

// Configured by the standard variables, spans reach a real OTLP/gRPC
// receiver with the resource and attributes an operator would query.
func TestTracingExportsToOTLPReceiver(t *testing.T) {
	c, addr := startCollector(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+addr)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	t.Setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
	t.Setenv("OTEL_SERVICE_NAME", "mcp-extproc-test")
	t.Setenv("OTEL_SDK_DISABLED", "")
	t.Setenv("OTEL_TRACES_EXPORTER", "")
	tp, shutdown, err := NewTracerProvider(t.Context(), "v1.2.3")
	if err != nil || tp == nil {
		t.Fatalf("tracer provider %v, err %v", tp, err)
	}
	h := newHarnessWith(t, testPolicy, testRegistry(), Options{TracerProvider: tp})
	st := h.open(buffered, buffered)
	immediateOf(t, postRequest(t, st, toolCallBody("9", "delete_everything", `{}`),
		"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"))
	st.close()
	// The exchange span ends when the server sees the stream end.
	time.Sleep(200 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := shutdown(ctx); err != nil { // flushes the batch
		t.Fatalf("shutdown: %v", err)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	names := map[string]map[string]string{}
	service := ""
	for _, r := range c.reqs {
		for _, rs := range r.ResourceSpans {
			for _, kv := range rs.Resource.Attributes {
				if kv.Key == "service.name" {
					service = kv.Value.GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					a := map[string]string{"trace_id": string(s.TraceId)}
					for _, kv := range s.Attributes {
						a[kv.Key] = kv.Value.GetStringValue()
					}
					names[s.Name] = a
				}
			}
		}
	}
	if service != "mcp-extproc-test" {
		t.Errorf("service.name %q, want OTEL_SERVICE_NAME", service)
	}
	ex, ok := names["mcp.exchange"]
	if !ok {
		t.Fatalf("the receiver got no exchange span: %v", names)
	}
	if ex["mcp.verdict"] != "blocked" || ex["mcp.tool.name"] != "delete_everything" || ex["mcp.violation.code"] != "TEST_DENIED" {
		t.Errorf("exchange span attributes %v", ex)
	}
	for _, n := range []string{"mcp.hook tool_pre_invoke", "mcp.plugin deny"} {
		if _, ok := names[n]; !ok {
			t.Errorf("the receiver got no %q span: %v", n, names)
		}
	}
	want := "\x0a\xf7\x65\x19\x16\xcd\x43\xdd\x84\x48\xeb\x21\x1c\x80\x31\x9c"
	if ex["trace_id"] != want {
		t.Errorf("exported trace id %x, want the traceparent's", ex["trace_id"])
	}
}
