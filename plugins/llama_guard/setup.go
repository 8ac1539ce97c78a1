package llamaguard

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/kindconfig"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/outbound"
)

// KindName is the kind's name in plugins[].kind.
const KindName = "llama_guard"

// Prompt modes.
const (
	// PromptModelCard: the plugin writes the model card's prompt, with the
	// selected categories, as the one user message.
	PromptModelCard = "model_card"
	// PromptChatTemplate: the plugin sends the conversation as user and
	// assistant messages; the server's Llama Guard chat template writes
	// the prompt, with the categories it was built with.
	PromptChatTemplate = "chat_template"
)

// Config is the kind's settings (plugins[].config).
type Config struct {
	// BaseURL is the server's OpenAI-compatible base ("http://vllm:8000/v1");
	// requests go to BaseURL + "/chat/completions".
	BaseURL string `yaml:"base_url"`
	// Model is the served model's name ("meta-llama/Llama-Guard-3-8B",
	// "llama-guard3:8b").
	Model string `yaml:"model"`
	// Auth is how the plugin authenticates (vLLM --api-key: bearer).
	Auth outbound.Auth `yaml:"auth"`
	// Categories are the codes checked (S1…S14); all by default.
	Categories []string `yaml:"categories"`
	// Prompt is model_card (default) or chat_template.
	Prompt string `yaml:"prompt"`
	// OnServiceError is block (default) or allow.
	OnServiceError string `yaml:"on_service_error"`
	// MaxTextBytes bounds the text of one message; more is blocked
	// unchecked.
	MaxTextBytes int           `yaml:"max_text_bytes"`
	HTTP         outbound.HTTP `yaml:"http"`
}

// DefaultConfig returns the settings a plugin gets when its config says nothing.
func DefaultConfig() Config {
	all := make([]string, len(Categories))
	for i, c := range Categories {
		all[i] = c.Code
	}
	h := outbound.DefaultHTTP()
	h.Timeout = framework.Duration(5e9) // a generation, not a lookup
	return Config{Auth: outbound.DefaultAuth(), Categories: all, Prompt: PromptModelCard,
		OnServiceError: outbound.OnServiceErrorBlock, MaxTextBytes: 32 << 10, HTTP: h}
}

func init() {
	framework.Register(framework.Kind{
		Name:        KindName,
		Description: "block what a Llama Guard 3 model (OpenAI-compatible chat completions) calls unsafe",
		Hooks: []framework.HookType{framework.PromptPreFetch, framework.PromptPostFetch,
			framework.ToolPreInvoke, framework.ToolPostInvoke, framework.ResourcePostFetch},
		Defaults: DefaultConfig(),
		New:      kindconfig.NamedFactory(DefaultConfig, New),
	})
}

// New checks cfg and builds the plugin named name. Errors name the key.
func New(name string, cfg Config) (*Plugin, error) {
	if cfg.BaseURL == "" {
		return nil, errors.New("config.base_url: required (the server's OpenAI-compatible base, such as http://vllm:8000/v1)")
	}
	if cfg.Model == "" {
		return nil, errors.New("config.model: required (the served Llama Guard 3 model)")
	}
	if cfg.Prompt != PromptModelCard && cfg.Prompt != PromptChatTemplate {
		return nil, kindconfig.BadChoice("config.prompt", string(cfg.Prompt), "model_card", "chat_template")
	}
	if err := outbound.CheckOnServiceError(cfg.OnServiceError); err != nil {
		return nil, err
	}
	if cfg.MaxTextBytes <= 0 {
		return nil, errors.New("config.max_text_bytes: must be positive")
	}
	if len(cfg.Categories) == 0 {
		return nil, errors.New("config.categories: must list at least one category")
	}
	selected := map[string]bool{}
	var cats []Category
	for _, c := range Categories {
		for _, code := range cfg.Categories {
			if code == c.Code && !selected[code] {
				selected[code] = true
				cats = append(cats, c)
			}
		}
	}
	for i, code := range cfg.Categories {
		if categoryName(code) == "" {
			return nil, fmt.Errorf("config.categories[%d]: %q is not a Llama Guard 3 category (S1 to S14)", i, code)
		}
	}
	client, err := outbound.New[answer](strings.TrimRight(cfg.BaseURL, "/")+"/chat/completions", cfg.HTTP.Settings(name, cfg.Auth))
	if err != nil {
		return nil, fmt.Errorf("config.base_url: %w", err)
	}
	return &Plugin{Lifecycle: outbound.Lifecycle[answer]{Client: client}, client: client, model: cfg.Model, categories: cats, selected: selected, prompt: cfg.Prompt,
		onServiceError: cfg.OnServiceError, maxTextBytes: cfg.MaxTextBytes}, nil
}
