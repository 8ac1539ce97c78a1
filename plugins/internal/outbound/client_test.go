package outbound

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// verdict is what the test services answer: {"ok":true}.
type verdict struct{ OK bool }

func decodeVerdict(status int, _ http.Header, body []byte) (verdict, error) {
	if status != http.StatusOK {
		return verdict{}, StatusError(status)
	}
	var v struct {
		OK *bool `json:"ok"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.OK == nil {
		return verdict{}, fmt.Errorf("not a verdict: %.40q", body)
	}
	return verdict{*v.OK}, nil
}

var serviceSeq atomic.Int64

func settings() Settings {
	return Settings{
		Service: fmt.Sprintf("svc-%d", serviceSeq.Add(1)),
		Timeout: time.Second,
		Retry:   Retry{Attempts: 2, Backoff: framework.Duration(time.Millisecond), MaxBackoff: framework.Duration(5 * time.Millisecond)},
	}
}

func open(t *testing.T, url string, s Settings) *Client[verdict] {
	t.Helper()
	c, err := New[verdict](url, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// scripted answers the i-th request with answers[i] (the last one after
// that) and counts requests.
type scripted struct {
	mu      sync.Mutex
	answers []func(w http.ResponseWriter, r *http.Request)
	hits    int
	headers []http.Header
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	i := min(s.hits, len(s.answers)-1)
	s.hits++
	s.headers = append(s.headers, r.Header.Clone())
	s.mu.Unlock()
	s.answers[i](w, r)
}

func (s *scripted) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits
}

func status(code int) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
}

func ok(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"ok":true}`)) }

func serve(t *testing.T, answers ...func(http.ResponseWriter, *http.Request)) (*scripted, string) {
	t.Helper()
	s := &scripted{answers: answers}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL + "/v1/check"
}

func kindOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

