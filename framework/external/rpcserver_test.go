package external

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// slowKeyword waits for its context when the arguments say "slow".
type slowKeyword struct{}

func (slowKeyword) ToolPreInvoke(ctx context.Context, p *framework.ToolPreInvokePayload, _ *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	if strings.Contains(string(p.Args), "slow") {
		select {
		case <-ctx.Done():
			return framework.Result[framework.ToolPreInvokePayload]{}, ctx.Err()
		case <-time.After(5 * time.Second):
		}
	}
	return framework.Result[framework.ToolPreInvokePayload]{}, nil
}

func slowServer(t *testing.T) *Server {
	t.Helper()
	reg := framework.NewRegistry()
	reg.Register(framework.Kind{Name: "slow", Hooks: []framework.HookType{framework.ToolPreInvoke},
		New: func(*framework.PluginConfig) (framework.Plugin, error) { return slowKeyword{}, nil }})
	return servePolicy(t, reg, "plugins:\n  - {name: slow, kind: slow, timeout: 30s}\n")
}

func invokeLine(id int, args string) string {
	return `{"jsonrpc":"2.0","id":` + string(rune('0'+id)) + `,"method":"tools/call","params":{"name":"invoke_hook","arguments":{"hook_type":"tool_pre_invoke","plugin_name":"slow","payload":{"name":"t","args":` + args + `},"context":{"state":{},"metadata":{}}}}}` + "\n"
}

