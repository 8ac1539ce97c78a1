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

// Many calls at once share one session and each gets its own verdict.
func TestConcurrentCallsOnOneSession(t *testing.T) {
	m := manager(t, externalPolicy(httpMCP(startHTTPServer(t)), "deny"))
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
	running := func() bool { return processWithArg(marker) }
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

// processWithArg reports whether a running process has arg on its command line.
func processWithArg(arg string) bool {
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range cmdlines {
		b, err := os.ReadFile(f)
		if err == nil && strings.Contains(string(b), arg) {
			return true
		}
	}
	return false
}