func TestRetriesOnlyIdempotentCallsAndOnlyCurableFailures(t *testing.T) {
	for _, tc := range []struct {
		name       string
		answers    []func(http.ResponseWriter, *http.Request)
		idempotent bool
		hits       int
		kind       string // "" = success
	}{
		{"503 twice then ok", []func(http.ResponseWriter, *http.Request){status(503), status(503), ok}, true, 3, ""},
		{"429 then ok", []func(http.ResponseWriter, *http.Request){status(429), ok}, true, 2, ""},
		{"not idempotent: no retry", []func(http.ResponseWriter, *http.Request){status(503), ok}, false, 1, KindStatus},
		{"attempts run out", []func(http.ResponseWriter, *http.Request){status(502)}, true, 3, KindStatus},
		{"400 is not retried", []func(http.ResponseWriter, *http.Request){status(400), ok}, true, 1, KindStatus},
		{"501 is not retried", []func(http.ResponseWriter, *http.Request){status(501), ok}, true, 1, KindStatus},
		{"malformed is not retried", []func(http.ResponseWriter, *http.Request){func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"ok":`)) }, ok}, true, 1, KindMalformed},
		{"redirect is a status error", []func(http.ResponseWriter, *http.Request){func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://127.0.0.1:1/x", http.StatusFound)
		}}, true, 1, KindStatus},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, url := serve(t, tc.answers...)
			s := settings()
			c := open(t, url, s)
			v, err := c.Call(context.Background(), Request{Body: []byte(`{}`), Idempotent: tc.idempotent}, decodeVerdict)
			if kindOf(err) != tc.kind || (tc.kind == "") != (err == nil) {
				t.Fatalf("err = %v (kind %q), want kind %q", err, kindOf(err), tc.kind)
			}
			if tc.kind == "" && !v.OK {
				t.Fatalf("verdict = %+v", v)
			}
			if srv.count() != tc.hits {
				t.Fatalf("%d requests, want %d", srv.count(), tc.hits)
			}
			if tc.kind != "" {
				if got := testutil.ToFloat64(c.metrics.errors.WithLabelValues(s.Service, tc.kind)); got != 1 {
					t.Fatalf("errors_total{kind=%s} = %v", tc.kind, got)
				}
			}
			if got := testutil.ToFloat64(c.metrics.retries.WithLabelValues(s.Service)); int(got) != tc.hits-1 {
				t.Fatalf("retries_total = %v, want %d", got, tc.hits-1)
			}
		})
	}
}

func TestAttemptTimeoutAndRefusedConnection(t *testing.T) {
	release := make(chan struct{})
	slow := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		ok(w, r)
	}
	srv, url := serve(t, slow)
	defer close(release)
	s := settings()
	s.Timeout = 50 * time.Millisecond
	c := open(t, url, s)
	start := time.Now()
	_, err := c.Call(context.Background(), Request{Idempotent: true}, decodeVerdict)
	if kindOf(err) != KindTimeout {
		t.Fatalf("slow service: err = %v", err)
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("took %v: each attempt must stop at its timeout", el)
	}
	if srv.count() != 3 {
		t.Fatalf("%d attempts, want 3 (timeouts are retried)", srv.count())
	}

	// The plugin call's deadline bounds the whole call, retries included.
	ctx, cancel := context.WithTimeout(context.Background(), 70*time.Millisecond)
	defer cancel()
	before := srv.count()
	if _, err := c.Call(ctx, Request{Idempotent: true}, decodeVerdict); kindOf(err) != KindTimeout {
		t.Fatalf("under a deadline: err = %v", err)
	}
	if n := srv.count() - before; n > 2 {
		t.Fatalf("%d attempts inside a 70ms deadline with a 50ms timeout", n)
	}

	// An attempt ends a little before the plugin call's deadline, so that
	// the kind still answers (on_service_error) before the executor gives up.
	long := settings()
	long.Timeout = 10 * time.Second
	lc := open(t, url, long)
	ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := lc.Call(ctx, Request{Idempotent: true}, decodeVerdict); kindOf(err) != KindTimeout || ctx.Err() != nil {
		t.Fatalf("attempt past the call's deadline: err = %v, call ctx %v", err, ctx.Err())
	}

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	refused := open(t, "http://"+addr+"/v1/check", settings())
	if _, err := refused.Call(context.Background(), Request{Idempotent: true}, decodeVerdict); kindOf(err) != KindConnection {
		t.Fatalf("refused: err = %v", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := c.Call(ctx, Request{Idempotent: true}, decodeVerdict); kindOf(err) != KindCanceled {
		t.Fatalf("cancelled: err = %v", err)
	}
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) advance(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

func TestCircuitBreaker(t *testing.T) {
	srv, url := serve(t, status(500), status(500), status(500), ok)
	s := settings()
	s.Retry.Attempts = 0
	s.Breaker = Breaker{Failures: 2, Cooldown: framework.Duration(10 * time.Second)}
	c, err := New[verdict](url, s)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Unix(1000, 0)}
	c.now = clock.now
	c.breaker.now = clock.now
	if err := c.Open(); err != nil {
		t.Fatal(err)
	}
	state := func() float64 { return testutil.ToFloat64(c.metrics.breaker.WithLabelValues(s.Service)) }
	call := func() error { _, err := c.Call(context.Background(), Request{}, decodeVerdict); return err }

	for i := range 2 {
		if err := call(); kindOf(err) != KindStatus {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if state() != stateOpen {
		t.Fatalf("two failures in a row: breaker state %v, want open", state())
	}
	if err := call(); kindOf(err) != KindBreakerOpen || !errors.Is(err, ErrBreakerOpen) || srv.count() != 2 {
		t.Fatalf("open breaker: err = %v after %d requests", err, srv.count())
	}
	clock.advance(11 * time.Second)
	if err := call(); kindOf(err) != KindStatus || srv.count() != 3 {
		t.Fatalf("half-open probe: err = %v after %d requests", err, srv.count())
	}
	if state() != stateOpen {
		t.Fatal("a failed probe must open the breaker again")
	}
	if err := call(); kindOf(err) != KindBreakerOpen {
		t.Fatalf("reopened: %v", err)
	}
	clock.advance(11 * time.Second)
	if err := call(); err != nil || srv.count() != 4 {
		t.Fatalf("successful probe: %v", err)
	}
	if state() != stateClosed {
		t.Fatal("a successful probe must close the breaker")
	}
	// 4xx answers say nothing about the service's health.
	b := newBreaker(Breaker{Failures: 1, Cooldown: framework.Duration(time.Hour)}, time.Now, func(int) {})
	b.done(countsAgainstService(&Error{Kind: KindStatus, Status: 404}))
	if !b.allow() {
		t.Fatal("a 404 opened the breaker")
	}
}

func TestVerdictCache(t *testing.T) {
	srv, url := serve(t, ok)
	s := settings()
	s.Cache = Cache{Size: 2, TTL: framework.Duration(time.Minute)}
	c, err := New[verdict](url, s)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Unix(1000, 0)}
	c.now = clock.now
	if err := c.Open(); err != nil {
		t.Fatal(err)
	}
	call := func(content string) {
		t.Helper()
		k := KeyOf([]byte("model"), []byte(content))
		if _, err := c.Call(context.Background(), Request{CacheKey: &k}, decodeVerdict); err != nil {
			t.Fatal(err)
		}
	}
	call("a")
	call("a")
	if srv.count() != 1 {
		t.Fatalf("%d requests for the same content, want 1", srv.count())
	}
	call("b")
	call("c") // evicts a, the least recently used
	call("a")
	if srv.count() != 4 {
		t.Fatalf("%d requests, want 4 (a evicted)", srv.count())
	}
	clock.advance(2 * time.Minute)
	call("a")
	if srv.count() != 5 {
		t.Fatalf("%d requests, want 5 (entry expired)", srv.count())
	}
	if c.cache.len() > 2 {
		t.Fatalf("cache holds %d entries, bound 2", c.cache.len())
	}
	if hits := testutil.ToFloat64(c.metrics.cache.WithLabelValues(s.Service, "hit")); hits != 1 {
		t.Fatalf("cache hits = %v", hits)
	}
	if KeyOf([]byte("ab"), []byte("c")) == KeyOf([]byte("a"), []byte("bc")) {
		t.Fatal("keys of different parts collide")
	}
	// Failures are not cached.
	fsrv, furl := serve(t, status(500), ok)
	fc := open(t, furl, Settings{Service: s.Service + "-f", Timeout: time.Second, Cache: Cache{Size: 4, TTL: framework.Duration(time.Minute)}})
	k := KeyOf([]byte("x"))
	_, err1 := fc.Call(context.Background(), Request{CacheKey: &k}, decodeVerdict)
	_, err2 := fc.Call(context.Background(), Request{CacheKey: &k}, decodeVerdict)
	if err1 == nil || err2 != nil || fsrv.count() != 2 {
		t.Fatalf("failure cached: %v, %v, %d requests", err1, err2, fsrv.count())
	}
}

const token = "sk-test-9f8e7d6c5b4a-SECRET"

func TestAuth(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OUTBOUND_TEST_TOKEN", token)
	for _, tc := range []struct {
		name   string
		auth   Auth
		header string
		want   string
	}{
		{"bearer from env", Auth{Type: AuthBearer, TokenEnv: "OUTBOUND_TEST_TOKEN"}, "Authorization", "Bearer " + token},
		{"bearer from file", Auth{Type: AuthBearer, TokenFile: file}, "Authorization", "Bearer " + token},
		{"api_key in a named header", Auth{Type: AuthAPIKey, TokenEnv: "OUTBOUND_TEST_TOKEN", Header: "api-key"}, "Api-Key", token},
		{"api_key default header", Auth{Type: AuthAPIKey, TokenFile: file}, "X-Api-Key", token},
		{"basic", Auth{Type: AuthBasic, Username: "svc", PasswordEnv: "OUTBOUND_TEST_TOKEN"}, "Authorization", "Basic c3ZjOnNrLXRlc3QtOWY4ZTdkNmM1YjRhLVNFQ1JFVA=="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, url := serve(t, ok)
			s := settings()
			s.Auth = tc.auth
			c := open(t, url, s)
			if _, err := c.Call(context.Background(), Request{}, decodeVerdict); err != nil {
				t.Fatal(err)
			}
			if got := srv.headers[0].Get(tc.header); got != tc.want {
				t.Fatalf("%s = %q, want %q", tc.header, got, tc.want)
			}
		})
	}

	for _, tc := range []struct {
		auth Auth
		want string
	}{
		{Auth{Type: "oauth"}, `config.auth.type: "oauth" is not one of none, bearer, basic, api_key`},
		{Auth{Type: AuthBearer}, "config.auth: type bearer needs exactly one of token_env, token_file"},
		{Auth{Type: AuthBearer, TokenEnv: "A", TokenFile: "b"}, "exactly one of token_env, token_file"},
		{Auth{Type: AuthBasic, PasswordEnv: "A"}, "config.auth.username"},
		{Auth{Type: AuthAPIKey, TokenEnv: "A", Header: "bad header"}, "config.auth.header"},
		{Auth{TokenEnv: "A"}, "type is none"},
	} {
		s := settings()
		s.Auth = tc.auth
		if _, err := New[verdict]("http://127.0.0.1:1/x", s); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %q", tc.auth, err, tc.want)
		}
	}
	s := settings()
	s.Auth = Auth{Type: AuthBearer, TokenEnv: "OUTBOUND_TEST_UNSET"}
	c, err := New[verdict]("http://127.0.0.1:1/x", s)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Open(); err == nil || !strings.Contains(err.Error(), "OUTBOUND_TEST_UNSET is not set") {
		t.Fatalf("unset variable: %v", err)
	}
	t.Setenv("OUTBOUND_TEST_CRLF", "abc\r\nX-Injected: 1")
	s.Auth.TokenEnv = "OUTBOUND_TEST_CRLF"
	c, _ = New[verdict]("http://127.0.0.1:1/x", s)
	if err := c.Open(); err == nil || strings.Contains(err.Error(), "Injected") {
		t.Fatalf("a token with a line break: %v", err)
	}
}

// Nothing a user can see — errors, logs, a dump of the client, metrics —
// shows the secret, the URL's query or a basic password.
func TestSecretsAreNeverShown(t *testing.T) {
	t.Setenv("OUTBOUND_TEST_TOKEN", token)
	_, url := serve(t, status(500))
	s := settings()
	s.Retry.Attempts = 0
	s.Auth = Auth{Type: AuthBearer, TokenEnv: "OUTBOUND_TEST_TOKEN"}
	c := open(t, url+"?api_key="+token, s)
	_, callErr := c.Call(context.Background(), Request{}, decodeVerdict)
	if callErr == nil {
		t.Fatal("expected a failure")
	}
	_, refusedErr := open(t, "http://127.0.0.1:1/x?key="+token, s).Call(context.Background(), Request{}, decodeVerdict)
	var logs strings.Builder
	l := slog.New(slog.NewJSONHandler(&logs, nil))
	l.Error("call failed", "err", callErr, "refused", refusedErr, "client", c, "auth", c.auth, "settings", s)
	shown := strings.Join([]string{
		callErr.Error(), refusedErr.Error(), logs.String(),
		fmt.Sprintf("%v %+v %#v %s", c, c, c, c),
		fmt.Sprintf("%v %+v %#v", c.auth, c.auth, c.auth),
		fmt.Sprint(c.auth.value),
	}, "\n")
	if _, err := New[verdict]("http://user:"+token+"@127.0.0.1/x", settings()); err != nil {
		shown += "\n" + err.Error()
	} else {
		t.Fatal("a URL with credentials must be refused")
	}
	if _, err := New[verdict]("ftp://user:"+token+"@127.0.0.1/x", settings()); err != nil {
		shown += "\n" + err.Error()
	}
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		shown += mf.String()
	}
	if strings.Contains(shown, token) || strings.Contains(shown, "9f8e7d6c5b4a") {
		i := max(strings.Index(shown, "9f8e7d6c5b4a")-200, 0)
		t.Fatalf("the secret is shown:\n%.400s", shown[i:])
	}
	if !strings.Contains(callErr.Error(), s.Service) || !strings.Contains(callErr.Error(), "/v1/check") || !strings.Contains(callErr.Error(), "500") {
		t.Fatalf("the error must still say which service failed and how: %v", callErr)
	}
}

func TestTLS(t *testing.T) {
	caKey, caCert, caPEM := newCA(t)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	serverCert := leaf(t, caKey, caCert, "127.0.0.1", x509.ExtKeyUsageServerAuth)
	clientCertFile, clientKeyFile := writePair(t, dir, "client", leaf(t, caKey, caCert, "client", x509.ExtKeyUsageClientAuth))
	pool := x509.NewCertPool()
	pool.AddCert(caCert)

	srv := httptest.NewUnstartedServer(http.HandlerFunc(ok))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	for _, tc := range []struct {
		name string
		tls  framework.ClientTLSConfig
		ok   bool
	}{
		{"CA and client certificate", framework.ClientTLSConfig{CAFile: caFile, CertFile: clientCertFile, KeyFile: clientKeyFile}, true},
		{"no client certificate", framework.ClientTLSConfig{CAFile: caFile}, false},
		{"unknown CA", framework.ClientTLSConfig{CertFile: clientCertFile, KeyFile: clientKeyFile}, false},
		{"insecure_skip_verify", framework.ClientTLSConfig{InsecureSkipVerify: true, CertFile: clientCertFile, KeyFile: clientKeyFile}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := settings()
			s.Retry.Attempts = 0
			s.Timeout = 10 * time.Second // handshakes under -race on a busy machine
			s.TLS = tc.tls
			c := open(t, srv.URL+"/v1/check", s)
			_, err := c.Call(context.Background(), Request{}, decodeVerdict)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok %v", err, tc.ok)
			}
			if err != nil && kindOf(err) != KindConnection {
				t.Fatalf("a TLS failure is a connection error: %v", err)
			}
		})
	}
	s := settings()
	s.TLS = framework.ClientTLSConfig{CAFile: filepath.Join(dir, "missing.pem")}
	c, err := New[verdict](srv.URL, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Open(); err == nil || !strings.Contains(err.Error(), "tls.ca_file") {
		t.Fatalf("missing CA file: %v", err)
	}
	if _, err := New[verdict]("http://127.0.0.1/x", s); err == nil || !strings.Contains(err.Error(), "not https") {
		t.Fatalf("tls on an http URL: %v", err)
	}
}

// A service client reads the same TLS settings as an external plugin's:
// an encrypted client key opens with keyfile_password (the OpenSSL-made
// keys of framework/external/testdata/tls), and a wrong one is refused.
func TestEncryptedClientKey(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "framework", "external", "testdata", "tls")
	for _, tc := range []struct {
		key, password string
		ok            bool
	}{
		{"client-key.pkcs8.pem", "s3cret-pass", true},
		{"client-key.legacy.pem", "s3cret-pass", true},
		{"client-key.pkcs8.pem", "wrong", false},
	} {
		s := settings()
		s.TLS = framework.ClientTLSConfig{CertFile: filepath.Join(dir, "client.pem"), KeyFile: filepath.Join(dir, tc.key), KeyFilePassword: tc.password}
		c, err := New[verdict]("https://127.0.0.1/x", s)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Open(); (err == nil) != tc.ok {
			t.Errorf("%s with password %q: %v, want ok %v", tc.key, tc.password, err, tc.ok)
		}
	}
}

func TestSettingsErrors(t *testing.T) {
	for _, tc := range []struct {
		mut  func(*Settings)
		want string
	}{
		{func(s *Settings) { s.Timeout = 0 }, "config.timeout: must be positive"},
		{func(s *Settings) { s.Retry.Attempts = 11 }, "config.retries.attempts"},
		{func(s *Settings) { s.Retry.MaxBackoff = 0 }, "max_backoff"},
		{func(s *Settings) { s.Breaker = Breaker{Failures: 3} }, "config.circuit_breaker.cooldown"},
		{func(s *Settings) { s.Cache = Cache{Size: 3} }, "config.cache.ttl"},
		{func(s *Settings) { s.Cache = Cache{Size: -1} }, "config.cache.size"},
		{func(s *Settings) { s.TLS.CertFile = "c.pem" }, "cert_file and key_file go together"},
	} {
		s := settings()
		tc.mut(&s)
		if _, err := New[verdict]("https://127.0.0.1/x", s); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err = %v, want %q", err, tc.want)
		}
	}
	for _, u := range []string{"127.0.0.1:8080", "file:///etc/passwd", "http://", "https://h/x#frag"} {
		if _, err := New[verdict](u, settings()); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
}

func TestBackoffIsJitteredAndCapped(t *testing.T) {
	c, _ := New[verdict]("http://127.0.0.1/x", Settings{Service: "b", Timeout: time.Second,
		Retry: Retry{Attempts: 3, Backoff: framework.Duration(10 * time.Millisecond), MaxBackoff: framework.Duration(40 * time.Millisecond)}})
	seen := map[time.Duration]bool{}
	for range 200 {
		for a := range 6 {
			d := c.backoff(a, 0)
			if d <= 0 || d > 40*time.Millisecond || d > 10*time.Millisecond<<a {
				t.Fatalf("attempt %d: backoff %v", a, d)
			}
			seen[d] = true
		}
	}
	if len(seen) < 50 {
		t.Fatalf("only %d distinct delays: not jittered", len(seen))
	}
	if d := c.backoff(0, 30*time.Millisecond); d != 30*time.Millisecond {
		t.Fatalf("Retry-After within the cap: %v", d)
	}
	// A Retry-After past the cap: no retry at all.
	srv, url := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
	}, ok)
	s := settings()
	if _, err := open(t, url, s).Call(context.Background(), Request{Idempotent: true}, decodeVerdict); kindOf(err) != KindStatus || srv.count() != 1 {
		t.Fatalf("Retry-After of an hour: %v after %d requests", err, srv.count())
	}
}

func newCA(t *testing.T) (*ecdsa.PrivateKey, *x509.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return key, cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func leaf(t *testing.T, caKey *ecdsa.PrivateKey, ca *x509.Certificate, name string, usage x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature}
	if ip := net.ParseIP(name); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func writePair(t *testing.T, dir, name string, c tls.Certificate) (string, string) {
	t.Helper()
	kb, err := x509.MarshalECPrivateKey(c.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	cf, kf := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	if err := os.WriteFile(cf, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kf, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cf, kf
}
