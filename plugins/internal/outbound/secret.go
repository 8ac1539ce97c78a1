package outbound

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
)

// secret is a credential. It prints, formats, marshals and logs as
// "[redacted]", so that no error, log line or dump of a Client shows it;
// the value sits behind a function so that even a reflective dump of a
// struct holding one (fmt's %+v of an unexported field) shows an address.
type secret struct{ value func() string }

func newSecret(v string) secret { return secret{func() string { return v }} }

const redacted = "[redacted]"

func (secret) String() string               { return redacted }
func (secret) Format(f fmt.State, _ rune)   { _, _ = f.Write([]byte(redacted)) }
func (secret) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
func (secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// readSecret reads a credential from the environment variable env or the
// file path (its surrounding whitespace trimmed, as Kubernetes secret
// files often end in a newline). The error names the variable or file,
// never the value.
func readSecret(env, path string) (secret, error) {
	var v, from string
	switch {
	case env != "":
		from = "environment variable " + env
		v = strings.TrimSpace(os.Getenv(env))
	case path != "":
		from = "secret file " + path
		b, err := os.ReadFile(path)
		if err != nil {
			return secret{}, fmt.Errorf("secret file: %w", err)
		}
		v = strings.TrimSpace(string(b))
	default:
		return secret{}, nil
	}
	if v == "" {
		return secret{}, fmt.Errorf("%s is not set or empty", from)
	}
	// A line break would let the value add headers of its own.
	if strings.ContainsAny(v, "\r\n\x00") {
		return secret{}, fmt.Errorf("%s holds a line break or NUL", from)
	}
	return newSecret(v), nil
}

// authenticator sets the credentials of one request.
type authenticator struct {
	kind   string
	header string // the header set
	value  secret // its whole value ("Bearer …", "Basic …", the key)
}

// newAuthenticator reads the secret a's type needs.
func newAuthenticator(a Auth) (authenticator, error) {
	switch a.Type {
	case "", AuthNone:
		return authenticator{kind: AuthNone}, nil
	case AuthBasic:
		s, err := readSecret(a.PasswordEnv, a.PasswordFile)
		if err != nil {
			return authenticator{}, fmt.Errorf("auth: %w", err)
		}
		v := "Basic " + base64.StdEncoding.EncodeToString([]byte(a.Username+":"+s.value()))
		return authenticator{kind: AuthBasic, header: "Authorization", value: newSecret(v)}, nil
	}
	s, err := readSecret(a.TokenEnv, a.TokenFile)
	if err != nil {
		return authenticator{}, fmt.Errorf("auth: %w", err)
	}
	if a.token.value != nil && a.TokenEnv == "" && a.TokenFile == "" {
		s = a.token
	}
	if a.Type == AuthBearer {
		return authenticator{kind: AuthBearer, header: "Authorization", value: newSecret("Bearer " + s.value())}, nil
	}
	h := a.Header
	if h == "" {
		h = DefaultAPIKeyHeader
	}
	return authenticator{kind: AuthAPIKey, header: h, value: s}, nil
}

func (a authenticator) apply(h http.Header) {
	if a.kind != AuthNone {
		h.Set(a.header, a.value.value())
	}
}
