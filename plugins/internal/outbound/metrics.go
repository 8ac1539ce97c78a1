package outbound

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the outbound families, one series per service (the plugin's
// name, bounded by the policy). They are registered once with
// prometheus.DefaultRegisterer, which the server's /metrics gathers.
type metrics struct {
	duration *prometheus.HistogramVec // service, outcome
	errors   *prometheus.CounterVec   // service, kind
	retries  *prometheus.CounterVec   // service
	cache    *prometheus.CounterVec   // service, result
	breaker  *prometheus.GaugeVec     // service
}

var (
	metricsOnce sync.Once
	shared      *metrics
)

func sharedMetrics() *metrics {
	metricsOnce.Do(func() {
		shared = newMetrics(prometheus.DefaultRegisterer)
	})
	return shared
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mcp_extproc_outbound_request_duration_seconds",
			Help:    "Time of one attempt to call a service, by service (plugin name) and outcome (ok, or the error kind).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"service", "outcome"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mcp_extproc_outbound_errors_total",
			Help: "Failed calls to a service after retries, by service and kind (timeout, connection, status, malformed, breaker_open, canceled).",
		}, []string{"service", "kind"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mcp_extproc_outbound_retries_total",
			Help: "Attempts retried, by service.",
		}, []string{"service"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mcp_extproc_outbound_cache_total",
			Help: "Verdict cache look-ups, by service and result (hit, miss).",
		}, []string{"service", "result"}),
		breaker: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mcp_extproc_outbound_breaker_state",
			Help: "Circuit breaker state by service: 0 closed, 1 half-open, 2 open.",
		}, []string{"service"}),
	}
	reg.MustRegister(m.duration, m.errors, m.retries, m.cache, m.breaker)
	return m
}
