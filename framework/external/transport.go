package external

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
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
	if m.UDS != "" {
		// cpex's uds: HTTP over a Unix socket; the URL names the path only.
		sock := m.UDS
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}
		tr.Proxy = nil
	}
	t := m.TLS
	if t.CAFile != "" || t.CertFile != "" || t.InsecureSkipVerify || t.SkipHostnameCheck {
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
			cert, err := loadKeyPair(t.CertFile, t.KeyFile, t.KeyFilePassword)
			if err != nil {
				return nil, fmt.Errorf("mcp.tls: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		if t.SkipHostnameCheck && !t.InsecureSkipVerify {
			verifyChainOnly(tc)
		}
		tr.TLSClientConfig = tc
	}
	var rt http.RoundTripper = tr
	if len(m.Headers) > 0 {
		rt = headerTransport{base: tr, headers: m.Headers}
	}
	return &http.Client{Transport: rt}, nil
}

// verifyChainOnly makes tc verify the server's certificate chain against its
// roots but not the host name, as Python's check_hostname = False does.
func verifyChainOnly(tc *tls.Config) {
	roots := tc.RootCAs
	tc.InsecureSkipVerify = true //nolint:gosec // the chain is verified below
	tc.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("tls: the server sent no certificate")
		}
		opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
		for _, c := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
		_, err := cs.PeerCertificates[0].Verify(opts)
		return err
	}
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
