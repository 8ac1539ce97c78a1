package extproc

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

func runServer(t *testing.T, cfgPath string, policy string) (extprocv3.ExternalProcessorClient, *grpc.ClientConn, string, chan struct{}, context.CancelFunc, chan error) {
	t.Helper()
	cfg, _, err := framework.Parse([]byte(policy), cfgPath, framework.LoadOptions{Registry: testRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan [2]net.Addr, 1)
	reload := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, cfg, RunOptions{
			ConfigPath: cfgPath, Reload: reload, Registry: testRegistry(),
			Logger:  slog.New(slog.NewJSONHandler(io.Discard, nil)),
			Started: func(g, m net.Addr, _ *Server) { started <- [2]net.Addr{g, m} },
		})
	}()
	var addrs [2]net.Addr
	select {
	case addrs = <-started:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	target := addrs[0].String()
	if addrs[0].Network() == "unix" {
		target = "unix://" + target
	}
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); cancel() })
	metrics := ""
	if addrs[1] != nil {
		metrics = "http://" + addrs[1].String()
	}
	return extprocv3.NewExternalProcessorClient(conn), conn, metrics, reload, cancel, done
}

func verdict(t *testing.T, c extprocv3.ExternalProcessorClient, tool string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.Process(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st := &stream{t: t, s: s, protocol: &extprocv3.ProtocolConfiguration{}}
	body := toolCallBody("1", tool, `{}`)
	st.roundTrip(postHeaders(len(body)))
	r := st.roundTrip(reqBody(body, true))
	st.close()
	return r.GetImmediateResponse() == nil
}

func writePolicy(t *testing.T, path, deny string) {
	t.Helper()
	p := strings.Replace(testPolicy, "tools: [delete_everything]", "tools: ["+deny+"]", 1)
	p = "server: {listen: \"127.0.0.1:0\", metrics_listen: \"127.0.0.1:0\", shutdown_grace: 2s}\n" + p
	if err := os.WriteFile(path, []byte(p), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The file is watched: a Kubernetes-style ConfigMap update (the ..data
// symlink swapped to a new directory) reloads the policy; a broken file is
// rejected while the old policy keeps serving; SIGHUP (the Reload channel)
// reloads too.
func TestServeReloadsOnSymlinkSwap(t *testing.T) {
	dir := t.TempDir()
	v1, v2 := filepath.Join(dir, "..v1"), filepath.Join(dir, "..v2")
	for _, d := range []string{v1, v2} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writePolicy(t, filepath.Join(v1, "policy.yaml"), "delete_everything")
	writePolicy(t, filepath.Join(v2, "policy.yaml"), "get_weather")
	must(t, os.Symlink("..v1", filepath.Join(dir, "..data")))
	must(t, os.Symlink("..data/policy.yaml", filepath.Join(dir, "policy.yaml")))
	path := filepath.Join(dir, "policy.yaml")
	data, _ := os.ReadFile(path)

	client, conn, metrics, reload, cancel, done := runServer(t, path, string(data))
	if !verdict(t, client, "get_weather") || verdict(t, client, "delete_everything") {
		t.Fatal("initial policy not in force")
	}
	// Swap ..data atomically, as the kubelet does.
	must(t, os.Symlink("..v2", filepath.Join(dir, "..data_tmp")))
	must(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
	waitFor(t, func() bool { return !verdict(t, client, "get_weather") })
	if !verdict(t, client, "delete_everything") {
		t.Fatal("new policy not fully in force")
	}

	// A broken file is rejected; the current policy keeps serving.
	must(t, os.WriteFile(filepath.Join(v2, "policy.yaml"), []byte("plugins:\n  - name: x\n    kind: nope\n    mode: nope\n"), 0o644))
	waitFor(t, func() bool { return scrape(t, metrics, `mcp_extproc_config_reloads_total{result="failure"} 1`) })
	// /metrics also serves the process-wide default registry: the Go
	// runtime's families and what plugins register there.
	probe := prometheus.NewCounter(prometheus.CounterOpts{Name: "mcp_extproc_test_default_registry_total", Help: "test"})
	prometheus.MustRegister(probe)
	t.Cleanup(func() { prometheus.Unregister(probe) })
	probe.Inc()
	if !scrape(t, metrics, "go_goroutines ") || !scrape(t, metrics, "mcp_extproc_test_default_registry_total 1") {
		t.Fatal("/metrics does not gather the default registry")
	}
	if verdict(t, client, "get_weather") {
		t.Fatal("an invalid config replaced the serving one")
	}
	// Fix it and reload by signal.
	writePolicy(t, filepath.Join(v2, "policy.yaml"), "nothing")
	reload <- struct{}{}
	waitFor(t, func() bool { return verdict(t, client, "get_weather") })

	// Health over gRPC, then a graceful stop.
	hc := healthpb.NewHealthClient(conn)
	res, err := hc.Check(context.Background(), &healthpb.HealthCheckRequest{Service: extprocv3.ExternalProcessor_ServiceDesc.ServiceName})
	if err != nil || res.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v %v", res, err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("graceful stop hung")
	}
}

// A unix socket listener serves ext_proc too.
func TestServeUnixSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "extproc.sock")
	policy := "server: {listen: \"unix://" + sock + "\", metrics_listen: \"\"}\n" + testPolicy
	client, _, _, _, _, _ := runServer(t, "", policy)
	if verdict(t, client, "delete_everything") {
		t.Fatal("policy not applied over the unix socket")
	}
}

// SIGTERM lets an open stream finish within shutdown_grace.
func TestGracefulShutdownLetsStreamFinish(t *testing.T) {
	policy := "server: {listen: \"127.0.0.1:0\", metrics_listen: \"\", shutdown_grace: 5s}\n" + testPolicy
	client, _, _, _, cancel, done := runServer(t, "", policy)
	ctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	s, err := client.Process(ctx)
	must(t, err)
	st := &stream{t: t, s: s, protocol: &extprocv3.ProtocolConfiguration{}}
	body := toolCallBody("1", "get_weather", `{}`)
	st.roundTrip(postHeaders(len(body)))
	cancel() // SIGTERM while the stream is open
	time.Sleep(100 * time.Millisecond)
	r := st.roundTrip(reqBody(body, true))
	if r.GetRequestBody() == nil {
		t.Fatalf("open stream was not served during the grace period: %v", r)
	}
	st.close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop after the stream ended")
	}
}

func scrape(t *testing.T, base, want string) bool {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.Contains(string(b), want)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
