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
	"bin/extproc validate --config examples/policies/support-desk.yaml",
	"go run ./examples/mcp-server -http 127.0.0.1:3001 &",
	"bin/extproc dev --upstream http://127.0.0.1:3001 --listen 127.0.0.1:8080 --config examples/policies/support-desk.yaml &",
	"bin/extproc serve --config examples/policies/support-desk.yaml &",
	"curl -s localhost:9090/metrics | grep mcp_extproc_",
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
			cmds = append(cmds, strings.Join(strings.Fields(cmd), " "))
			comments = append(comments, strings.TrimSpace(comment))
		}
	}
	return cmds, comments
}

// TestReadmeTour runs the README's five-minute tour command for command, in
// the repository's root, through sh. Two things differ from a person's run:
// the fixed ports (3001, 8080, 9090, 50051) become free ones, so that the
// test can run beside others; serve gets a copy of the policy with those
// ports in its server: block; and `docker compose up` is not started (no
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

	policy, err := os.ReadFile(filepath.Join(root, "examples", "policies", "support-desk.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	servePolicy := filepath.Join(t.TempDir(), "support-desk.yaml")
	if err := os.WriteFile(servePolicy, append([]byte("server:\n  listen: "+grpcAddr+"\n  metrics_listen: "+metrics+"\n"), policy...), 0o644); err != nil {
		t.Fatal(err)
	}

	for i, cmd := range cmds {
		line := ports.Replace(cmd)
		switch cmd {
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
		case "bin/extproc validate --config examples/policies/support-desk.yaml":
			out := strings.TrimSpace(tourRun(t, root, line))
			claim := regexp.MustCompile(`"([^"]+)"`).FindStringSubmatch(comments[i])
			if claim == nil || out != claim[1] {
				t.Errorf("%s printed %q; the README says %s", cmd, out, comments[i])
			}
		case "go run ./examples/mcp-server -http 127.0.0.1:3001 &":
			tourStart(t, root, line)
			waitListening(t, upstream)
		case "bin/extproc dev --upstream http://127.0.0.1:3001 --listen 127.0.0.1:8080 --config examples/policies/support-desk.yaml &":
			tourStart(t, root, line)
			waitListening(t, dev)
			checkTourClient(t, "http://"+dev)
		case "bin/extproc serve --config examples/policies/support-desk.yaml &":
			tourStart(t, root, strings.Replace(line, "examples/policies/support-desk.yaml", servePolicy, 1))
			waitReady(t, "http://"+metrics+"/readyz")
		case "curl -s localhost:9090/metrics | grep mcp_extproc_":
			out := tourRun(t, root, line)
			for _, family := range []string{"mcp_extproc_active_streams", "mcp_extproc_session_table_entries"} {
				if !strings.Contains(out, family) {
					t.Errorf("%s lacks %s:\n%s", cmd, family, out)
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
// comes back masked, delete_customer is refused, file:///etc/passwd cannot
// be read.
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
	if !errors.As(err, &rpcErr) || !strings.Contains(string(rpcErr.Data), `"code":"TOOL_DENIED"`) {
		t.Errorf("delete_customer: want TOOL_DENIED, got %v", err)
	}
	if _, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "file:///etc/passwd"}); err == nil {
		t.Error("file:///etc/passwd was read")
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

// tourStart runs a command that ends with & in its own process group, and
// ends the group (go run's child included) when the test ends.
func tourStart(t *testing.T, dir, line string) {
	t.Helper()
	cmd := exec.Command("sh", "-c", "exec "+strings.TrimSuffix(strings.TrimSpace(line), "&"))
	cmd.Dir = dir
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
