package extproc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	filterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// The load benchmark plays Envoy-shaped traffic (c=32 concurrent exchanges,
// 1 KiB tools/call bodies and 1 KiB results) against two ext_proc servers,
// each in a child process of this test binary so that its CPU time can be
// read on its own: a pass-through server that answers every message with
// CONTINUE, and mcp-extproc with a policy of four enforcing plugins. Rounds
// alternate between the two; the benchmark reports the filter's throughput,
// p50 latency and CPU per exchange as ratios of the pass-through's.

// loadPolicy is the policy of the load benchmark.
const loadPolicy = `
mcp: {paths: [/mcp]}
plugins:
  - {name: tools, kind: tool_filter, config: {deny: ["delete_*"]}}
  - {name: pii, kind: pii_filter}
  - {name: secrets, kind: secrets_detection}
  - {name: resources, kind: resource_filter}
`

const childEnv = "MCP_EXTPROC_BENCH_CHILD" // "passthrough" or a policy file

// serveChild runs when the test binary is re-executed as a benchmark
// server: it serves on a free loopback port, prints the address, and runs
// until stdin closes.
func serveChild(role string) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// The filter runs with the gRPC options extproc serve uses (Run); the
	// pass-through, the floor, with grpc-go's defaults, which suit it best.
	// Both run with the garbage collector's target extproc serve sets
	// (Run, DefaultGCPercent): the same runtime for both.
	tuneGC()
	opts := []grpc.ServerOption{grpc.MaxRecvMsgSize(16 << 20)}
	if !strings.HasPrefix(role, "passthrough") {
		opts = append(opts, streamOptions()...)
	}
	gs := grpc.NewServer(opts...)
	switch role {
	case "passthrough":
		extprocv3.RegisterExternalProcessorServer(gs, passThrough{})
	case "passthrough-stream":
		extprocv3.RegisterExternalProcessorServer(gs, passThrough{streamResponses: true})
	default:
		cfg, _, err := framework.Load(role, framework.LoadOptions{})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		srv, err := NewServer(context.Background(), cfg, Options{Metrics: NewMetrics(prometheus.NewRegistry())})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		extprocv3.RegisterExternalProcessorServer(gs, srv)
	}
	go func() { _ = gs.Serve(lis) }()
	// MCP_EXTPROC_BENCH_CPUPROFILE=FILE profiles the filter's process,
	// MCP_EXTPROC_BENCH_PT_CPUPROFILE=FILE the pass-through's.
	f := os.Getenv("MCP_EXTPROC_BENCH_CPUPROFILE")
	if strings.HasPrefix(role, "passthrough") {
		f = os.Getenv("MCP_EXTPROC_BENCH_PT_CPUPROFILE")
	}
	if f != "" {
		out, err := os.Create(f)
		if err == nil && pprof.StartCPUProfile(out) == nil {
			defer func() { pprof.StopCPUProfile(); out.Close() }()
		}
	}
	fmt.Println(lis.Addr().String())
	// Each line on stdin asks for the live heap (after a GC), in bytes;
	// the process ends when stdin closes.
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Println(ms.HeapAlloc)
	}
}

// passThrough answers every ext_proc message with CONTINUE: the floor an
// ext_proc server can reach. With streamResponses it asks for response
// bodies in STREAMED mode, as any server must that lets an event stream
// through Envoy unbuffered.
type passThrough struct {
	extprocv3.UnimplementedExternalProcessorServer
	streamResponses bool
}

func (pt passThrough) Process(st extprocv3.ExternalProcessor_ProcessServer) error {
	for {
		req, err := st.Recv()
		if err != nil {
			return nil
		}
		var resp *extprocv3.ProcessingResponse
		switch req.Request.(type) {
		case *extprocv3.ProcessingRequest_RequestHeaders:
			resp = continueRequestHeaders(nil)
		case *extprocv3.ProcessingRequest_RequestBody:
			resp = continueBody(true)
		case *extprocv3.ProcessingRequest_ResponseHeaders:
			resp = continueResponseHeaders(nil)
			if pt.streamResponses {
				resp.ModeOverride = &filterv3.ProcessingMode{ResponseBodyMode: filterv3.ProcessingMode_STREAMED}
			}
		case *extprocv3.ProcessingRequest_ResponseBody:
			resp = continueBody(false)
		default:
			resp = trailersResponse(true)
		}
		if err := st.Send(resp); err != nil {
			return nil
		}
	}
}

