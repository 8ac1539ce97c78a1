package external_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/framework/external"
)

// denyServer serves a deny_list plugin named deny that blocks "forbidden".
func denyServer(t *testing.T) *external.Server {
	t.Helper()
	cfg, _, err := framework.Parse([]byte("plugins:\n  - {name: deny, kind: deny_list, config: {words: [forbidden]}}\n"), "served.yaml", framework.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := external.NewServer(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	return srv
}

// An in-process plugin server behind TLS that insists on a bearer token:
// the client's mcp.tls.ca_file and mcp.headers must be used, over both
// Streamable HTTP and the legacy SSE transport.
func TestHTTPTransportsWithTLSAndHeaders(t *testing.T) {
	srv := denyServer(t)
	h := srv.Handler()
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}))
	defer ts.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ proto, path string }{{"STREAMABLEHTTP", "/mcp"}, {"SSE", "/sse"}} {
		t.Run(tc.proto, func(t *testing.T) {
			mcpBlock := `{proto: ` + tc.proto + `, url: "` + ts.URL + tc.path + `", headers: {Authorization: "Bearer s3cret"}, tls: {ca_file: "` + ca + `"}}`
			m := manager(t, externalPolicy(mcpBlock, "deny"))
			if v := pre(m, `{"text":"forbidden"}`); !v.blocked || v.code != "DENY_LIST_MATCH" {
				t.Fatalf("%+v", v)
			}
			if v := pre(m, `{"text":"fine"}`); v.blocked {
				t.Fatalf("%+v", v)
			}
		})
	}
	// Without the token the server refuses: start-up fails when asked to.
	policy := "plugin_settings: {fail_on_plugin_error: true}\n" + externalPolicy(`{proto: STREAMABLEHTTP, url: "`+ts.URL+`/mcp", tls: {ca_file: "`+ca+`"}}`, "deny")
	policy = strings.Replace(policy, "timeout: 10s", "timeout: 500ms", 1)
	pcfg, _, err := framework.Parse([]byte(policy), "c.yaml", framework.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := framework.NewManager(context.Background(), pcfg); err == nil {
		t.Fatal("a server that refuses the client must fail start-up")
	}
}

