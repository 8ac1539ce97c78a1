package outbound

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/kindconfig"
)

// Retry is the retries: setting of a service-calling kind.
type Retry struct {
	// Attempts is how many times a failed idempotent call is tried again
	// (0: never).
	Attempts int `yaml:"attempts"`
	// Backoff is the base delay before the first retry; each retry doubles
	// it, up to MaxBackoff, and waits a random part of it (full jitter).
	Backoff framework.Duration `yaml:"backoff"`
	// MaxBackoff caps the delay between two attempts.
	MaxBackoff framework.Duration `yaml:"max_backoff"`
}

// Breaker is the circuit_breaker: setting.
type Breaker struct {
	// Failures is how many failed attempts in a row open the breaker
	// (0: no breaker).
	Failures int `yaml:"failures"`
	// Cooldown is how long an open breaker refuses calls before it lets one
	// probe through.
	Cooldown framework.Duration `yaml:"cooldown"`
}

// Cache is the cache: setting.
type Cache struct {
	// Size is the number of verdicts kept (0: no cache).
	Size int `yaml:"size"`
	// TTL is how long a verdict is reused.
	TTL framework.Duration `yaml:"ttl"`
}

// Auth types.
const (
	AuthNone   = "none"
	AuthBearer = "bearer"
	AuthBasic  = "basic"
	AuthAPIKey = "api_key"
)

// Auth is the auth: setting: how the client proves who it is. The secret
// (bearer token, API key, basic password) comes from a file or an
// environment variable, never from the policy itself.
type Auth struct {
	// Type is none, bearer, basic or api_key.
	Type string `yaml:"type"`
	// TokenEnv / TokenFile hold the bearer token or the API key.
	TokenEnv  string `yaml:"token_env"`
	TokenFile string `yaml:"token_file"`
	// Header is the header that carries an api_key (default X-API-Key).
	Header string `yaml:"header"`
	// Username, with PasswordEnv / PasswordFile, is basic auth.
	Username     string `yaml:"username"`
	PasswordEnv  string `yaml:"password_env"`
	PasswordFile string `yaml:"password_file"`

	// token is a literal bearer token or API key set with SetToken, for a
	// ContextForge entry whose config holds the key itself.
	token secret
}

// SetToken makes v the bearer token or API key, in place of token_env and
// token_file.
func (a *Auth) SetToken(v string) { a.token = newSecret(v) }

// Settings are everything a Client needs, gathered by the kind from its
// config.
type Settings struct {
	// Service names the service in metrics and errors: the plugin's name.
	Service string
	// Timeout bounds each attempt (the plugin call's deadline bounds all).
	Timeout time.Duration
	Retry   Retry
	Breaker Breaker
	Cache   Cache
	TLS     framework.ClientTLSConfig
	Auth    Auth
	// MaxResponseBytes bounds an answer's body; a longer one is malformed.
	MaxResponseBytes int64
}

// Defaults of the shared settings, as documented in the kinds' READMEs.
const (
	DefaultTimeout          = 2 * time.Second
	DefaultRetryAttempts    = 2
	DefaultBackoff          = 50 * time.Millisecond
	DefaultMaxBackoff       = time.Second
	DefaultBreakerFailures  = 5
	DefaultBreakerCooldown  = 30 * time.Second
	DefaultCacheSize        = 10000
	DefaultCacheTTL         = 5 * time.Minute
	DefaultMaxResponseBytes = 1 << 20
	DefaultAPIKeyHeader     = "X-API-Key"
)

// DefaultRetry, DefaultBreaker and DefaultCache are the defaults of the
// retries:, circuit_breaker: and cache: settings.
func DefaultRetry() Retry {
	return Retry{Attempts: DefaultRetryAttempts, Backoff: framework.Duration(DefaultBackoff), MaxBackoff: framework.Duration(DefaultMaxBackoff)}
}

// DefaultBreaker: see DefaultRetry.
func DefaultBreaker() Breaker {
	return Breaker{Failures: DefaultBreakerFailures, Cooldown: framework.Duration(DefaultBreakerCooldown)}
}

// DefaultCache: see DefaultRetry.
func DefaultCache() Cache {
	return Cache{Size: DefaultCacheSize, TTL: framework.Duration(DefaultCacheTTL)}
}

// DefaultAuth is no authentication.
func DefaultAuth() Auth { return Auth{Type: AuthNone} }

// check validates s without I/O; errors name the config key.
func (s *Settings) check() error {
	var errs []error
	if s.Service == "" {
		errs = append(errs, errors.New("outbound: a service name is required"))
	}
	if s.Timeout <= 0 {
		errs = append(errs, errors.New("config.timeout: must be positive"))
	}
	if s.Retry.Attempts < 0 || s.Retry.Attempts > 10 {
		errs = append(errs, errors.New("config.retries.attempts: must be between 0 and 10"))
	}
	if s.Retry.Attempts > 0 && (s.Retry.Backoff <= 0 || s.Retry.MaxBackoff < s.Retry.Backoff) {
		errs = append(errs, errors.New("config.retries: backoff must be positive and max_backoff at least backoff"))
	}
	if s.Breaker.Failures < 0 {
		errs = append(errs, errors.New("config.circuit_breaker.failures: must not be negative"))
	}
	if s.Breaker.Failures > 0 && s.Breaker.Cooldown <= 0 {
		errs = append(errs, errors.New("config.circuit_breaker.cooldown: must be positive"))
	}
	if s.Cache.Size < 0 {
		errs = append(errs, errors.New("config.cache.size: must not be negative"))
	}
	if s.Cache.Size > 0 && s.Cache.TTL <= 0 {
		errs = append(errs, errors.New("config.cache.ttl: must be positive"))
	}
	if (s.TLS.CertFile == "") != (s.TLS.KeyFile == "") {
		errs = append(errs, errors.New("config.tls: cert_file and key_file go together"))
	}
	if s.MaxResponseBytes <= 0 {
		s.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if err := s.Auth.check(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (a *Auth) check() error {
	one := func(env, file, what string) error {
		if what == "token" && a.token.value != nil && env == "" && file == "" {
			return nil
		}
		if (env == "") == (file == "") {
			return fmt.Errorf("config.auth: type %s needs exactly one of %s_env, %s_file", a.Type, what, what)
		}
		return nil
	}
	switch a.Type {
	case "", AuthNone:
		if a.TokenEnv != "" || a.TokenFile != "" || a.Username != "" || a.PasswordEnv != "" || a.PasswordFile != "" || a.Header != "" {
			return errors.New("config.auth: credentials given but type is none; set type: bearer, basic or api_key")
		}
		return nil
	case AuthBearer:
		return one(a.TokenEnv, a.TokenFile, "token")
	case AuthAPIKey:
		if a.Header != "" && !validHeaderName(a.Header) {
			return fmt.Errorf("config.auth.header: %q is not a valid header name", a.Header)
		}
		return one(a.TokenEnv, a.TokenFile, "token")
	case AuthBasic:
		if a.Username == "" || strings.Contains(a.Username, ":") {
			return errors.New("config.auth.username: basic auth needs a username without ':'")
		}
		return one(a.PasswordEnv, a.PasswordFile, "password")
	}
	return kindconfig.BadChoice("config.auth.type", string(a.Type), "none", "bearer", "basic", "api_key")
}

func validHeaderName(h string) bool {
	if h == "" {
		return false
	}
	for _, c := range []byte(h) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return http.CanonicalHeaderKey(h) != ""
}
