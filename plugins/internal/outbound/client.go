package outbound

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// Request is one call to a service.
type Request struct {
	// Method is the HTTP method (POST when empty).
	Method string
	// Body is sent as application/json; when it is nil, Encode builds it,
	// only if the verdict is not in the cache.
	Body   []byte
	Encode func() ([]byte, error)
	// Header holds extra request headers.
	Header http.Header
	// Idempotent allows retries: the call has no effect a second copy
	// would repeat (a classification, not a notification).
	Idempotent bool
	// CacheKey, when set, caches the decoded verdict under it.
	CacheKey *Key
}

// Decode reads a service's answer: the status and the body (at most
// Settings.MaxResponseBytes). An error it returns is a malformed answer,
// unless it is already an *Error (a status the kind refuses, say).
type Decode[V any] func(status int, header http.Header, body []byte) (V, error)

// Client calls one service (one plugin's endpoint). It is safe for
// concurrent use. Build it with New in the kind's factory (no I/O) and
// call Open from the plugin's Initialize, which reads the TLS files and
// the secret.
type Client[V any] struct {
	settings Settings
	endpoint *url.URL
	display  string // endpoint without user info and query, for errors
	auth     authenticator
	http     *http.Client
	breaker  *breaker
	cache    *lru[V]
	metrics  *metrics
	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration) error
}

// New checks s and the endpoint URL without I/O.
func New[V any](endpoint string, s Settings) (*Client[V], error) {
	u, err := parseEndpoint(endpoint)
	if err != nil {
		return nil, err
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	if s.TLS != (framework.ClientTLSConfig{}) && u.Scheme != "https" {
		return nil, errors.New("config.tls: set, but the URL is not https")
	}
	c := &Client[V]{settings: s, endpoint: u, display: display(u), metrics: sharedMetrics(), now: time.Now, sleep: sleepCtx}
	c.breaker = newBreaker(s.Breaker, c.now, func(st int) { c.metrics.breaker.WithLabelValues(s.Service).Set(float64(st)) })
	c.cache = newLRU[V](s.Cache, func() time.Time { return c.now() })
	return c, nil
}

func parseEndpoint(endpoint string) (*url.URL, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http:// or https:// URL", redactURL(endpoint))
	}
	if u.User != nil {
		return nil, errors.New("the URL must not hold credentials: use auth")
	}
	if u.Fragment != "" {
		return nil, errors.New("the URL must not have a fragment")
	}
	return u, nil
}

// redactURL keeps what a bad URL looks like without its user info.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		u.User = url.User(redacted)
		return u.String()
	}
	return s
}

func display(u *url.URL) string {
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}

// Open reads the TLS files and the secret and builds the HTTP client. It
// is the I/O that New leaves out; call it from Initialize.
func (c *Client[V]) Open() error {
	a, err := newAuthenticator(c.settings.Auth)
	if err != nil {
		return fmt.Errorf("service %s: %w", c.settings.Service, err)
	}
	tc, err := c.settings.TLS.Config()
	if err != nil {
		return fmt.Errorf("service %s: tls.%w", c.settings.Service, err)
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: c.settings.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tc,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   c.settings.Timeout,
		ResponseHeaderTimeout: c.settings.Timeout,
	}
	c.auth = a
	c.http = &http.Client{
		Transport: tr,
		// A redirect could carry the credentials elsewhere: answers are
		// taken as they come, and a 3xx is a status error.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return nil
}

// Close drops idle connections.
func (c *Client[V]) Close() {
	if c.http != nil {
		c.http.CloseIdleConnections()
	}
}

// String names the client without its credentials; Format does the same
// for every verb, so that %+v of a Client never dumps its fields.
func (c *Client[V]) String() string {
	return "outbound.Client(" + c.settings.Service + " " + c.display + ")"
}

// Format: see String.
func (c *Client[V]) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// Call sends r and decodes the answer, with the cache, the breaker and
// retries. A failure is an *Error.
func (c *Client[V]) Call(ctx context.Context, r Request, decode Decode[V]) (V, error) {
	var zero V
	svc := c.settings.Service
	if r.CacheKey != nil && c.cache != nil {
		if v, ok := c.cache.get(*r.CacheKey); ok {
			c.metrics.cache.WithLabelValues(svc, "hit").Inc()
			return v, nil
		}
		c.metrics.cache.WithLabelValues(svc, "miss").Inc()
	}
	if c.http == nil {
		return zero, c.fail(&Error{Service: svc, URL: c.display, Kind: KindConnection, Err: errors.New("client not opened")})
	}
	if r.Body == nil && r.Encode != nil {
		b, err := r.Encode()
		if err != nil {
			return zero, fmt.Errorf("service %s: encode the request: %w", svc, err)
		}
		r.Body = b
	}
	for attempt := 0; ; attempt++ {
		if !c.breaker.allow() {
			return zero, c.fail(&Error{Service: svc, URL: c.display, Kind: KindBreakerOpen, Err: ErrBreakerOpen})
		}
		v, retryAfter, err := c.attempt(ctx, r, decode)
		c.breaker.done(err != nil && countsAgainstService(err))
		if err == nil {
			if r.CacheKey != nil {
				c.cache.put(*r.CacheKey, v)
			}
			return v, nil
		}
		// A Retry-After longer than max_backoff: the service asked for more
		// time than this call has to give.
		if !r.Idempotent || attempt >= c.settings.Retry.Attempts || !retryable(err) || ctx.Err() != nil ||
			retryAfter > c.settings.Retry.MaxBackoff.Std() {
			return zero, c.fail(err)
		}
		wait := c.backoff(attempt, retryAfter)
		if dl, ok := ctx.Deadline(); ok {
			// Another attempt needs time to be worth making: a quarter of
			// the timeout, at most 100ms, after the wait and the margin.
			need := wait + min(c.settings.Timeout/4, 100*time.Millisecond)
			if left := dl.Sub(c.now()); need > left-margin(left) {
				return zero, c.fail(err)
			}
		}
		c.metrics.retries.WithLabelValues(svc).Inc()
		if c.sleep(ctx, wait) != nil {
			return zero, c.fail(err)
		}
	}
}

func (c *Client[V]) fail(err error) error {
	var e *Error
	if errors.As(err, &e) {
		c.metrics.errors.WithLabelValues(e.Service, e.Kind).Inc()
	}
	return err
}

// attempt makes one HTTP exchange under the per-attempt timeout.
func (c *Client[V]) attempt(ctx context.Context, r Request, decode Decode[V]) (V, time.Duration, error) {
	var zero V
	svc := c.settings.Service
	actx, cancel := context.WithTimeout(ctx, c.attemptTimeout(ctx))
	defer cancel()
	start := c.now()
	method := r.Method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(actx, method, c.endpoint.String(), bytes.NewReader(r.Body))
	if err != nil {
		return zero, 0, &Error{Service: svc, URL: c.display, Kind: KindConnection, Err: err}
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	if r.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	c.auth.apply(req.Header)
	outcome := "ok"
	defer func() { c.metrics.duration.WithLabelValues(svc, outcome).Observe(c.now().Sub(start).Seconds()) }()
	fail := func(kind string, status int, err error) (V, time.Duration, error) {
		outcome = kind
		return zero, 0, &Error{Service: svc, URL: c.display, Kind: kind, Status: status, Err: err}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fail(transportKind(ctx, actx, err), 0, cleanTransportError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.settings.MaxResponseBytes+1))
	if err != nil {
		return fail(transportKind(ctx, actx, err), 0, cleanTransportError(err))
	}
	if int64(len(body)) > c.settings.MaxResponseBytes {
		return fail(KindMalformed, 0, fmt.Errorf("answer longer than %d bytes", c.settings.MaxResponseBytes))
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		v, _, e := fail(KindStatus, resp.StatusCode, nil)
		return v, retryAfterOf(resp.Header), e
	}
	v, err := decode(resp.StatusCode, resp.Header, body)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			outcome = e.Kind
			e.Service, e.URL = svc, c.display
			return zero, 0, e
		}
		return fail(KindMalformed, 0, err)
	}
	return v, 0, nil
}

