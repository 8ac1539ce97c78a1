package main

import (
	"bufio"

	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/grpclog"
)

// TestMain lets a test run the command as its own process (signals, exit
// status, what it prints): the test binary re-executes itself as extproc.
func TestMain(m *testing.M) {
	if os.Getenv("EXTPROC_CLI_CHILD") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// child is extproc running as a process.
type child struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdout *bufio.Reader
	logs   chan map[string]any // stderr, one JSON record a line
	raw    chan string         // stderr lines that are not JSON
	done   chan error
}

func startChild(t *testing.T, env []string, args ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "EXTPROC_CLI_CHILD=1"), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{t: t, cmd: cmd, stdout: bufio.NewReader(out), logs: make(chan map[string]any, 256), raw: make(chan string, 256), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			var r map[string]any
			if json.Unmarshal(sc.Bytes(), &r) == nil {
				c.logs <- r
			} else {
				c.raw <- sc.Text()
			}
		}
		close(c.logs)
		c.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	return c
}

// waitLog returns the first record whose msg is msg, failing on a stderr
// line that is not JSON: everything the process logs is one JSON logger.
func (c *child) waitLog(msg string) map[string]any {
	c.t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case r, ok := <-c.logs:
			if !ok {
				c.t.Fatalf("the process ended before logging %q", msg)
			}
			for _, k := range []string{"time", "level", "msg"} {
				if _, ok := r[k]; !ok {
					c.t.Errorf("log record without %s: %v", k, r)
				}
			}
			if r["msg"] == msg {
				return r
			}
		case line := <-c.raw:
			c.t.Errorf("stderr line is not a JSON record: %q", line)
		case <-timeout:
			c.t.Fatalf("no %q log record", msg)
		}
	}
}

// stop sends sig and returns the exit status.
func (c *child) stop(sig os.Signal) int {
	c.t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		c.t.Fatal(err)
	}
	for range c.logs { // drain, so that the process can write its last words
	}
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		c.t.Fatalf("still running 20s after %v", sig)
	}
	return c.cmd.ProcessState.ExitCode()
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}} {
		code, out, errs := runCLI(t, args...)
		if code != 0 || !strings.HasPrefix(out, "extproc — Envoy ext_proc policy filter") || !strings.Contains(out, "extproc validate --config FILE") || errs != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
	commands := map[string]string{
		"serve":         "Usage: extproc [serve] [--config FILE] [--listen ADDR] [--metrics-listen ADDR]",
		"validate":      "Usage: extproc validate --config FILE",
		"dev":           "Usage: extproc dev --upstream URL",
		"plugins":       "Usage: extproc plugins",
		"plugin-server": "Usage: extproc plugin-server --config FILE (--stdio | --listen ADDR)",
		"pin":           "Usage: extproc pin (--from FILE | --upstream URL)",
		"version":       "Usage: extproc version",
	}
	for cmd, want := range commands {
		for _, args := range [][]string{{cmd, "-h"}, {cmd, "--help"}, {"help", cmd}} {
			code, out, errs := runCLI(t, args...)
			if code != 0 || !strings.HasPrefix(out, want) || errs != "" {
				t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errs)
			}
		}
	}
	if code, out, _ := runCLI(t, "plugin", "new", "-h"); code != 0 || !strings.HasPrefix(out, "Usage: extproc plugin new NAME") {
		t.Errorf("plugin new -h: exit %d, %q", code, out)
	}
	// A mistake is exit status 2, with the message and the usage on stderr.
	code, out, errs := runCLI(t, "validate", "--bogus")
	if code != 2 || out != "" || !strings.Contains(errs, "flag provided but not defined: -bogus") || !strings.Contains(errs, "Usage: extproc validate") {
		t.Errorf("validate --bogus: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

func TestPluginsColumns(t *testing.T) {
	_, out, _ := runCLI(t, "plugins")
	// In each kind's config table the TYPE and DEFAULT columns line up.
	var typeCol, defCol int
	rows := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "    KEY ") {
			typeCol, defCol = strings.Index(line, "TYPE"), strings.Index(line, "DEFAULT")
			continue
		}
		if typeCol == 0 || !strings.HasPrefix(line, "    ") {
			typeCol = 0
			continue
		}
		rows++
		if line[typeCol-1] != ' ' || line[typeCol] == ' ' || line[defCol-1] != ' ' || line[defCol] == ' ' {
			t.Errorf("misaligned row %q (TYPE at %d, DEFAULT at %d)", line, typeCol, defCol)
		}
	}
	if rows < 100 {
		t.Fatalf("%d config rows", rows)
	}
	// Defaults are written as in a policy: an object's keys under it, an
	// unset optional value, empty strings quoted, lists in brackets.
	for _, re := range []string{
		`\n    secrets\.action +string +block\n`,
		`\n    min_suspicion_score +int \(optional\) +unset\n`,
		`\n    http\.timeout +duration +5s\n`,
		`\n    allowed_protocols +list of string +\[http, https\]\n`,
		`\n    base_url +string +""\n`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("plugins output lacks %s", re)
		}
	}
	if strings.Contains(out, "<nil>") || strings.Contains(out, "map[") || strings.Contains(out, " ptr ") {
		t.Error("plugins output shows Go's formatting of a default")
	}
}

