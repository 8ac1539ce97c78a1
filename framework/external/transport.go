package external

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// command is the STDIO server's process, not yet started.
func command(m *framework.ExternalMCPConfig, stderr io.Writer) *exec.Cmd {
	argv := m.Cmd
	if len(argv) == 0 {
		argv = scriptCommand(m.Script)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = m.Cwd
	cmd.Env = os.Environ()
	for k, v := range m.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stderr = stderr
	return cmd
}

// checkTransport checks what can be checked without I/O on the network:
// the transport is one we speak, TLS files load.
func checkTransport(m *framework.ExternalMCPConfig) error {
	switch m.Proto {
	case framework.TransportSTDIO:
		return nil
	case framework.TransportStreamableHTTP, framework.TransportSSE:
		_, err := httpClient(m)
		return err
	}
	return fmt.Errorf("unsupported transport %q", m.Proto)
}

// dial opens a session with the plugin server m names, not yet initialized.
func dial(ctx context.Context, m *framework.ExternalMCPConfig, logger *slog.Logger) (session, error) {
	if err := checkTransport(m); err != nil {
		return nil, err
	}
	switch m.Proto {
	case framework.TransportSTDIO:
		return dialStdio(m, logger)
	case framework.TransportSSE:
		client, _ := httpClient(m)
		return dialSSE(ctx, m.URL, client, logger)
	}
	client, _ := httpClient(m)
	return &httpSession{url: m.URL, client: client}, nil
}

// dialStdio starts the server's process and speaks over its stdin and
// stdout; its stderr goes to the log.
func dialStdio(m *framework.ExternalMCPConfig, logger *slog.Logger) (session, error) {
	cmd := command(m, newStderrLog(logger))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return pipeSession(stdout, stdin, logger, func() error {
		// Closing stdin asks the server to end; one that does not within
		// 2 s is killed.
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case <-exited:
		case <-time.After(2 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		return nil
	}), nil
}

// pipeSession speaks newline-delimited JSON-RPC over r and w (a STDIO
// server's stdout and stdin); end runs after w is closed.
func pipeSession(r io.Reader, w io.WriteCloser, logger *slog.Logger, end func() error) session {
	s := newStreamSession(logger)
	s.send = newPipeWriter(w, s.done, func(err error) { s.fail(fmt.Errorf("write to plugin server: %w", err)) }, s.pending.err0).send
	s.closeFn = func() error {
		_ = w.Close()
		if end != nil {
			return end()
		}
		return nil
	}
	go s.readLines(r)
	return s
}

// scriptCommand runs a script with the interpreter its extension names, as
// ContextForge does for STDIO plugin servers.
func scriptCommand(script string) []string {
	switch strings.ToLower(filepath.Ext(script)) {
	case ".py":
		return []string{"python3", script}
	case ".js", ".mjs", ".cjs":
		return []string{"node", script}
	case ".ts":
		return []string{"npx", "tsx", script}
	case ".sh":
		return []string{"sh", script}
	}
	return []string{script}
}

// httpClient applies the entry's TLS settings and fixed headers.
func httpClient(m *framework.ExternalMCPConfig) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// Concurrent calls each hold a connection; keep them for the next calls
	// (the default keeps 2 per host and dials anew for the rest).
	tr.MaxIdleConnsPerHost = 64
	// Answers are a few KB: compressing them costs more than it saves, and
	// asking for it costs a header per call.
	tr.DisableCompression = true
	if m.UDS != "" {
		// cpex's uds: HTTP over a Unix socket; the URL names the path only.
		sock := m.UDS
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}
		tr.Proxy = nil
	}
	if m.TLS.Set() {
		tc, err := m.TLS.Config()
		if err != nil {
			return nil, fmt.Errorf("mcp.tls.%w", err)
		}
		tr.TLSClientConfig = tc
	}
	var rt http.RoundTripper = tr
	if len(m.Headers) > 0 {
		rt = headerTransport{base: tr, headers: m.Headers}
	}
	return &http.Client{Transport: rt}, nil
}

type headerTransport struct {
	base    http.RoundTripper
	headers map[string]string
}

// CloseIdleConnections lets a closed session drop its kept connections.
func (h headerTransport) CloseIdleConnections() {
	if c, ok := h.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h.headers {
		r.Header.Set(k, v)
	}
	return h.base.RoundTrip(r)
}
