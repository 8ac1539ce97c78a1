package openaimoderation

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/outbound"
)

// KindName is the kind's name in plugins[].kind.
const KindName = "openai_moderation"

// Categories are the moderation categories of OpenAI's omni-moderation
// models, as the API names them; block_categories and thresholds take
// these.
var Categories = []string{
	"harassment", "harassment/threatening", "hate", "hate/threatening",
	"illicit", "illicit/violent", "self-harm", "self-harm/instructions",
	"self-harm/intent", "sexual", "sexual/minors", "violence", "violence/graphic",
}

// Config is the kind's settings (plugins[].config).
type Config struct {
	// BaseURL is the API's base, as OpenAI's SDKs take it; requests go to
	// BaseURL + "/moderations".
	BaseURL string `yaml:"base_url"`
	// Model is sent as the request's model.
	Model string `yaml:"model"`
	// APIKeyEnv / APIKeyFile hold the key, sent as a bearer token; both
	// empty sends none (a local server without auth).
	APIKeyEnv  string `yaml:"api_key_env"`
	APIKeyFile string `yaml:"api_key_file"`
	// BlockCategories are the categories whose flag blocks; empty: any.
	BlockCategories []string `yaml:"block_categories"`
	// Thresholds flag a category at or above a score, whatever the
	// service's own flag says.
	Thresholds map[string]float64 `yaml:"thresholds"`
	// OnServiceError is block (default) or allow.
	OnServiceError string `yaml:"on_service_error"`
	// ChunkBytes and MaxTextBytes bound what is sent: text is cut into
	// inputs of ChunkBytes; a payload with more than MaxTextBytes of text
	// is blocked unchecked.
	ChunkBytes   int           `yaml:"chunk_bytes"`
	MaxTextBytes int           `yaml:"max_text_bytes"`
	HTTP         outbound.HTTP `yaml:"http"`
}

// DefaultConfig returns the settings a plugin gets when its config says nothing.
func DefaultConfig() Config {
	return Config{
		BaseURL:         "https://api.openai.com/v1",
		Model:           "omni-moderation-latest",
		APIKeyEnv:       "OPENAI_API_KEY",
		BlockCategories: []string{},
		Thresholds:      map[string]float64{},
		OnServiceError:  outbound.OnServiceErrorBlock,
		ChunkBytes:      16 << 10,
		MaxTextBytes:    128 << 10,
		HTTP:            outbound.DefaultHTTP(),
	}
}

// contentModerationClass is ContextForge's content moderation plugin; its
// entries load when their provider is openai (compat.go).
const contentModerationClass = "plugins.content_moderation.content_moderation.ContentModerationPlugin"

func init() {
	framework.Register(framework.Kind{
		Name:        KindName,
		Aliases:     []string{contentModerationClass},
		Description: "block text an OpenAI-compatible moderation endpoint flags",
		Hooks: []framework.HookType{framework.PromptPreFetch, framework.PromptPostFetch,
			framework.ToolPreInvoke, framework.ToolPostInvoke, framework.ResourcePostFetch},
		Defaults: DefaultConfig(),
		New: func(pc *framework.PluginConfig) (framework.Plugin, error) {
			if pc.Kind == contentModerationClass {
				return fromContextForge(pc)
			}
			cfg := DefaultConfig()
			if err := pc.DecodeConfig(&cfg); err != nil {
				return nil, err
			}
			return New(pc.Name, cfg)
		},
	})
}

// New checks cfg and builds the plugin named name. Errors name the key.
func New(name string, cfg Config) (*Plugin, error) {
	if cfg.APIKeyEnv != "" && cfg.APIKeyFile != "" {
		return nil, errors.New("config: api_key_env and api_key_file exclude each other")
	}
	auth := outbound.DefaultAuth()
	if cfg.APIKeyEnv != "" || cfg.APIKeyFile != "" {
		auth = outbound.Auth{Type: outbound.AuthBearer, TokenEnv: cfg.APIKeyEnv, TokenFile: cfg.APIKeyFile}
	}
	block, err := blockSet(cfg.BlockCategories)
	if err != nil {
		return nil, err
	}
	return build(name, cfg, auth, block)
}

func build(name string, cfg Config, auth outbound.Auth, block map[string]bool) (*Plugin, error) {
	if cfg.Model == "" {
		return nil, errors.New("config.model: must not be empty")
	}
	if err := outbound.CheckOnServiceError(cfg.OnServiceError); err != nil {
		return nil, err
	}
	if cfg.ChunkBytes < 256 || cfg.MaxTextBytes < cfg.ChunkBytes {
		return nil, errors.New("config: chunk_bytes must be at least 256 and max_text_bytes at least chunk_bytes")
	}
	for c, v := range cfg.Thresholds {
		if !slices.Contains(Categories, c) {
			return nil, fmt.Errorf("config.thresholds.%s: unknown category; expected one of %s", c, strings.Join(Categories, ", "))
		}
		if !(v > 0 && v <= 1) {
			return nil, fmt.Errorf("config.thresholds.%s: %v is not in (0, 1]", c, v)
		}
	}
	client, err := outbound.New[verdict](strings.TrimRight(cfg.BaseURL, "/")+"/moderations", cfg.HTTP.Settings(name, auth))
	if err != nil {
		return nil, fmt.Errorf("config.base_url: %w", err)
	}
	p := &Plugin{Lifecycle: outbound.Lifecycle[verdict]{Client: client}, client: client, model: cfg.Model, block: block, thresholds: cfg.Thresholds, onServiceError: cfg.OnServiceError,
		chunkBytes: cfg.ChunkBytes, maxTextBytes: cfg.MaxTextBytes}
	return p, nil
}

// blockSet checks block_categories; nil means every category blocks.
func blockSet(cats []string) (map[string]bool, error) {
	if len(cats) == 0 {
		return nil, nil
	}
	set := map[string]bool{}
	for i, c := range cats {
		if !slices.Contains(Categories, c) {
			return nil, fmt.Errorf("config.block_categories[%d]: unknown category %q; expected one of %s", i, c, strings.Join(Categories, ", "))
		}
		set[c] = true
	}
	return set, nil
}
