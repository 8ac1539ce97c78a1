package extproc

import (
	"bytes"
	"context"
	"os"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// BenchmarkHandle runs the load benchmark's exchange (policy loadPolicy,
// 1 KiB tools/call and result) through the exchange's handler without
// gRPC, each exchange on a fresh goroutine as gRPC serves a stream: the
// filter's own cost per exchange, to profile and count allocations
// against. HANDLE_POLICY replaces the plugins (YAML list items, indented
// two spaces).
func BenchmarkHandle(b *testing.B) {
	policy := loadPolicy
	if p := os.Getenv("HANDLE_POLICY"); p != "" {
		policy = "mcp: {paths: [/mcp]}\nplugins:\n" + p
	}
	srv := benchServer(b, policy)
	msgs := loadExchange()
	ctx := context.Background()
	b.ReportAllocs()
	done := make(chan struct{})
	for b.Loop() {
		// Each exchange on a fresh goroutine, as gRPC serves each stream:
		// its stack grows as deep as the exchange goes.
		go func() {
			defer func() { done <- struct{}{} }()
			growStack() // as Process does
			play(b, srv, msgs, ctx)
		}()
		<-done
	}
}

// play runs one exchange of msgs through srv's handler, as Process does.
func play(b *testing.B, srv *Server, msgs []*extprocv3.ProcessingRequest, ctx context.Context) {
	p := srv.acquire()
	defer srv.release(p)
	ex := newExchange(srv, p, ctx)
	defer ex.endTrace()
	for _, m := range msgs {
		for _, r := range ex.handle(m) {
			if r.GetImmediateResponse() != nil {
				b.Error("blocked") // not Fatal: play runs on a goroutine of its own
				return
			}
		}
	}
}

// BenchmarkSSEChunk runs one 64 KiB chunk of an event stream — 64 tool
// results of 1 KiB, each with an e-mail address to mask (sseEvent) —
// through the exchange's handler without gRPC, as the SSE benchmark's
// long stream sends them: the filter's own cost per chunk.
func BenchmarkSSEChunk(b *testing.B) {
	srv := benchServer(b, ssePolicy)
	body := toolCallBody("1", "export_rows", `{}`)
	var chunk []byte
	for i := 1; i <= 64; i++ {
		chunk = append(chunk, sseEvent(i)...)
	}
	msg := respBody(string(chunk), false)
	p := srv.acquire()
	defer srv.release(p)
	ex := newExchange(srv, p, context.Background())
	defer ex.endTrace()
	ex.handle(postHeaders(len(body)))
	ex.handle(reqBody(body, true))
	ex.handle(respHeaders("content-type", "text/event-stream"))
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for b.Loop() {
		out := ex.handle(msg)
		if len(out) != 1 || bytes.Contains(out[0].GetResponseBody().GetResponse().GetBodyMutation().GetBody(), []byte("jane.doe@corp.io")) {
			b.Fatalf("the chunk was not masked: %v", out)
		}
	}
}
