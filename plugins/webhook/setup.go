package webhook

import (
	"errors"
	"fmt"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/kindconfig"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/outbound"
)

// KindName is the kind's name in plugins[].kind.
const KindName = "webhook"

// Config is the kind's settings (plugins[].config).
type Config struct {
	// URL is the endpoint every hook call is POSTed to.
	URL string `yaml:"url"`
	// Auth is how the plugin authenticates to it.
	Auth outbound.Auth `yaml:"auth"`
	// Idempotent lets the client retry a failed call: set it when the
	// service only decides, and has no effect a repeated call repeats.
	Idempotent bool `yaml:"idempotent"`
	// OnServiceError is block (default) or allow.
	OnServiceError string `yaml:"on_service_error"`
	// HTTP is the client's settings; its cache is off unless given a size.
	HTTP outbound.HTTP `yaml:"http"`
}

// DefaultConfig returns the settings a plugin gets when its config says nothing.
func DefaultConfig() Config {
	h := outbound.DefaultHTTP()
	h.Cache.Size = 0 // a policy service's answer may depend on more than the payload
	return Config{Auth: outbound.DefaultAuth(), OnServiceError: outbound.OnServiceErrorBlock, HTTP: h}
}

func init() {
	framework.Register(framework.Kind{
		Name:        KindName,
		Description: "ask an HTTP policy service at each hook and apply its ContextForge PluginResult",
		Hooks:       framework.ImplementedHooks((*Plugin)(nil)),
		Defaults:    DefaultConfig(),
		New:         kindconfig.NamedFactory(DefaultConfig, New),
	})
}

// New checks cfg and builds the plugin named name. Errors name the key.
func New(name string, cfg Config) (*Plugin, error) {
	if cfg.URL == "" {
		return nil, errors.New("config.url: required")
	}
	if err := outbound.CheckOnServiceError(cfg.OnServiceError); err != nil {
		return nil, err
	}
	client, err := outbound.New[any](cfg.URL, cfg.HTTP.Settings(name, cfg.Auth))
	if err != nil {
		return nil, fmt.Errorf("config.url: %w", err)
	}
	return &Plugin{Lifecycle: outbound.Lifecycle[any]{Client: client}, name: name, client: client, idempotent: cfg.Idempotent, onServiceError: cfg.OnServiceError, cache: cfg.HTTP.Cache.Size > 0}, nil
}
