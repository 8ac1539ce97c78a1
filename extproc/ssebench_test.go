package extproc

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcp-extproc/mcp-extproc/envoy"
	"github.com/mcp-extproc/mcp-extproc/extproc/envoytest"
)

// The SSE benchmark streams one long tools/call result stream — 256 MiB of
// 1 KiB events, each a tool result carrying an e-mail address — from an MCP
// server through the Envoy stand-in (envoytest, with the shipped ext_proc
// filter) to a client, once with mcp-extproc masking PII on
// tool_post_invoke and once with a pass-through ext_proc server that only
// switches the stream to STREAMED. Both servers run in child processes, so
// their memory is their own. It reports the filter's throughput, the
// resident memory the filter needs beyond its size at rest (sampled during
// the stream, and its peak), and the time to the first event at the client
// as a ratio of the pass-through's.

// ssePolicy masks PII in tool results, the post hook every event runs.
const ssePolicy = `
mcp: {paths: [/mcp]}
plugins:
  - {name: pii, kind: pii_filter, hooks: [tool_post_invoke]}
`

// sseEvent returns event i: a 1 KiB tool result with an e-mail address.
func sseEvent(i int) []byte {
	head := `data: {"jsonrpc":"2.0","id":` + strconv.Itoa(i) + `,"result":{"content":[{"type":"text","text":"row ` + strconv.Itoa(i) + `: ask jane.doe@corp.io about `
	tail := `"}]}}` + "\n\n"
	return []byte(head + strings.Repeat("x", 1024-len(head)-len(tail)) + tail)
}

// sseUpstream is an MCP server answering every POST with n events: the
// first on its own, flushed, as a server sends the first result it has
// (then, with pause, it waits before the next: a result computed over
// time), the rest in 64 KiB writes.
func sseUpstream(n *atomic.Int64, pause *atomic.Bool) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		f := w.(http.Flusher)
		_, _ = w.Write(sseEvent(1))
		f.Flush()
		if pause.Load() {
			time.Sleep(2 * time.Millisecond)
		}
		var batch bytes.Buffer
		for i := int64(2); i <= n.Load(); i++ {
			batch.Write(sseEvent(int(i)))
			if batch.Len() >= 64<<10 {
				if _, err := w.Write(batch.Bytes()); err != nil {
					return
				}
				batch.Reset()
			}
		}
		_, _ = w.Write(batch.Bytes())
	}))
}

// sseResult is what the client saw of one stream.
type sseResult struct {
	firstEvent time.Duration // from sending the request to the first complete event
	total      time.Duration
	bytes      int64
	events     int64
	leaked     bool // an e-mail address reached the client
}

// playSSEStream posts a tools/call to the proxy and reads the event stream.
func playSSEStream(c *http.Client, url string) (sseResult, error) {
	body := toolCallBody("1", "export_rows", `{}`)
	req, _ := http.NewRequest("POST", url+"/mcp", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return sseResult{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return sseResult{}, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	var r sseResult
	buf := make([]byte, 64<<10)
	var tail []byte // the end of the previous read, for matches across reads
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			seen := append(tail, buf[:n]...)
			if r.firstEvent == 0 && bytes.Contains(seen, []byte("\n\n")) {
				r.firstEvent = time.Since(start)
			}
			r.events += int64(bytes.Count(seen, []byte("\n\n")) - bytes.Count(tail, []byte("\n\n")))
			if bytes.Contains(seen, []byte("jane.doe@corp.io")) {
				r.leaked = true
			}
			r.bytes += int64(n)
			tail = append(tail[:0], seen[max(0, len(seen)-32):]...)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return r, err
		}
	}
	r.total = time.Since(start)
	return r, nil
}

// memory returns the process's resident set size now and at its peak
// (VmRSS and VmHWM of /proc/PID/status), in bytes.
func (c *child) memory(b *testing.B) (rss, peak int64) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kib, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = kib << 10
		case "VmHWM":
			peak = kib << 10
		}
	}
	return rss, peak
}