// child is a benchmark server process.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	addr   string
}

// liveHeap returns the child's heap in use after a GC.
func (c *child) liveHeap(b *testing.B) int64 {
	if _, err := io.WriteString(c.stdin, "heap\n"); err != nil {
		b.Fatal(err)
	}
	line, err := c.stdout.ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(line), 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

func startChild(b *testing.B, role string) *child {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^$")
	cmd.Env = append(os.Environ(), childEnv+"="+role)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	out := bufio.NewReader(stdout)
	line, err := out.ReadString('\n')
	if err != nil {
		b.Fatalf("benchmark server %s: %v", role, err)
	}
	c := &child{cmd: cmd, stdin: stdin, stdout: out, addr: strings.TrimSpace(line)}
	b.Cleanup(func() { _ = c.stdin.Close(); _ = c.cmd.Wait() })
	return c
}

// cpu returns the process's user+system CPU time so far.
func (c *child) cpu(b *testing.B) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

type roundResult struct {
	exchanges int
	elapsed   time.Duration
	cpu       time.Duration
	client    time.Duration // the load generator's CPU (this process)
	lat       []time.Duration
}

// selfCPU returns this process's user+system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadExchange is the load benchmark's exchange as Envoy sends it: a
// tools/call with 1 KiB of arguments and its 1 KiB JSON result.
func loadExchange() []*extprocv3.ProcessingRequest {
	args := `{"text":"` + strings.Repeat("lorem ipsum ", 80) + `"}`
	req := toolCallBody("1", "get_weather", args)
	resp := `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"` + strings.Repeat("sunny and warm ", 60) + `"}]}}`
	return []*extprocv3.ProcessingRequest{
		postHeaders(len(req)), reqBody(req, true),
		respHeaders("content-type", "application/json", "content-length", strconv.Itoa(len(resp))), respBody(resp, true),
	}
}

// playRound runs c concurrent clients for d against addr.
func playRound(b *testing.B, srv *child, conn *grpc.ClientConn, c int, d time.Duration) roundResult {
	b.Helper()
	msgs := loadExchange()
	client := extprocv3.NewExternalProcessorClient(conn)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		lat   []time.Duration
		count atomic.Int64
		stop  atomic.Bool
	)
	cpu0, self0 := srv.cpu(b), selfCPU()
	start := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for !stop.Load() {
				t0 := time.Now()
				if err := playExchange(client, msgs); err != nil {
					b.Error(err)
					return
				}
				mine = append(mine, time.Since(t0))
				count.Add(1)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	return roundResult{exchanges: int(count.Load()), elapsed: time.Since(start), cpu: srv.cpu(b) - cpu0, client: selfCPU() - self0, lat: lat}
}

func playExchange(client extprocv3.ExternalProcessorClient, msgs []*extprocv3.ProcessingRequest) error {
	s, err := client.Process(context.Background())
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if err := s.Send(m); err != nil {
			return err
		}
		r, err := s.Recv()
		if err != nil {
			return err
		}
		if r.GetImmediateResponse() != nil {
			return fmt.Errorf("exchange blocked: %s", r.GetImmediateResponse().GetBody())
		}
		if r.ModeOverride != nil && r.GetResponseHeaders() != nil {
			break // response body not requested (no post hook)
		}
	}
	_ = s.CloseSend()
	if _, err := s.Recv(); err == nil {
		return errors.New("stream not closed")
	}
	return nil
}

