package plugintest

import (
	"testing"
	"time"
)

// ReportCPU starts measuring the process's CPU time (the benchmark's own
// work and the garbage collection it causes); the function it returns, run
// after the benchmark loop, reports it per operation as cpu-ns/op. On a
// machine shared with other work, wall-clock ns/op also counts the time the
// benchmark waited for a core; cpu-ns/op does not.
//
//	defer plugintest.ReportCPU(b)()
//	for b.Loop() { … }
func ReportCPU(b *testing.B) func() {
	start := processCPU()
	return func() {
		if used := processCPU() - start; used > 0 && b.N > 0 {
			b.ReportMetric(float64(used/time.Nanosecond)/float64(b.N), "cpu-ns/op")
		}
	}
}
