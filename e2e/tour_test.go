package e2e

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The README's five-minute tour, exactly as written there. A change to the
// tour must be made here too, so that what a newcomer types is what runs.
var tour = []string{
	"make build",
	"bin/extproc plugins",
	"cp examples/default.yaml my-policy.yaml",
	`printf '  - {name: no-deletes, kind: tool_filter, priority: 5, config: {deny: ["delete_*", "delete-*"]}}\n' >> my-policy.yaml`,
	"bin/extproc validate --config my-policy.yaml",
	"go run ./examples/mcp-server -http 127.0.0.1:3001 &",
	"bin/extproc dev --upstream http://127.0.0.1:3001 --listen 127.0.0.1:8080 --config my-policy.yaml &",
	"bin/extproc serve --config my-policy.yaml &",
	"curl -s localhost:9090/metrics | grep mcp_extproc_requests_total",
	"docker compose up --build",
}

// readmeTour returns the commands of the README's tour block, and the
// comment of each (what the README says it does).
func readmeTour(t *testing.T) (cmds, comments []string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Five-minute tour\n\n```sh\n(.*?)```").FindSubmatch(data)
	if m == nil {
		t.Fatal("README.md has no five-minute tour block")
	}
	for _, line := range strings.Split(string(m[1]), "\n") {
		cmd, comment, _ := strings.Cut(line, "#")
		if cmd = strings.TrimSpace(cmd); cmd != "" {
			cmds = append(cmds, cmd) // as written: spaces inside quotes matter
			comments = append(comments, strings.TrimSpace(comment))
		}
	}
	return cmds, comments
}

// TestReadmeTour runs the README's five-minute tour command for command,
// through sh. Three things differ from a person's run: the commands that
// write and read my-policy.yaml run in a scratch directory whose bin/ and
// examples/ are the repository's (so the test leaves nothing behind); the
// fixed ports (3001, 8080, 9090, 50051) become free ones, serve getting
// its own through the EXTPROC_LISTEN and EXTPROC_METRICS_LISTEN variables
// the default policy reads; and `docker compose up` is not started (no
// container engine here) — envoy/compose_test.go checks that file instead.
func TestReadmeTour(t *testing.T) {
	cmds, comments := readmeTour(t)
	if !slices.Equal(cmds, tour) {
		t.Fatalf("the README's tour changed; update tour in this file.\nREADME:\n  %s\ntest:\n  %s",
			strings.Join(cmds, "\n  "), strings.Join(tour, "\n  "))
	}
	root := repoRoot(t)
	upstream, dev, grpcAddr, metrics := freePort(t), freePort(t), freePort(t), freePort(t)
	ports := strings.NewReplacer("127.0.0.1:3001", upstream, "127.0.0.1:8080", dev, "localhost:9090", metrics)
	work := t.TempDir()
	for _, d := range []string{"bin", "examples"} {
		if err := os.Symlink(filepath.Join(root, d), filepath.Join(work, d)); err != nil {
			t.Fatal(err)
		}
	}

	for i, cmd := range cmds {
		line := ports.Replace(cmd)
		switch cmd {
		case tour[2], tour[3]:
			tourRun(t, work, line)
			if _, err := os.Stat(filepath.Join(root, "my-policy.yaml")); err == nil {
				t.Fatal("the tour wrote my-policy.yaml into the repository")
			}
		case "make build":
			tourRun(t, root, line)
			if _, err := os.Stat(filepath.Join(root, "bin", "extproc")); err != nil {
				t.Fatalf("make build made no bin/extproc: %v", err)
			}
		case "bin/extproc plugins":
			out := tourRun(t, root, line)
			for _, kind := range []string{"pii_filter", "secrets_detection", "resource_filter", "tool_filter", "deny_list", "regex_filter", "output_guard"} {
				if !strings.Contains(out, kind) {
					t.Errorf("%s does not list %s:\n%s", cmd, kind, out)
				}
			}
		case "bin/extproc validate --config my-policy.yaml":
			out := strings.TrimSpace(tourRun(t, work, line))
			claim := regexp.MustCompile(`"([^"]+)"`).FindStringSubmatch(comments[i])
			if claim == nil || out != claim[1] {
				t.Errorf("%s printed %q; the README says %s", cmd, out, comments[i])
			}
		case "go run ./examples/mcp-server -http 127.0.0.1:3001 &":
			tourStart(t, root, line)
			waitListening(t, upstream)
		case "bin/extproc dev --upstream http://127.0.0.1:3001 --listen 127.0.0.1:8080 --config my-policy.yaml &":
			tourStart(t, work, line)
			waitListening(t, dev)
			checkTourClient(t, "http://"+dev)
		case "bin/extproc serve --config my-policy.yaml &":
			tourStart(t, work, line, "EXTPROC_LISTEN="+grpcAddr, "EXTPROC_METRICS_LISTEN="+metrics)
			waitReady(t, "http://"+metrics+"/readyz")
		case "curl -s localhost:9090/metrics | grep mcp_extproc_requests_total":
			// The server has seen no traffic: the counters are there, at 0.
			out := tourRun(t, root, line)
			for _, series := range []string{
				`mcp_extproc_requests_total{method="tools/call",outcome="allowed"} 0`,
				`mcp_extproc_requests_total{method="tools/call",outcome="blocked"} 0`,
				`mcp_extproc_requests_total{method="resources/read",outcome="modified"} 0`,
			} {
				if !strings.Contains(out, series+"\n") {
					t.Errorf("%s lacks %s:\n%s", cmd, series, out)
				}
			}
		case "docker compose up --build":
			compose, err := os.ReadFile(filepath.Join(root, "envoy", "compose_test.go"))
			if err != nil || !strings.Contains(string(compose), "docker-compose.yaml") {
				t.Errorf("docker-compose.yaml is neither run here nor checked by envoy/compose_test.go")
			}
		default:
			t.Fatalf("no runner for the tour command %q", cmd)
		}
	}
}

