package extproc

import (
	"fmt"
	"net/http"
	"net/http/pprof"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// OpsHandler serves the metrics port: /metrics (Prometheus), /healthz (the
// process is alive) and /readyz (a policy is loaded and the server is not
// draining), and with server.pprof the Go profiler under /debug/pprof/. A
// policy with plugins that are configured but not running is "degraded":
// still ready (those plugins' hooks fail closed, the rest of the policy
// serves), with the plugins named in the body, one per line.
func (s *Server) OpsHandler(g prometheus.Gatherer) http.Handler {
	mux := http.NewServeMux()
	if p := s.policy.Load(); p != nil && p.cfg.Server.Pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if s.draining.Load() || s.policy.Load() == nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("draining\n"))
			return
		}
		if u := s.Unavailable(); len(u) > 0 {
			var b strings.Builder
			b.WriteString("degraded\n")
			for _, p := range u {
				fmt.Fprintf(&b, "plugin %q unavailable: %s\n", p.Plugin, p.Reason)
			}
			_, _ = w.Write([]byte(b.String()))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	return mux
}
