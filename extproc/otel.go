package extproc

import (
	"context"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// NewTracerProvider configures tracing from the standard OpenTelemetry
// environment variables, and is off unless they ask for it: with neither
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT nor OTEL_EXPORTER_OTLP_ENDPOINT set, or
// with OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none, it returns nil
// (no spans, no cost). Otherwise spans go to an OTLP exporter:
// OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL grpc or http/protobuf (the default),
// with the exporter's own OTEL_EXPORTER_OTLP_* settings (headers, TLS,
// timeout), OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES for the resource
// (service.name defaults to mcp-extproc) and OTEL_TRACES_SAMPLER[_ARG] for
// sampling (parent-based, always on, by default). shutdown flushes.
func NewTracerProvider(ctx context.Context, version string) (tp trace.TracerProvider, shutdown func(context.Context) error, err error) {
	noop := func(context.Context) error { return nil }
	if !tracingRequested() {
		return nil, noop, nil
	}
	var exp *otlptrace.Exporter
	switch proto := firstEnv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"); proto {
	case "grpc":
		exp, err = otlptracegrpc.New(ctx)
	case "", "http/protobuf":
		exp, err = otlptracehttp.New(ctx)
	default:
		return nil, noop, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q: want grpc or http/protobuf", proto)
	}
	if err != nil {
		return nil, noop, fmt.Errorf("otlp exporter: %w", err)
	}
	res, err := resource.Merge(
		resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName("mcp-extproc"), semconv.ServiceVersion(version)),
		resource.Environment())
	if err != nil {
		return nil, noop, fmt.Errorf("otel resource: %w", err)
	}
	sdk := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return sdk, sdk.Shutdown, nil
}

func tracingRequested() bool {
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") || strings.EqualFold(os.Getenv("OTEL_TRACES_EXPORTER"), "none") {
		return false
	}
	return firstEnv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT") != ""
}

func firstEnv(keys ...string) string {
	for _, k := range keys {
		if v := strings.TrimSpace(os.Getenv(k)); v != "" {
			return v
		}
	}
	return ""
}