// Over STDIO the server answers each request when it is done, not in the
// order they came: a slow call does not hold up the ones behind it on the
// same pipe, and notifications/cancelled ends a call early.
func TestServeStdioPipelinesAndCancels(t *testing.T) {
	srv := slowServer(t)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), inR, outW); _ = outW.Close() }()
	answers := bufio.NewReader(outR)
	next := func() rpcMessage {
		t.Helper()
		line, err := answers.ReadBytes('\n')
		if err != nil {
			t.Fatal(err)
		}
		var m rpcMessage
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		return m
	}
	write := func(s string) {
		if _, err := io.WriteString(inW, s); err != nil {
			t.Fatal(err)
		}
	}
	write(invokeLine(1, `{"x":"slow"}`))
	write(invokeLine(2, `{"x":"fast"}`))
	if m := next(); string(m.ID) != "2" || m.Error != nil {
		t.Fatalf("the fast call must be answered first: %+v", m)
	}
	start := time.Now()
	write(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1,"reason":"timeout"}}` + "\n")
	if m := next(); string(m.ID) != "1" {
		t.Fatalf("want the cancelled call's answer: %+v", m)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the cancelled call ran on for %v", d)
	}
	// A line that is not JSON-RPC is answered with an error; the pipe goes on.
	write("this is not json\n")
	if m := next(); m.Error == nil || m.Error.Code != codeParseError {
		t.Fatalf("%+v", m)
	}
	write(`{"jsonrpc":"2.0","id":9,"method":"ping"}` + "\n")
	if m := next(); string(m.ID) != "9" || string(m.Result) != "{}" {
		t.Fatalf("%+v", m)
	}
	_ = inW.Close()
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

// What the Streamable HTTP endpoint answers besides calls.
func TestServeStreamableRefusals(t *testing.T) {
	srv := slowServer(t)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	ping := `{"jsonrpc":"2.0","id":1,"method":"ping"}`
	for _, tc := range []struct {
		name, method, ctype, host, version, body string
		status                                   int
		want                                     string
	}{
		{"ping", "POST", "application/json", "", "", ping, 200, `"result":{}`},
		{"a GET stream is not offered", "GET", "", "", "", "", 405, ""},
		{"no session to delete", "DELETE", "", "", "", "", 405, ""},
		{"not JSON", "POST", "text/plain", "", "", ping, 415, ""},
		{"unknown protocol version", "POST", "application/json", "", "1999-01-01", ping, 400, "unsupported"},
		{"DNS rebinding", "POST", "application/json", "evil.example", "", ping, 403, "Host"},
		{"a notification", "POST", "application/json", "", "", `{"jsonrpc":"2.0","method":"notifications/initialized"}`, 202, ""},
		{"a batch", "POST", "application/json", "", "", "[" + ping + "]", 400, `"code":-32600`},
		{"not JSON-RPC 2.0", "POST", "application/json", "", "", `{"id":1,"method":"ping"}`, 400, `"code":-32600`},
		{"unknown tool", "POST", "application/json", "", "", `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"nope","arguments":{}}}`, 200, `"code":-32602`},
		{"unknown method", "POST", "application/json", "", "", `{"jsonrpc":"2.0","id":3,"method":"sampling/createMessage"}`, 200, `"code":-32601`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, ts.URL+"/mcp", strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			if tc.host != "" {
				req.Host = tc.host
			}
			if tc.version != "" {
				req.Header.Set("Mcp-Protocol-Version", tc.version)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.want) {
				t.Fatalf("%d %s, want %d with %q", resp.StatusCode, b, tc.status, tc.want)
			}
		})
	}
}

// Events as servers frame them: CRLF, data over several lines, comments
// and ids between.
func TestSSEReader(t *testing.T) {
	stream := ": a comment\r\nid: 1\r\nevent: message\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\n" +
		"retry: 5\n\ndata: two\n\nevent: endpoint\ndata:/messages?s=1\n\n"
	r := newSSEReader(strings.NewReader(stream))
	for _, want := range []struct{ event, data string }{{"message", "{\"a\":\n1}"}, {"", "two"}, {"endpoint", "/messages?s=1"}} {
		event, data, err := r.next()
		if err != nil || event != want.event || string(data) != want.data {
			t.Fatalf("got %q %q %v, want %q %q", event, data, err, want.event, want.data)
		}
	}
	if _, _, err := r.next(); err != io.EOF {
		t.Fatalf("want EOF, got %v", err)
	}
}

// A caller never waits behind another caller's connection attempt: while
// one call backs off against a server that is not there, a call with a
// shorter deadline ends at its own deadline, and Shutdown returns at once.
func TestNoLockAcrossDialOrBackoff(t *testing.T) {
	pc := &framework.PluginConfig{Name: "gone", MCP: &framework.ExternalMCPConfig{Proto: framework.TransportStreamableHTTP, URL: "http://127.0.0.1:1/mcp"}}
	pl, err := newPlugin(pc)
	if err != nil {
		t.Fatal(err)
	}
	p := pl.(*Plugin)
	payload := &framework.ToolPreInvokePayload{Name: "t", Args: []byte(`{}`)}
	long, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	leader := make(chan error, 1)
	go func() {
		_, err := p.ToolPreInvoke(long, payload, &framework.PluginContext{})
		leader <- err
	}()
	time.Sleep(200 * time.Millisecond) // the leader is backing off by now
	short, cancelShort := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancelShort()
	start := time.Now()
	if _, err := p.ToolPreInvoke(short, payload, &framework.PluginContext{}); err == nil {
		t.Fatal("a call to a server that is not there succeeded")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("the short call waited %v behind the other caller's attempt", d)
	}
	start = time.Now()
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Shutdown waited %v for a connection attempt", d)
	}
	cancel()
	if err := <-leader; err == nil {
		t.Fatal("the leader connected to nothing")
	}
}

// Backoff waits are spread around the nominal delay, so replicas that lost
// the same server do not retry in step.
func TestJitter(t *testing.T) {
	seen := map[time.Duration]bool{}
	for range 50 {
		d := jitter(100 * time.Millisecond)
		if d < 50*time.Millisecond || d >= 150*time.Millisecond {
			t.Fatalf("jitter(100ms) = %v", d)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Fatalf("only %d distinct waits in 50", len(seen))
	}
}