// cpex's own TLS spellings are honoured: ca_bundle as the roots, and
// check_hostname: false verifies the chain but not the name (a host the
// certificate does not name is refused without it). uds connects over the
// Unix socket, not TCP.
func TestCpexTLSKeysAndUnixSocket(t *testing.T) {
	srv := denyServer(t)
	ts := httptest.NewTLSServer(srv.Handler())
	defer ts.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	// The test certificate names 127.0.0.1 and example.com, not localhost.
	byName := strings.Replace(ts.URL, "127.0.0.1", "localhost", 1) + "/mcp"
	m := manager(t, externalPolicy(`{proto: STREAMABLEHTTP, url: "`+byName+`", tls: {ca_bundle: "`+ca+`", check_hostname: false}}`, "deny"))
	if v := pre(m, `{"text":"forbidden"}`); !v.blocked || v.code != "DENY_LIST_MATCH" {
		t.Fatalf("ca_bundle + check_hostname: false: %+v", v)
	}
	strict := "plugin_settings: {fail_on_plugin_error: true}\n" + strings.Replace(externalPolicy(`{proto: STREAMABLEHTTP, url: "`+byName+`", reconnect_attempts: 1, tls: {ca_bundle: "`+ca+`"}}`, "deny"), "timeout: 10s", "timeout: 2s", 1)
	scfg, _, err := framework.Parse([]byte(strict), "c.yaml", framework.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := framework.NewManager(context.Background(), scfg); err == nil || !strings.Contains(err.Error(), "localhost") {
		t.Fatalf("a name the certificate does not hold must be refused when check_hostname is on: %v", err)
	}

	sock := filepath.Join(t.TempDir(), "plugins.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv.Handler()}
	go func() { _ = hs.Serve(l) }()
	defer hs.Close()
	// The URL's host resolves nowhere: only the socket can answer.
	um := manager(t, externalPolicy(`{proto: STREAMABLEHTTP, url: "http://plugins.invalid/mcp", uds: "`+sock+`"}`, "deny"))
	if v := pre(um, `{"text":"forbidden"}`); !v.blocked || v.code != "DENY_LIST_MATCH" {
		t.Fatalf("uds: %+v", v)
	}
}

// cpex's reconnect_attempts bounds the attempts and reconnect_delay waits
// linearly between them (0.2 s, then 0.4 s), as cpex's client does, each
// wait jittered by ±50 %: at least 0.3 s in all, where the default backoff
// (50 ms, then 100 ms) would wait at most 0.225 s.
func TestReconnectAttemptsAndLinearDelay(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now: every attempt is refused
	policy := "plugin_settings: {fail_on_plugin_error: true}\n" + strings.Replace(
		externalPolicy(`{proto: STREAMABLEHTTP, url: "http://`+addr+`/mcp", reconnect_attempts: 3, reconnect_delay: 0.2}`, "deny"), "timeout: 10s", "timeout: 20s", 1)
	cfg, _, err := framework.Parse([]byte(policy), "c.yaml", framework.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = framework.NewManager(context.Background(), cfg)
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "3 attempts") {
		t.Fatalf("want the start to fail after 3 attempts: %v", err)
	}
	if took < 300*time.Millisecond || took > 15*time.Second {
		t.Fatalf("3 attempts 0.2 s then 0.4 s apart (±50 %%) wait 0.3–0.9 s in all; took %s", took)
	}
}

// cpex's keyfile_password opens an encrypted client key (made by OpenSSL,
// testdata/tls/gen.sh): PKCS#8 PBES2 and the legacy PEM encryption, for a
// plugin server that demands a client certificate. A wrong password is
// refused when the policy loads.
func TestKeyfilePassword(t *testing.T) {
	srv := denyServer(t)
	ts := httptest.NewUnstartedServer(srv.Handler())
	caPEM, err := os.ReadFile(filepath.Join("testdata", "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	clientCAs := x509.NewCertPool()
	clientCAs.AppendCertsFromPEM(caPEM)
	ts.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCAs}
	ts.StartTLS()
	defer ts.Close()
	serverCA := filepath.Join(t.TempDir(), "server-ca.pem")
	if err := os.WriteFile(serverCA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	abs := func(name string) string { p, _ := filepath.Abs(filepath.Join("testdata", "tls", name)); return p }
	tlsBlock := func(key, password string) string {
		return `{proto: STREAMABLEHTTP, url: "` + ts.URL + `/mcp", reconnect_attempts: 1, tls: {ca_bundle: "` + serverCA + `", certfile: "` + abs("client.pem") +
			`", keyfile: "` + abs(key) + `", keyfile_password: "` + password + `"}}`
	}
	for _, key := range []string{"client-key.pkcs8.pem", "client-key.legacy.pem"} {
		t.Run(key, func(t *testing.T) {
			m := manager(t, externalPolicy(tlsBlock(key, "s3cret-pass"), "deny"))
			if v := pre(m, `{"text":"forbidden"}`); !v.blocked || v.code != "DENY_LIST_MATCH" {
				t.Fatalf("mTLS with the decrypted key: %+v", v)
			}
			cfg, _, err := framework.Parse([]byte("plugin_settings: {fail_on_plugin_error: true}\n"+externalPolicy(tlsBlock(key, "wrong"), "deny")), "c.yaml", framework.LoadOptions{})
			if err == nil {
				_, err = framework.NewManager(context.Background(), cfg)
			}
			if err == nil || !strings.Contains(err.Error(), "keyfile_password does not decrypt the key") {
				t.Fatalf("a wrong password: %v", err)
			}
		})
	}
}
