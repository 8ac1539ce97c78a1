package outbound

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// BenchmarkCall: one Call with a 1 KiB body, answered from the cache (the
// key's hash included) and by a server on 127.0.0.1 that answers at once
// (the client's whole cost plus the loopback round trip).
func BenchmarkCall(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(ok))
	b.Cleanup(srv.Close)
	body := []byte(`{"input":"` + strings.Repeat("x", 1000) + `"}`)
	for _, bc := range []struct {
		name  string
		cache Cache
	}{
		{"1KiB/cache-hit", Cache{Size: 100, TTL: framework.Duration(time.Hour)}},
		{"1KiB/local-server", Cache{}},
	} {
		s := Settings{Service: "bench-" + bc.name, Timeout: time.Second, Cache: bc.cache, Breaker: DefaultBreaker()}
		c, err := New[verdict](srv.URL, s)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Open(); err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				k := KeyOf(body)
				if _, err := c.Call(context.Background(), Request{Body: body, CacheKey: &k, Idempotent: true}, decodeVerdict); err != nil {
					b.Fatal(err)
				}
			}
		})
		c.Close()
	}
}