// Many independent mistakes in one file are all reported, in file order,
// each at its own line: a type error in one entry does not hide another
// entry's unknown key or bad enum, and a kind's check of its settings
// points at the key. On main this file showed only the mode and the kind.
func TestValidateOnePass(t *testing.T) {
	p := writeFile(t, `plugins:
  - name: pii
    kind: pii_filter
    config:
      mask_strategy: redact
      detect_ssn: "yes"
  - name: secrets
    kind: secrets_detection
    mode: enforse
    config:
      redaction_txt: x
  - name: tools
    kind: tool_filtr
    priority: "10"
  - name: limits
    kind: rate_limit
    config:
      backend: memory
      by_user: 3/x
  - name: guard
    kind: tool_guard
    config:
      action: hidd
`)
	code, out, errs := runCLI(t, "validate", "--config", p)
	if code != 1 || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	want := []string{
		p + `:6:19: plugins[0].config.detect_ssn: expected true or false, got "yes"`,
		p + `:9:11: plugins[1].mode: unknown mode "enforse" (did you mean "enforce"?)`,
		p + `:11:7: plugins[1].config.redaction_txt: unknown key "redaction_txt" (did you mean "redaction_text"?)`,
		p + `:13:5: plugins[2].kind: unknown kind "tool_filtr" (did you mean "tool_filter"?)`,
		p + `:14:15: plugins[2].priority: expected an integer, got the string "10" (quoted; write it without quotes)`,
		p + `:19:16: plugins[3].config.by_user: rate: "3/x": the unit must be one of s, m, h, d`,
		p + `:23:15: plugins[4].config.action: "hidd" is not one of hide, block, audit (did you mean "hide"?)`,
	}
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d errors, want %d:\n%s", len(lines), len(want), errs)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], "error: "+w) {
			t.Errorf("error %d:\n got %s\nwant error: %s…", i, lines[i], w)
		}
	}
}

// serve's --listen and --metrics-listen win over the environment, which
// wins over the file — for a policy file, not only the embedded default
// (whose ${EXTPROC_LISTEN} references were all there was on main).
func TestServeListenOverrides(t *testing.T) {
	p := writeFile(t, "server:\n  listen: 127.0.0.1:1\n  metrics_listen: 127.0.0.1:1\n")
	addr := regexp.MustCompile(`^127\.0\.0\.1:\d+$`)
	for _, tc := range []struct {
		name          string
		env, args     []string
		metricsAbsent bool
	}{
		{"flags", nil, []string{"--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"}, false},
		{"environment", []string{"EXTPROC_LISTEN=127.0.0.1:0", "EXTPROC_METRICS_LISTEN="}, nil, true},
		{"flags over environment", []string{"EXTPROC_LISTEN=256.0.0.1:1", "EXTPROC_METRICS_LISTEN=256.0.0.1:1"}, []string{"--listen", "127.0.0.1:0", "--metrics-listen", ""}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := startChild(t, tc.env, append([]string{"serve", "--config", p}, tc.args...)...)
			r := c.waitLog("ext_proc server listening")
			if !addr.MatchString(fmt.Sprint(r["listen"])) {
				t.Errorf("listening on %v", r["listen"])
			}
			if m := fmt.Sprint(r["metrics"]); tc.metricsAbsent != (m == "disabled") || !tc.metricsAbsent && !addr.MatchString(m) {
				t.Errorf("metrics on %v", r["metrics"])
			}
			if code := c.stop(syscall.SIGTERM); code != 0 {
				t.Errorf("exit status %d after SIGTERM", code)
			}
		})
	}
	if code, _, errs := runCLI(t, "serve", "--config", p, "--listen", ""); code != 2 || !strings.Contains(errs, "--listen must not be empty") {
		t.Errorf("--listen \"\": exit %d, %q", code, errs)
	}
}