// checkTourClient is the tour's "point an MCP client at it": lookup_customer
// comes back masked, delete_customer is refused and the error's message says
// why.
func checkTourClient(t *testing.T, url string) {
	t.Helper()
	cs := connect(t, url, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "lookup_customer", Arguments: map[string]any{"customer_id": "c-1001"}})
	if err != nil {
		t.Fatalf("lookup_customer: %v", err)
	}
	got := text(t, res.Content)
	for _, leaked := range []string{"4111 1111 1111 1111", "123-45-6789", "jane.doe@example.com"} {
		if strings.Contains(got, leaked) {
			t.Errorf("lookup_customer: %q reached the client: %s", leaked, got)
		}
	}
	if !strings.Contains(got, "Customer c-1001") {
		t.Errorf("lookup_customer: the unmasked rest of the result is gone: %s", got)
	}
	_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "delete_customer", Arguments: map[string]any{"customer_id": "c-1001"}})
	var rpcErr *jsonrpc.Error
	if !errors.As(err, &rpcErr) || !strings.Contains(string(rpcErr.Data), `"code":"TOOL_DENIED"`) ||
		rpcErr.Message != `Tool not allowed: tool "delete_customer" is denied (deny pattern "delete_*")` {
		t.Errorf("delete_customer: want TOOL_DENIED and why, got %v", err)
	}
}

func tourRun(t *testing.T, dir, line string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", line)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
	return string(out)
}

// tourStart runs a command that ends with & in its own process group (with
// env added to the environment), and
// ends the group (go run's child included) when the test ends.
func tourStart(t *testing.T, dir, line string, env ...string) {
	t.Helper()
	cmd := exec.Command("sh", "-c", "exec "+strings.TrimSuffix(strings.TrimSpace(line), "&"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out lockedBuilder
	out.b = &strings.Builder{}
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("%s:\n%s", line, out.String())
		}
	})
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never answered 200", url)
}
