package external_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// Many calls at once share one session (over STDIO, many in flight on
// one pipe) and each gets its own verdict.
func TestConcurrentCallsOnOneSession(t *testing.T) {
	for name, mcp := range map[string]string{"stdio": stdioMCP(t), "http": httpMCP(startHTTPServer(t))} {
		t.Run(name, func(t *testing.T) {
			m := manager(t, externalPolicy(mcp, "deny"))
			var wg sync.WaitGroup
			errs := make(chan string, 64)
			for i := range 32 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					args, want := fmt.Sprintf(`{"i":%d,"text":"fine"}`, i), false
					if i%2 == 0 {
						args, want = fmt.Sprintf(`{"i":%d,"text":"classified"}`, i), true
					}
					if v := pre(m, args); v.blocked != want {
						errs <- fmt.Sprintf("call %d: blocked=%v, want %v", i, v.blocked, want)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Error(e)
			}
		})
	}
}

// After the server is lost, the callers that find out at once share one
// new connection: one new process, not one per caller.
func TestReconnectIsShared(t *testing.T) {
	marker := writeFile(t, serverPolicy)
	m := manager(t, externalPolicy(fmt.Sprintf(`{proto: STDIO, cmd: [%q, "-config", %q]}`, testServer(t), marker), "keyword"))
	if v := pre(m, `{"text":"crash-now"}`); !v.blocked {
		t.Fatalf("a crashed server must block: %+v", v)
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if v := pre(m, `{"text":"forbidden"}`); v.code != "KEYWORD_BLOCKED" {
				t.Errorf("after the crash: %+v", v)
			}
		}()
	}
	wg.Wait()
	if n := processesWithArg(marker); n != 1 {
		t.Fatalf("%d plugin server processes after 16 callers reconnected, want 1", n)
	}
}

// Shutdown ends a STDIO plugin server's process.
func TestShutdownEndsChildProcess(t *testing.T) {
	marker := writeFile(t, serverPolicy) // a unique path on the child's command line
	policy := externalPolicy(fmt.Sprintf(`{proto: STDIO, cmd: [%q, "-config", %q]}`, testServer(t), marker), "keyword")
	cfg, _, err := framework.Parse([]byte(policy), "client.yaml", framework.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := framework.NewManager(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	running := func() bool { return processesWithArg(marker) > 0 }
	if !running() {
		t.Fatal("the plugin server process is not running")
	}
	if err := m.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for running() {
		if time.Now().After(deadline) {
			t.Fatal("the plugin server process outlived Shutdown")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The HTTP plugin server answers GET /health.
func TestHealthEndpoint(t *testing.T) {
	url := startHTTPServer(t)
	resp, err := http.Get(strings.TrimSuffix(url, "/mcp") + "/health")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != `{"status":"healthy"}` {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}

// processesWithArg counts the running processes that have arg on their
// command line (zombies, whose command line is empty, do not count).
func processesWithArg(arg string) int {
	n := 0
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range cmdlines {
		b, err := os.ReadFile(f)
		if err == nil && strings.Contains(string(b), arg) {
			n++
		}
	}
	return n
}
