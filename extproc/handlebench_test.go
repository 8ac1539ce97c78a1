package extproc

import (
	"bytes"
	"context"
	"os"
	"runtime"
	"testing"
	"time"

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
		playFresh(b, srv, msgs, ctx, nil, done)
	}
}

// playFresh runs one exchange of msgs through srv's handler, as Process
// does, on a fresh goroutine, as gRPC serves each stream: its stack grows
// as deep as the exchange goes. With per, the time each message took is
// added to per[i]. The goroutine signals done when it ends (one channel
// for all the runs: the exchange's own allocations are what is counted).
func playFresh(b *testing.B, srv *Server, msgs []*extprocv3.ProcessingRequest, ctx context.Context, per []time.Duration, done chan struct{}) {
	go func() {
		defer func() { done <- struct{}{} }()
		growStack() // as Process does
		p := srv.acquire()
		defer srv.release(p)
		ex := newExchange(srv, p, ctx)
		defer ex.endTrace()
		for i, m := range msgs {
			start := time.Now()
			out := ex.handle(m)
			if per != nil {
				per[i] += time.Since(start)
			}
			for _, r := range out {
				if r.GetImmediateResponse() != nil {
					b.Error("blocked") // not Fatal: a goroutine of its own
					return
				}
			}
		}
	}()
	<-done
}

// sseChunkEvents is how many events sseChunk holds.
const sseChunkEvents = 64

// sseChunk starts an exchange of an event stream under ssePolicy (a
// tools/call, its response headers) and returns it with one 64 KiB chunk
// of the stream — 64 tool results of 1 KiB, each with an e-mail address to
// mask (sseEvent) — to send it, and check that an answer masked it.
func sseChunk(tb testing.TB) (ex *exchange, chunk *extprocv3.ProcessingRequest, masked func([]*extprocv3.ProcessingResponse) bool) {
	srv := benchServer(tb, ssePolicy)
	body := toolCallBody("1", "export_rows", `{}`)
	var events []byte
	for i := 1; i <= sseChunkEvents; i++ {
		events = append(events, sseEvent(i)...)
	}
	p := srv.acquire()
	tb.Cleanup(func() { srv.release(p) })
	ex = newExchange(srv, p, context.Background())
	tb.Cleanup(ex.endTrace)
	ex.handle(postHeaders(len(body)))
	ex.handle(reqBody(body, true))
	ex.handle(respHeaders("content-type", "text/event-stream"))
	masked = func(out []*extprocv3.ProcessingResponse) bool {
		if len(out) != 1 {
			return false
		}
		b := out[0].GetResponseBody().GetResponse().GetBodyMutation().GetBody()
		return bytes.Count(b, []byte("\n\n")) == sseChunkEvents && !bytes.Contains(b, []byte("jane.doe@corp.io"))
	}
	return ex, respBody(string(events), false), masked
}

// BenchmarkSSEChunk runs sseChunk's chunk through the exchange's handler
// without gRPC, as the SSE benchmark's long stream sends it: the filter's
// own cost per chunk.
func BenchmarkSSEChunk(b *testing.B) {
	ex, chunk, masked := sseChunk(b)
	b.SetBytes(int64(len(chunk.GetResponseBody().GetBody())))
	b.ReportAllocs()
	for b.Loop() {
		if out := ex.handle(chunk); !masked(out) {
			b.Fatalf("the chunk was not masked: %v", out)
		}
	}
}

// A masked event costs the filter a few copies of itself, not more: its
// data decoded, the masked string, the rewritten result and message, and
// the event written into the chunk's answer, with the parse and the
// plugin's report around them. What a stream holds at a time is bounded
// by the chunk in flight, but each copy is work for the collector and
// room in the resident set (five more copies per event made an SSE
// stream's RSS grow 7–8 MiB where it now grows 3).
func TestSSEChunkCopiesEachEventAFewTimes(t *testing.T) {
	ex, chunk, masked := sseChunk(t)
	if out := ex.handle(chunk); !masked(out) { // and the pools warm
		t.Fatalf("the chunk was not masked: %v", out)
	}
	const rounds = 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range rounds {
		ex.handle(chunk)
	}
	runtime.ReadMemStats(&after)
	perEvent := float64(after.TotalAlloc-before.TotalAlloc) / (rounds * sseChunkEvents)
	event := float64(len(sseEvent(1)))
	t.Logf("%.0f bytes allocated per %.0f-byte event (%.1f times its size)", perEvent, event, perEvent/event)
	if perEvent > 10.5*event {
		t.Errorf("%.0f bytes allocated per %.0f-byte masked event (%.1f times its size), want at most 10.5 times", perEvent, event, perEvent/event)
	}
}

// evictSink is written by evictCaches, so that its writes are not
// optimised away.
var evictSink []byte

// evictCaches writes n bytes a cache line apart: what other processes do
// to the caches while a server waits between streams.
func evictCaches(n int) {
	if len(evictSink) < n {
		evictSink = make([]byte, n)
	}
	for i := 0; i < n; i += 64 {
		evictSink[i]++
	}
}

// BenchmarkFirstEventCold plays an event stream's exchange up to its first
// event — request headers, the tools/call, response headers, one masked
// event (ssePolicy) — on a fresh goroutine with 32 MiB of other memory
// written before it, as a stream finds the server after the machine ran
// other work: the filter's share of the SSE benchmark's time to first
// event, per message (reqhdr-ns, reqbody-ns, resphdr-ns, event-ns), to
// profile against. The writing is most of each iteration's time, so the
// benchmark reports no ns/op of its own.
func BenchmarkFirstEventCold(b *testing.B) {
	srv := benchServer(b, ssePolicy)
	body := toolCallBody("1", "export_rows", `{}`)
	event := string(sseEvent(1))
	per := make([]time.Duration, 4)
	done := make(chan struct{})
	for b.Loop() {
		evictCaches(32 << 20)
		// The messages are made after the caches went, as the codec decodes
		// each one just before the exchange reads it.
		msgs := []*extprocv3.ProcessingRequest{postHeaders(len(body)), reqBody(body, true), respHeaders("content-type", "text/event-stream"), respBody(event, false)}
		playFresh(b, srv, msgs, context.Background(), per, done)
	}
	for i, name := range []string{"reqhdr", "reqbody", "resphdr", "event"} {
		b.ReportMetric(float64(per[i].Nanoseconds())/float64(b.N), name+"-ns")
	}
	b.ReportMetric(0, "ns/op")
}
