package extproc

import (
	"context"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/prometheus/client_golang/prometheus"
)

func BenchmarkPhase3(b *testing.B) {
	cfg, _, err := framework.Parse([]byte(ssePolicy), "p.yaml", framework.LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := NewServer(context.Background(), cfg, Options{Metrics: NewMetrics(prometheus.NewRegistry())})
	if err != nil {
		b.Fatal(err)
	}
	req := toolCallBody("1", "export_rows", `{}`)
	ev := string(sseEvent(1))
	p := srv.acquire()
	e := newExchange(srv, p, context.Background())
	e.handle(postHeaders(len(req)))
	e.handle(reqBody(req, true))
	e.handle(respHeaders("content-type", "text/event-stream"))
	msg := respBody(ev, false)
	b.ReportAllocs()
	for b.Loop() {
		e.handle(msg)
	}
}
