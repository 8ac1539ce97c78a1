package extproc

import (
	"net/http"
	"net/http/httptest"
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
