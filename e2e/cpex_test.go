package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The cpex suite runs ContextForge's own plugin runtime (cpex 0.1.4) and its
// published plugin packages, installed from e2e/cpex/requirements.txt (pinned,
// with hashes) into a virtualenv under e2e/cpex/.venv-<hash>, which warm runs
// reuse.

var (
	cpexOnce   sync.Once
	cpexPy     string
	cpexErr    error
	cpexSkip   string
	cpexSetup  time.Duration
	cpexReused bool
)

// findPython returns a python3 of version 3.11 or later, or "".
func findPython() string {
	for _, name := range []string{"python3.13", "python3.12", "python3.11", "python3"} {
		p, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		if exec.Command(p, "-c", "import sys, venv; sys.exit(0 if sys.version_info >= (3, 11) else 1)").Run() == nil {
			return p
		}
	}
	return ""
}

// cpexPython returns the interpreter of the cpex virtualenv, creating it on
// first use. Without Python 3.11 it skips loudly, except in CI, where the
// suite must run.
func cpexPython(t *testing.T) string {
	t.Helper()
	cpexOnce.Do(func() {
		base := findPython()
		if base == "" {
			cpexSkip = "python3 >= 3.11 with venv is not installed: the cpex (ContextForge) interoperability suite DID NOT RUN"
			return
		}
		dir := filepath.Join(repoRoot(t), "e2e", "cpex")
		req := filepath.Join(dir, "requirements.txt")
		data, err := os.ReadFile(req)
		if err != nil {
			cpexErr = err
			return
		}
		sum := sha256.Sum256(data)
		venv := filepath.Join(dir, ".venv-"+hex.EncodeToString(sum[:6]))
		py := filepath.Join(venv, "bin", "python")
		stamp := filepath.Join(venv, "installed")
		if _, err := os.Stat(stamp); err == nil {
			cpexPy, cpexReused = py, true
			return
		}
		start := time.Now()
		_ = os.RemoveAll(venv)
		for _, args := range [][]string{
			{base, "-m", "venv", venv},
			{py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input", "--require-hashes", "-r", req},
		} {
			cmd := exec.Command(args[0], args[1:]...)
			cmd.Env = append(os.Environ(), "PIP_NO_INPUT=1")
			if out, err := cmd.CombinedOutput(); err != nil {
				cpexErr = fmt.Errorf("%s: %v\n%s", strings.Join(args, " "), err, out)
				return
			}
		}
		if err := os.WriteFile(stamp, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
			cpexErr = err
			return
		}
		cpexPy, cpexSetup = py, time.Since(start)
	})
	if cpexSkip != "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(cpexSkip + " (CI must run it)")
		}
		fmt.Fprintf(os.Stderr, "\n!!!!!!!!\n!!! %s\n!!!!!!!!\n\n", cpexSkip)
		t.Skip(cpexSkip)
	}
	if cpexErr != nil {
		t.Fatalf("cpex virtualenv: %v", cpexErr)
	}
	if cpexSetup > 0 {
		t.Logf("cpex virtualenv installed from requirements.txt in %s", cpexSetup.Round(time.Second))
	}
	return cpexPy
}

// cpexServerEnv is the environment of cpex's plugin server process for a
// config file and transport.
func cpexServerEnv(config, transport string, extra ...string) map[string]string {
	env := map[string]string{
		"PLUGINS_CONFIG_PATH": config,
		"PLUGINS_TRANSPORT":   transport,
		"PLUGINS_LOG_LEVEL":   "WARNING",
		"ENABLE_METRICS":      "false",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	return env
}

// cpexConfig is the cpex server config of the suite.
func cpexConfig(t *testing.T) string {
	return filepath.Join(repoRoot(t), "e2e", "cpex", "testdata", "cpex-plugins.yaml")
}

// startCpexHTTP runs cpex's plugin server on Streamable HTTP and returns its
// MCP URL.
func startCpexHTTP(t *testing.T, py string) string {
	t.Helper()
	addr := freePort(t)
	host, port, _ := strings.Cut(addr, ":")
	startCpex(t, py, http.DefaultClient, "http://"+addr, "PLUGINS_SERVER_HOST", host, "PLUGINS_SERVER_PORT", port)
	return "http://" + addr + "/mcp"
}

// startCpexUDS runs cpex's plugin server on Streamable HTTP over a Unix
// socket (its PLUGINS_SERVER_UDS) and returns the socket's path.
func startCpexUDS(t *testing.T, py string) string {
	t.Helper()
	// A short path: a socket's name is limited to about 100 bytes.
	dir, err := os.MkdirTemp("", "cpex-uds-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sock := filepath.Join(dir, "plugins.sock")
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
	startCpex(t, py, client, "http://localhost", "PLUGINS_SERVER_UDS", sock)
	return sock
}

// startCpex runs cpex's plugin server on Streamable HTTP with the extra
// environment and waits for base+"/health" to answer through client.
func startCpex(t *testing.T, py string, client *http.Client, base string, env ...string) {
	t.Helper()
	cmd := exec.Command(py, "-m", "cpex.framework.external.mcp.server.runtime")
	cmd.Dir = t.TempDir()
	cmd.Env = os.Environ()
	for k, v := range cpexServerEnv(cpexConfig(t), "http", env...) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr := &lockedBuilder{b: &strings.Builder{}}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("cpex server stderr:\n%s", stderr.String())
		}
	})
	// Importing cpex takes seconds, many more on a loaded machine: wait for
	// its /health, or for the process to give up.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if resp, err := client.Get(base + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-exited:
			t.Fatalf("cpex's plugin server exited before listening on %s %v", base, env)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("cpex's plugin server did not come up on %s %v in 2 minutes", base, env)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
