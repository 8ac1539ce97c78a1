package extproc

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestPprofOnlyWhenEnabled(t *testing.T) {
	for _, on := range []bool{false, true} {
		policy := "plugins: []\n"
		if on {
			policy = "server: {pprof: true}\nplugins: []\n"
		}
		h := newHarness(t, policy, testRegistry())
		rec := httptest.NewRecorder()
		h.srv.OpsHandler(prometheus.NewRegistry()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/pprof/", nil))
		if got := rec.Code == http.StatusOK; got != on {
			t.Errorf("server.pprof %v: /debug/pprof/ answered %d", on, rec.Code)
		}
	}
}

// Before any traffic, /metrics already shows the common series at 0: an
// operator's first curl (and a dashboard's rate()) finds them.
func TestMetricsExistBeforeTraffic(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := newHarness(t, "plugins: []\n", testRegistry())
	NewMetrics(reg)
	rec := httptest.NewRecorder()
	h.srv.OpsHandler(reg).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, series := range []string{
		`mcp_extproc_requests_total{method="tools/call",outcome="blocked"} 0`,
		`mcp_extproc_requests_total{method="resources/read",outcome="allowed"} 0`,
		`mcp_extproc_results_total{hook="tool_post_invoke",matched="stream",outcome="modified"} 0`,
		`mcp_extproc_rejections_total{reason="parse_error"} 0`,
		`mcp_extproc_config_reloads_total{result="failure"} 0`,
		`mcp_extproc_unreadable_responses_total{action="block"} 0`,
	} {
		if !strings.Contains(rec.Body.String(), series+"\n") {
			t.Errorf("/metrics lacks %s before traffic:\n%s", series, rec.Body.String())
		}
	}
}
