package ratelimit_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/mcp-extproc/mcp-extproc/extproc/extproctest"
)

// redisServer is a real redis-server (the Debian package) on 127.0.0.1,
// with no persistence, stopped with the test.
type redisServer struct {
	URL  string
	port int
	cmd  *exec.Cmd
}

// startRedis starts redis-server on a free port. Without the binary the
// test is skipped on a developer's machine and fails in CI (CI=true), where
// .ci/run installs it: the cross-replica guarantee must not go untested.
func startRedis(t testing.TB) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed; .ci/run installs it (apt-get install redis-server)")
		}
		t.Skip("redis-server is not installed (apt-get install redis-server)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &redisServer{URL: fmt.Sprintf("redis://127.0.0.1:%d/0", port), port: port}
	s.start(t, bin)
	return s
}

func (s *redisServer) start(t testing.TB, bin string) {
	t.Helper()
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(s.port), "--save", "", "--appendonly", "no", "--protected-mode", "yes")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.cmd = cmd
	t.Cleanup(s.stop)
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", s.port)})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c.Ping(context.Background()).Err() == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not answer in 10s:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *redisServer) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

func redisPolicy(url, onError string) string {
	return `mcp:
  identity:
    user_header: x-user-id
plugins:
  - name: per-user
    kind: rate_limit
    config:
      backend: redis
      redis: {url: "` + url + `", timeout: 200ms}
      on_backend_error: ` + onError + `
      limits:
        - {by: [user], rate: "5/h"}
`
}

const (
	toolCall   = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"search","arguments":{"q":"x"}}}`
	toolResult = `{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"ok"}]}}`
)

// Two ext_proc servers sharing one Redis hold one limit between them: the
// requests of a user spread over both replicas are counted together.
func TestRedisLimitHoldsAcrossReplicas(t *testing.T) {
	rs := startRedis(t)
	a := extproctest.New(t, redisPolicy(rs.URL, "block"))
	b := extproctest.New(t, redisPolicy(rs.URL, "block"))
	passed := 0
	for i := range 8 {
		srv := a
		if i%2 == 1 {
			srv = b
		}
		out := srv.Call(t, toolCall, extproctest.JSON(toolResult), "x-user-id", "ann")
		if !out.Blocked {
			passed++
			continue
		}
		if out.Status != 429 || !strings.Contains(out.Client, `"code":"RATE_LIMITED"`) || !strings.Contains(out.Client, `"id":7`) {
			t.Fatalf("request %d: %+v", i, out)
		}
		if ra, err := strconv.Atoi(out.Headers["retry-after"]); err != nil || ra < 700 || ra > 720 {
			t.Fatalf("request %d: retry-after %q, want about 720 (one token of 5/h)", i, out.Headers["retry-after"])
		}
	}
	if passed != 5 {
		t.Fatalf("%d of 8 requests passed over two replicas, want 5", passed)
	}
	// Another user has their own bucket, on either replica.
	if out := b.Call(t, toolCall, extproctest.JSON(toolResult), "x-user-id", "bob"); out.Blocked {
		t.Fatalf("bob refused: %+v", out)
	}
}

// With Redis gone, on_backend_error decides, every failure is counted, and
// the limit is back when Redis is.
func TestRedisUnavailable(t *testing.T) {
	rs := startRedis(t)
	allow := extproctest.New(t, redisPolicy(rs.URL, "allow"))
	block := extproctest.New(t, strings.Replace(redisPolicy(rs.URL, "block"), "name: per-user", "name: per-user-strict", 1))
	if out := allow.Call(t, toolCall, extproctest.JSON(toolResult), "x-user-id", "ann"); out.Blocked {
		t.Fatalf("with redis up: %+v", out)
	}
	rs.stop()
	before := counter(t, "per-user", "allow")
	for range 3 {
		if out := allow.Call(t, toolCall, extproctest.JSON(toolResult), "x-user-id", "ann"); out.Blocked {
			t.Fatalf("on_backend_error allow, redis down: %+v", out)
		}
	}
	if got := counter(t, "per-user", "allow") - before; got != 3 {
		t.Fatalf("%v backend errors counted, want 3", got)
	}
	out := block.Call(t, toolCall, extproctest.JSON(toolResult), "x-user-id", "ann")
	if !out.Blocked || out.Status != 503 || !strings.Contains(out.Client, `"code":"RATE_LIMIT_BACKEND_UNAVAILABLE"`) {
		t.Fatalf("on_backend_error block, redis down: %+v", out)
	}
	if counter(t, "per-user-strict", "block") != 1 {
		t.Fatal("blocked backend error not counted")
	}
	// Redis back on the same port: the plugin reconnects by itself.
	bin, _ := exec.LookPath("redis-server")
	rs.start(t, bin)
	for i := range 5 {
		if out := block.Call(t, toolCall, extproctest.JSON(toolResult), "x-user-id", "ann"); out.Blocked {
			t.Fatalf("after redis came back, request %d: %+v", i, out)
		}
	}
	if out := block.Call(t, toolCall, extproctest.JSON(toolResult), "x-user-id", "ann"); !out.Blocked || out.Status != 429 {
		t.Fatalf("the limit is not enforced after redis came back: %+v", out)
	}
}

func counter(t *testing.T, plugin, outcome string) float64 {
	t.Helper()
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "mcp_extproc_rate_limit_backend_errors_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["plugin"] == plugin && labels["outcome"] == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