// --log-level holds for everything the process logs, and every line of it
// is a JSON record.
func TestServeLogLevel(t *testing.T) {
	p := writeFile(t, "server:\n  listen: 127.0.0.1:0\n  metrics_listen: \"\"\nplugins:\n  - name: a\n    kind: nope\n")
	c := startChild(t, nil, "serve", "--config", p, "--log-level", "warn")
	w := c.waitLog("config warning") // the unknown kind, at warn
	if w["level"] != "WARN" {
		t.Errorf("config warning at %v", w["level"])
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	for r := range c.logs {
		if r["level"] == "INFO" || r["level"] == "DEBUG" {
			t.Errorf("%v record with --log-level warn: %v", r["level"], r)
		}
	}
	<-c.done
	if code, _, errs := runCLI(t, "serve", "--log-level", "loud"); code != 2 || !strings.Contains(errs, `"loud" is not one of debug, info, warn, error`) {
		t.Errorf("--log-level loud: exit %d, %q", code, errs)
	}
}

// mcpUpstream is an MCP server stand-in that answers every POST with the
// same tools/call result.
func mcpUpstream(t *testing.T) *httptest.Server {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"done"}]}}`)
	}))
	t.Cleanup(up.Close)
	return up
}

// clientLine reads dev's "MCP clients connect to URL" line.
func (c *child) clientURL() string {
	c.t.Helper()
	line, err := c.stdout.ReadString('\n')
	if err != nil {
		c.t.Fatalf("dev printed %q: %v", line, err)
	}
	m := regexp.MustCompile(`^extproc dev: MCP clients connect to (http://127\.0\.0\.1:\d+(/\S*)) \(forwarded to `).FindStringSubmatch(line)
	if m == nil {
		c.t.Fatalf("dev printed %q", line)
	}
	return m[1]
}

func callTool(t *testing.T, url, tool string) string {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tool + `","arguments":{}}}`
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

const denyDeletes = "plugins:\n  - name: no-deletes\n    kind: tool_filter\n    config: {deny: [\"delete_*\"]}\n"

// dev prints the URL a client uses, path included; SIGHUP reloads the policy
// (it used to kill the process) and SIGTERM stops it with status 0.
func TestDevSignalsAndURL(t *testing.T) {
	up := mcpUpstream(t)
	p := writeFile(t, "mcp:\n  paths: [/mcp]\n"+denyDeletes)
	c := startChild(t, nil, "dev", "--upstream", up.URL, "--listen", "127.0.0.1:0", "--config", p)
	url := c.clientURL()
	if !strings.HasSuffix(url, "/mcp") {
		t.Fatalf("client URL %s lacks the MCP path", url)
	}
	if got := callTool(t, url, "delete_account"); !strings.Contains(got, `"error"`) {
		t.Fatalf("delete_account through dev: %s", got)
	}
	if err := os.WriteFile(p, []byte("mcp:\n  paths: [/mcp]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	c.waitLog("config reloaded")
	if got := callTool(t, url, "delete_account"); !strings.Contains(got, `"text":"done"`) {
		t.Fatalf("after the reload: %s", got)
	}
	if code := c.stop(syscall.SIGINT); code != 0 {
		t.Fatalf("exit status %d after SIGINT", code)
	}
}

// dev --extproc puts the stand-in in front of a server that is already
// running: its policy is the one applied.
func TestDevInFrontOfRunningServer(t *testing.T) {
	up := mcpUpstream(t)
	srv := startChild(t, nil, "serve", "--config", writeFile(t, denyDeletes), "--listen", "127.0.0.1:0", "--metrics-listen", "")
	grpcAddr := fmt.Sprint(srv.waitLog("ext_proc server listening")["listen"])
	dev := startChild(t, nil, "dev", "--upstream", up.URL+"/mcp", "--listen", "127.0.0.1:0", "--extproc", grpcAddr)
	url := dev.clientURL()
	if !strings.HasSuffix(url, "/mcp") {
		t.Errorf("client URL %s: the upstream's path is the MCP path", url)
	}
	if got := callTool(t, url, "delete_account"); !strings.Contains(got, `"error"`) || !strings.Contains(got, "no-deletes") {
		t.Errorf("delete_account through dev --extproc: %s", got)
	}
	if got := callTool(t, url, "lookup"); !strings.Contains(got, `"text":"done"`) {
		t.Errorf("lookup through dev --extproc: %s", got)
	}
	if code := dev.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("dev exit status %d", code)
	}
	if code := srv.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("serve exit status %d", code)
	}
	if code, _, errs := runCLI(t, "dev", "--upstream", up.URL, "--extproc", grpcAddr, "--config", "x.yaml"); code != 2 || !strings.Contains(errs, "exclude each other") {
		t.Errorf("--extproc with --config: exit %d %q", code, errs)
	}
}

// grpc-go's own messages go to the JSON logger too, not as plain text.
func TestGRPCLogsAreRecords(t *testing.T) {
	var buf strings.Builder
	if _, err := newLogger("serve", "info", &buf); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = newLogger("serve", "info", io.Discard) })
	grpclog.Warningf("transport: %s", "closing")
	grpclog.Info("channel state chatter") // debug: below info
	var r map[string]any
	if err := json.Unmarshal([]byte(buf.String()), &r); err != nil || r["msg"] != "transport: closing" || r["level"] != "WARN" || r["component"] != "grpc" {
		t.Fatalf("grpc's log: %q (%v)", buf.String(), err)
	}
}
