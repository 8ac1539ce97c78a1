package ratelimit

import "github.com/prometheus/client_golang/prometheus"

// backendErrors counts checks the backend could not answer, by plugin and
// what the request got (allow, block). Labels hold only plugin names from
// the policy and the two outcomes.
var backendErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "mcp_extproc_rate_limit_backend_errors_total",
	Help: "rate_limit checks the backend (Redis) could not answer, by plugin and outcome (allow, block).",
}, []string{"plugin", "outcome"})

func init() { prometheus.MustRegister(backendErrors) }
