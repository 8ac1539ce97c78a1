package external

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// newTransport builds a fresh MCP transport for one connection attempt
// (a STDIO transport owns its child process, so it cannot be reused).
func newTransport(m *framework.ExternalMCPConfig, stderr io.Writer) (mcp.Transport, error) {
	switch m.Proto {
	case framework.TransportSTDIO:
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
		return &mcp.CommandTransport{Command: cmd, TerminateDuration: 2 * time.Second}, nil
	case framework.TransportStreamableHTTP, framework.TransportSSE:
		client, err := httpClient(m)
		if err != nil {
			return nil, err
		}
		if m.Proto == framework.TransportSSE {
			return &mcp.SSEClientTransport{Endpoint: m.URL, HTTPClient: client}, nil
		}
		// Reconnection is the plugin's business (with the call's deadline),
		// not the transport's.
		return &mcp.StreamableClientTransport{Endpoint: m.URL, HTTPClient: client, MaxRetries: -1, DisableStandaloneSSE: true}, nil
	}
	return nil, fmt.Errorf("unsupported transport %q", m.Proto)
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
	t := m.TLS
	if t.CAFile != "" || t.CertFile != "" || t.InsecureSkipVerify {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // operator's explicit choice
		if t.CAFile != "" {
			pem, err := os.ReadFile(t.CAFile)
			if err != nil {
				return nil, fmt.Errorf("mcp.tls.ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("mcp.tls.ca_file: no certificates in %s", t.CAFile)
			}
			tc.RootCAs = pool
		}
		if t.CertFile != "" || t.KeyFile != "" {
			cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("mcp.tls: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
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

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h.headers {
		r.Header.Set(k, v)
	}
	return h.base.RoundTrip(r)
}