// attemptTimeout is the attempt's timeout, cut short so that it ends a
// little before the plugin call's deadline: the kind then still answers
// as on_service_error says, rather than the executor giving up on it.
func (c *Client[V]) attemptTimeout(ctx context.Context) time.Duration {
	d := c.settings.Timeout
	if dl, ok := ctx.Deadline(); ok {
		left := dl.Sub(c.now())
		d = max(min(d, left-margin(left)), 0)
	}
	return d
}

// margin is how long before the call's deadline an attempt ends: time for
// the kind to answer, even on a busy machine.
func margin(left time.Duration) time.Duration { return min(left/4, 250*time.Millisecond) }

// StatusError is what a decode function returns for a status it does not
// accept; Call fills in the service.
func StatusError(status int) error { return &Error{Kind: KindStatus, Status: status} }

func transportKind(parent, attempt context.Context, err error) string {
	switch {
	case parent.Err() == context.Canceled:
		return KindCanceled
	case errors.Is(err, context.DeadlineExceeded) || attempt.Err() == context.DeadlineExceeded:
		return KindTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return KindTimeout
	}
	return KindConnection
}

// cleanTransportError drops the *url.Error wrapper, whose text repeats the
// full URL (query included).
func cleanTransportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// retryable: failures another attempt may cure. A 4xx other than 429, a
// malformed answer or an open breaker will not be different next time.
func retryable(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Kind {
	case KindTimeout, KindConnection:
		return true
	case KindStatus:
		return e.Status == http.StatusTooManyRequests || e.Status >= 500 && e.Status != http.StatusNotImplemented
	}
	return false
}

// countsAgainstService: failures that say the service is unwell, for the
// breaker. A cancelled call or a 4xx answer says nothing about its health.
func countsAgainstService(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return true
	}
	switch e.Kind {
	case KindCanceled:
		return false
	case KindStatus:
		return e.Status >= 500 || e.Status == http.StatusTooManyRequests
	}
	return true
}

// backoff is full jitter over base·2^attempt, capped at max_backoff, or
// the Retry-After the service sent (Call does not retry past the cap).
func (c *Client[V]) backoff(attempt int, retryAfter time.Duration) time.Duration {
	ceil := c.settings.Retry.Backoff.Std() << attempt
	if mx := c.settings.Retry.MaxBackoff.Std(); ceil > mx || ceil <= 0 {
		ceil = mx
	}
	if retryAfter > 0 && retryAfter <= c.settings.Retry.MaxBackoff.Std() {
		return retryAfter
	}
	return time.Duration(rand.Int64N(int64(ceil)) + 1)
}

func retryAfterOf(h http.Header) time.Duration {
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
