package outbound

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/kindconfig"
)

// HTTP is the http: setting every service-calling kind accepts, under the
// same keys: how its client talks to the service.
type HTTP struct {
	Timeout          framework.Duration        `yaml:"timeout"`
	Retries          Retry                     `yaml:"retries"`
	CircuitBreaker   Breaker                   `yaml:"circuit_breaker"`
	Cache            Cache                     `yaml:"cache"`
	TLS              framework.ClientTLSConfig `yaml:"tls"`
	MaxResponseBytes int                       `yaml:"max_response_bytes"`
}

// DefaultHTTP is the http: setting's defaults; a kind whose calls must not
// be cached (webhook) turns the cache off.
func DefaultHTTP() HTTP {
	return HTTP{
		Timeout:          framework.Duration(DefaultTimeout),
		Retries:          DefaultRetry(),
		CircuitBreaker:   DefaultBreaker(),
		Cache:            DefaultCache(),
		MaxResponseBytes: DefaultMaxResponseBytes,
	}
}

// Settings gathers the client's settings for the plugin named service.
func (h HTTP) Settings(service string, auth Auth) Settings {
	return Settings{
		Service: service, Timeout: h.Timeout.Std(), Retry: h.Retries, Breaker: h.CircuitBreaker,
		Cache: h.Cache, TLS: h.TLS, Auth: auth, MaxResponseBytes: int64(h.MaxResponseBytes),
	}
}

// on_service_error values: what a plugin does when its service fails.
const (
	OnServiceErrorBlock = "block"
	OnServiceErrorAllow = "allow"
)

// CheckOnServiceError validates the on_service_error setting.
func CheckOnServiceError(v string) error {
	if v != OnServiceErrorBlock && v != OnServiceErrorAllow {
		return kindconfig.BadChoice("config.on_service_error", string(v), "block", "allow")
	}
	return nil
}

// Failure is how a plugin answers when its service failed: under block, a
// violation with code and reason whose description says what could not be
// checked and how the service failed (never the error's text); under
// allow, no violation and metadata saying the check was skipped. A call
// cancelled by the pipeline stays an error: the executor already decided.
func Failure(err error, onServiceError, code, reason, what string) (*framework.Violation, map[string]any, error) {
	var e *Error
	if !errors.As(err, &e) || e.Kind == KindCanceled {
		return nil, nil, err
	}
	if onServiceError == OnServiceErrorAllow {
		return nil, map[string]any{"service_error": e.Kind, "checked": false}, nil
	}
	desc := fmt.Sprintf("the service could not check %s (%s)", what, e.Kind)
	details := map[string]any{"service_error": e.Kind}
	if e.Kind == KindStatus {
		desc = fmt.Sprintf("the service could not check %s (HTTP status %d)", what, e.Status)
		details["status"] = e.Status
	}
	return &framework.Violation{Reason: reason, Description: desc, Code: code, Details: details}, nil, nil
}

// Seconds converts a ContextForge timeout in seconds.
func Seconds(s float64) framework.Duration { return framework.Duration(s * float64(time.Second)) }

// Lifecycle gives the plugin that embeds it Initialize, which opens its
// client (reads the secret and the TLS files), and Shutdown, which drops
// the client's idle connections.
type Lifecycle[V any] struct{ Client *Client[V] }

// Initialize opens the client.
func (l Lifecycle[V]) Initialize(context.Context) error { return l.Client.Open() }

// Shutdown closes the client.
func (l Lifecycle[V]) Shutdown(context.Context) error { l.Client.Close(); return nil }
