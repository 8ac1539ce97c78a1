package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// binDir holds binaries built once for the package's tests.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mcp-extproc-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var buildOnce sync.Map // name -> *sync.Once

// build compiles a main package (once per test binary) and returns its path.
func build(t *testing.T, name, pkg string) string {
	t.Helper()
	out := filepath.Join(binDir, name)
	once, _ := buildOnce.LoadOrStore(name, new(sync.Once))
	var err error
	var msg []byte
	once.(*sync.Once).Do(func() {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Dir = repoRoot(t)
		msg, err = cmd.CombinedOutput()
	})
	if err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, msg)
	}
	if _, statErr := os.Stat(out); statErr != nil {
		t.Fatalf("%s was not built", name)
	}
	return out
}

func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

var npmOnce sync.Once
var npmErr error

// nodeDir returns e2e/node with its dependencies installed from the
// committed lock file (npm ci), once per test binary. Node is part of the
// supported development setup, so its absence fails the test.
func nodeDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "e2e", "node")
	npmOnce.Do(func() {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "@modelcontextprotocol", "server-everything")); err == nil {
			return
		}
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			npmErr = fmt.Errorf("npm ci: %v\n%s", err, out)
		}
	})
	if npmErr != nil {
		t.Fatal(npmErr)
	}
	return dir
}

// startProcess starts a command that runs until the test ends and returns
// the first stdout line containing marker.
func startProcess(t *testing.T, marker string, name string, args ...string) (string, *exec.Cmd) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &lockedBuilder{b: &stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s stderr:\n%s", filepath.Base(name), cmd.Stderr.(*lockedBuilder).String())
		}
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		found := false
		for sc.Scan() {
			if !found && strings.Contains(sc.Text(), marker) {
				found = true
				lines <- sc.Text()
			}
		}
	}()
	select {
	case l := <-lines:
		return l, cmd
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not print %q in 30s; stderr:\n%s", name, marker, cmd.Stderr.(*lockedBuilder).String())
	}
	return "", nil
}

type lockedBuilder struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startDev runs `extproc dev` in front of upstream with the policy and
// returns the base URL clients connect to.
func startDev(t *testing.T, policy, upstream string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	return startDevWith(t, path, upstream)
}

// startDevWith runs `extproc dev` on the policy file at path (which it
// watches: rewrite the file to reload) and returns the base URL (dev prints
// the client URL, MCP path included; the tests add the paths they use).
func startDevWith(t *testing.T, path, upstream string) string {
	t.Helper()
	bin := build(t, "extproc", "./cmd/extproc")
	line, _ := startProcess(t, "MCP clients connect to", bin, "dev", "--upstream", upstream, "--listen", "127.0.0.1:0", "--config", path)
	f := strings.Fields(line)
	for _, w := range f {
		if u, err := url.Parse(w); err == nil && u.Scheme == "http" {
			return "http://" + u.Host
		}
	}
	t.Fatalf("no URL in %q", line)
	return ""
}