// sample samples c's resident set size every 20 ms, and its live heap
// every 250 ms, until stop is called, which returns the largest of each.
func sample(b *testing.B, c *child) (stop func() (rss, heap int64)) {
	var (
		wg            sync.WaitGroup
		maxRSS, maxHp int64
		done          = make(chan struct{})
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			if rss, _ := c.memory(b); rss > maxRSS {
				maxRSS = rss
			}
			if i%12 == 0 {
				maxHp = max(maxHp, c.liveHeap(b))
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() (int64, int64) { close(done); wg.Wait(); return maxRSS, maxHp }
}

func BenchmarkSSEStream(b *testing.B) {
	mib := 256
	if n, err := strconv.Atoi(os.Getenv("SSE_MIB")); err == nil && n > 0 {
		mib = n
	}
	policy := b.TempDir() + "/policy.yaml"
	if err := os.WriteFile(policy, []byte(ssePolicy), 0o644); err != nil {
		b.Fatal(err)
	}
	filter, err := envoy.ShippedExtProcFilter()
	if err != nil {
		b.Fatal(err)
	}
	var events atomic.Int64
	var pause atomic.Bool
	upstream := sseUpstream(&events, &pause)
	b.Cleanup(upstream.Close)
	servers := map[string]*child{"passthrough": startChild(b, "passthrough-stream"), "filter": startChild(b, policy)}
	proxies := map[string]*envoytest.Server{}
	for name, srv := range servers {
		p, err := envoytest.NewServer(filter, srv.addr, upstream.URL)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(p.Close)
		proxies[name] = p
	}
	play := func(name string) sseResult {
		r, err := playSSEStream(proxies[name].Client(), proxies[name].URL)
		if err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		if r.events != events.Load() {
			b.Fatalf("%s: the client got %d events of %d", name, r.events, events.Load())
		}
		if name == "filter" && r.leaked {
			b.Fatal("an e-mail address passed the filter unmasked")
		}
		return r
	}

	// Time to first event: short streams whose first event comes on its
	// own, alternating between the servers, medians compared.
	events.Store(16)
	pause.Store(true)
	ttfe := map[string][]time.Duration{}
	for range 5 { // warm up both
		play("passthrough")
		play("filter")
	}
	// A thousand of each (200 moved the ratio between 1.03 and 1.14 from one
	// run to the next on the shared machine), in pairs whose order turns,
	// so that neither server always runs on the caches the other warmed.
	const trials = 1000
	var pairRatios []float64
	for k := range trials {
		order := []string{"passthrough", "filter"}
		if k%2 == 1 {
			order = []string{"filter", "passthrough"}
		}
		for _, name := range order {
			ttfe[name] = append(ttfe[name], play(name).firstEvent)
		}
		pairRatios = append(pairRatios, float64(ttfe["filter"][k])/float64(ttfe["passthrough"][k]))
	}
	median := func(d []time.Duration) time.Duration { slices.Sort(d); return d[len(d)/2] }
	ptFirst, fFirst := median(ttfe["passthrough"]), median(ttfe["filter"])
	slices.Sort(pairRatios)

	// The long stream: memory at rest (after the short streams), sampled
	// during the stream, and the peak.
	b.ResetTimer()
	events.Store(int64(mib) << 10)
	pause.Store(false)
	long := map[string]sseResult{}
	grew, heapGrew := map[string]int64{}, map[string]int64{}
	for _, name := range []string{"passthrough", "filter"} {
		srv := servers[name]
		heapRest := srv.liveHeap(b)
		rest, _ := srv.memory(b)
		stop := sample(b, srv)
		long[name] = play(name)
		largest, heapMax := stop()
		_, peak := srv.memory(b)
		grew[name], heapGrew[name] = max(largest, peak)-rest, heapMax-heapRest
		b.Logf("%-11s %d MiB in %v (%.0f MiB/s); live heap at rest %.2f MiB, sampled max %.2f MiB (%+d KiB); RSS at rest %.1f MiB, peak %.1f MiB (%+.1f MiB)",
			name, mib, long[name].total.Round(time.Millisecond), float64(mib)/long[name].total.Seconds(),
			float64(heapRest)/(1<<20), float64(heapMax)/(1<<20), heapGrew[name]>>10,
			float64(rest)/(1<<20), float64(peak)/(1<<20), float64(grew[name])/(1<<20))
	}
	b.StopTimer()
	b.Logf("time to first event (median of %d): pass-through %v, filter %v, ratio %.3f (median of the pairs' ratios %.3f)",
		trials, ptFirst, fFirst, float64(fFirst)/float64(ptFirst), pairRatios[trials/2])
	b.ReportMetric(float64(fFirst)/float64(ptFirst), "first_event_ratio")
	b.ReportMetric(float64(mib)/long["filter"].total.Seconds(), "filter_MiB/s")
	b.ReportMetric(float64(grew["filter"])/(1<<20), "filter_rss_growth_MiB")
	b.ReportMetric(float64(heapGrew["filter"])/(1<<10), "filter_live_heap_growth_KiB")
	b.ReportMetric(0, "ns/op")
	// Bounded by what is in flight, not by the stream: while 256 MiB pass,
	// the filter holds the chunk Envoy sent (64 KiB here, 64 events), its
	// answer, the held-back tail and the buffers gRPC pools — nothing that
	// accumulates. 4 MiB of live heap is 1/64 of the stream; resident
	// memory also carries the runtime's slack between collections (GOGC),
	// bounded at 1/16.
	if heapGrew["filter"] > 4<<20 {
		b.Errorf("the filter's live heap grew by %d KiB over a %d MiB stream", heapGrew["filter"]>>10, mib)
	}
	if grew["filter"] > 16<<20 {
		b.Errorf("the filter's resident memory grew by %.1f MiB over a %d MiB stream", float64(grew["filter"])/(1<<20), mib)
	}
}