func BenchmarkLoadVsPassThrough(b *testing.B) {
	// LOAD_POLICY=FILE plays another policy (its plugins must let the
	// exchange through): to compare policies, or to see the adapter alone.
	policy := os.Getenv("LOAD_POLICY")
	if policy == "" {
		policy = b.TempDir() + "/policy.yaml"
		if err := os.WriteFile(policy, []byte(loadPolicy), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	servers := map[string]*child{"passthrough": startChild(b, "passthrough"), "filter": startChild(b, policy)}
	conns := map[string]*grpc.ClientConn{}
	for name, srv := range servers {
		conn, err := grpc.NewClient(srv.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { conn.Close() })
		conns[name] = conn
	}
	// Eight rounds of a second for each server, in the order ABBA ABBA...:
	// on a shared machine whose speed drifts, a drift within each four
	// rounds falls on both servers alike (three rounds of two seconds, ABAB,
	// moved the ratios by up to ten per cent from one run to the next).
	const concurrency, pairs = 32, 8
	round := time.Second
	total := map[string]*roundResult{"passthrough": {}, "filter": {}}
	var perPair [3][]float64 // each pair's throughput, p50 and CPU ratios
	// Warm up both, twice in turn: the first seconds of load ran up to
	// twice as much CPU per exchange as the later ones (the filter's more
	// than the pass-through's), which 300 ms each did not cover.
	for range 2 {
		for _, name := range []string{"passthrough", "filter"} {
			playRound(b, servers[name], conns[name], concurrency, time.Second)
		}
	}
	b.ResetTimer()
	for k := range pairs {
		order := []string{"passthrough", "filter"}
		if k%2 == 1 {
			order = []string{"filter", "passthrough"}
		}
		pair := map[string]*roundResult{}
		for _, name := range order {
			r := playRound(b, servers[name], conns[name], concurrency, round)
			pair[name] = &r
			t := total[name]
			t.exchanges += r.exchanges
			t.elapsed += r.elapsed
			t.cpu += r.cpu
			t.client += r.client
			t.lat = append(t.lat, r.lat...)
		}
		pr := ratiosOf(pair["passthrough"], pair["filter"])
		for i := range perPair {
			perPair[i] = append(perPair[i], pr[i])
		}
	}
	b.StopTimer()
	pt, pp50, pcpu := total["passthrough"].stats()
	ft, fp50, fcpu := total["filter"].stats()
	// The ratios reported are the medians of the eight pairs' (a round of
	// each server, next to each other): a burst of another tenant's load on
	// the machine during one round moves one pair, not the figure.
	med := func(r []float64) float64 { slices.Sort(r); return (r[len(r)/2-1] + r[len(r)/2]) / 2 }
	b.ReportMetric(med(perPair[0]), "throughput_ratio")
	b.ReportMetric(med(perPair[1]), "p50_ratio")
	b.ReportMetric(med(perPair[2]), "cpu_ratio")
	// Peak resident memory under the load (VmHWM): the bound for
	// the filter is 64 MiB.
	_, ppeak := servers["passthrough"].memory(b)
	_, fpeak := servers["filter"].memory(b)
	b.ReportMetric(float64(fpeak)/(1<<20), "filter_peak_rss_MiB")
	b.ReportMetric(float64(ppeak)/(1<<20), "passthrough_peak_rss_MiB")
	b.ReportMetric(0, "ns/op")
	b.Logf("pass-through: %.0f exchanges/s, p50 %v, CPU %v/exchange, peak RSS %.1f MiB", pt, pp50, pcpu, float64(ppeak)/(1<<20))
	b.Logf("filter:       %.0f exchanges/s, p50 %v, CPU %v/exchange, peak RSS %.1f MiB", ft, fp50, fcpu, float64(fpeak)/(1<<20))
	b.Logf("load generator CPU per exchange: %v against the pass-through, %v against the filter",
		total["passthrough"].client/time.Duration(total["passthrough"].exchanges), total["filter"].client/time.Duration(total["filter"].exchanges))
	b.Logf("ratios, medians of %d pairs of rounds: throughput %.2fx (pairs %.2f-%.2f), p50 %.2fx (%.2f-%.2f), CPU per exchange %.2fx (%.2f-%.2f)",
		pairs, med(perPair[0]), perPair[0][0], perPair[0][pairs-1], med(perPair[1]), perPair[1][0], perPair[1][pairs-1], med(perPair[2]), perPair[2][0], perPair[2][pairs-1])
	b.Logf("ratios of the totals: throughput %.2fx, p50 %.2fx, CPU per exchange %.2fx", ft/pt, float64(fp50)/float64(pp50), float64(fcpu)/float64(pcpu))
}

// stats returns a round's (or rounds') exchanges per second, p50 latency
// and server CPU per exchange.
func (r *roundResult) stats() (tput float64, p50 time.Duration, cpu time.Duration) {
	slices.Sort(r.lat)
	return float64(r.exchanges) / r.elapsed.Seconds(), r.lat[len(r.lat)/2], r.cpu / time.Duration(r.exchanges)
}

// ratiosOf returns the filter's throughput, p50 and CPU per exchange as
// ratios of the pass-through's.
func ratiosOf(pt, f *roundResult) [3]float64 {
	pTput, pP50, pCPU := pt.stats()
	fTput, fP50, fCPU := f.stats()
	return [3]float64{fTput / pTput, float64(fP50) / float64(pP50), float64(fCPU) / float64(pCPU)}
}

// TestMain lets the test binary serve as a benchmark server process.
func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		serveChild(role)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// benchServer is an in-process server for the policy, with its own
// metrics registry.
func benchServer(b testing.TB, policy string) *Server {
	b.Helper()
	cfg, _, err := framework.Parse([]byte(policy), "bench.yaml", framework.LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := NewServer(context.Background(), cfg, Options{Metrics: NewMetrics(prometheus.NewRegistry())})
	if err != nil {
		b.Fatal(err)
	}
	return srv
}

// BenchmarkSoak plays 10^6 exchanges (c=32) through an in-process server
// with the load policy and samples the heap (after a GC) and the goroutine
// count every 10^5: both must stay flat. It is long; `make soak` runs it,
// `make bench` skips it. SOAK_EXCHANGES overrides the count.
func BenchmarkSoak(b *testing.B) {
	total := 1_000_000
	if n, err := strconv.Atoi(os.Getenv("SOAK_EXCHANGES")); err == nil && n > 0 {
		total = n
	}
	srv := benchServer(b, loadPolicy)
	client := loopbackClient(b, srv)
	args := `{"text":"` + strings.Repeat("lorem ipsum ", 80) + `"}`
	resp := `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"` + strings.Repeat("sunny and warm ", 60) + `"}]}}`

	sample := func() (heapMiB float64, goroutines int) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return float64(ms.HeapAlloc) / (1 << 20), runtime.NumGoroutine()
	}
	var next atomic.Int64
	step := int64(total / 10)
	var heaps []float64
	var gors []int
	b.ResetTimer()
	for done := int64(0); done < int64(total); done += step {
		var wg sync.WaitGroup
		for range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1)
					if i > done+step {
						return
					}
					// Every exchange has its own session and id, as many
					// clients would: the session table must not grow.
					req := toolCallBody(strconv.FormatInt(i, 10), "get_weather", args)
					msgs := []*extprocv3.ProcessingRequest{
						postHeaders(len(req), "mcp-session-id", "s-"+strconv.FormatInt(i%5000, 10)), reqBody(req, true),
						respHeaders("content-type", "application/json"), respBody(strings.Replace(resp, `"id":1`, `"id":`+strconv.FormatInt(i, 10), 1), true),
					}
					if err := playExchange(client, msgs); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		next.Store(done + step)
		h, g := sample()
		heaps, gors = append(heaps, h), append(gors, g)
		b.Logf("after %7d exchanges: heap %.1f MiB, %d goroutines, %d session entries", done+step, h, g, srv.sessions.Len())
	}
	b.StopTimer()
	b.ReportMetric(heaps[len(heaps)-1], "heap_MiB_at_end")
	b.ReportMetric(slices.Max(heaps)-heaps[0], "heap_MiB_growth")
	b.ReportMetric(float64(gors[len(gors)-1]-gors[0]), "goroutine_growth")
	b.ReportMetric(0, "ns/op")
	if srv.sessions.Len() != 0 {
		b.Errorf("%d session entries remain after every result was delivered", srv.sessions.Len())
	}
}
