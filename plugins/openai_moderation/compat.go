package openaimoderation

import (
	"fmt"
	"sort"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/outbound"
)

// contentModerationConfig is the config of ContextForge's
// ContentModerationPlugin. Only its openai provider is this kind's: the
// others (IBM Watson, Granite, Azure, AWS) are other services.
type contentModerationConfig struct {
	Provider         string  `yaml:"provider"`
	FallbackProvider *string `yaml:"fallback_provider"`
	FallbackOnError  string  `yaml:"fallback_on_error"`
	OpenAI           *struct {
		APIKey  string  `yaml:"api_key"`
		APIBase string  `yaml:"api_base"`
		Model   string  `yaml:"model"`
		Timeout float64 `yaml:"timeout"`
	} `yaml:"openai"`
	// The other providers' blocks are accepted and unused.
	IBMWatson  map[string]any `yaml:"ibm_watson"`
	IBMGranite map[string]any `yaml:"ibm_granite"`
	Azure      map[string]any `yaml:"azure"`
	AWS        map[string]any `yaml:"aws"`
	Categories map[string]struct {
		Threshold      float64  `yaml:"threshold"`
		Action         string   `yaml:"action"`
		Providers      []string `yaml:"providers"`
		CustomPatterns []string `yaml:"custom_patterns"`
	} `yaml:"categories"`
	AuditDecisions          bool `yaml:"audit_decisions"`
	IncludeConfidenceScores bool `yaml:"include_confidence_scores"`
	EnableCaching           bool `yaml:"enable_caching"`
	CacheTTL                int  `yaml:"cache_ttl"`
	MaxTextLength           int  `yaml:"max_text_length"`
}

// contextForgeCategory maps ContextForge's categories to the OpenAI ones
// its openai provider reads; its other categories (spam, profanity, toxic)
// never fire with that provider, and do not here either.
var contextForgeCategory = map[string]string{
	"hate": "hate", "violence": "violence", "sexual": "sexual", "self_harm": "self-harm", "harassment": "harassment",
}

// contextForgeDefaultActions are ContextForge's default category actions.
var contextForgeDefaultActions = map[string]string{
	"hate": "block", "violence": "block", "self_harm": "block", "sexual": "warn", "harassment": "warn",
}

// fromContextForge builds the plugin from a ContentModerationPlugin entry,
// refusing what this kind cannot honour: another provider, a fallback
// provider, a redact or transform action on a category the openai
// provider reports.
func fromContextForge(pc *framework.PluginConfig) (framework.Plugin, error) {
	cf := contentModerationConfig{FallbackOnError: "warn", EnableCaching: true, CacheTTL: 3600}
	if err := pc.DecodeConfig(&cf); err != nil {
		return nil, err
	}
	if cf.Provider != "openai" {
		return nil, fmt.Errorf("config.provider: %q is not served by %s; only provider: openai is (use kind: external for the others): %w", cf.Provider, KindName, framework.ErrNotServed)
	}
	if cf.FallbackProvider != nil && *cf.FallbackProvider != "" {
		return nil, fmt.Errorf("config.fallback_provider: a fallback provider is not supported by %s: %w", KindName, framework.ErrNotServed)
	}
	if cf.OpenAI == nil || cf.OpenAI.APIKey == "" {
		return nil, fmt.Errorf("config.openai.api_key: required with provider: openai")
	}
	cfg := DefaultConfig()
	cfg.APIKeyEnv = ""
	if cf.OpenAI.APIBase != "" {
		cfg.BaseURL = cf.OpenAI.APIBase
	}
	cfg.Model = "text-moderation-latest" // ContextForge's default
	if cf.OpenAI.Model != "" {
		cfg.Model = cf.OpenAI.Model
	}
	if cf.OpenAI.Timeout > 0 {
		cfg.HTTP.Timeout = outbound.Seconds(cf.OpenAI.Timeout)
	}
	switch cf.FallbackOnError {
	case "block":
		cfg.OnServiceError = outbound.OnServiceErrorBlock
	case "warn", "":
		// ContextForge falls back to its own regular expressions; this kind
		// lets the message pass, with the skipped check in the metadata.
		cfg.OnServiceError = outbound.OnServiceErrorAllow
	default:
		return nil, fmt.Errorf("config.fallback_on_error: %q is not supported; use block or warn", cf.FallbackOnError)
	}
	if !cf.EnableCaching {
		cfg.HTTP.Cache.Size = 0
	} else if cf.CacheTTL > 0 {
		cfg.HTTP.Cache.TTL = outbound.Seconds(float64(cf.CacheTTL))
	}
	actions := contextForgeDefaultActions
	if len(cf.Categories) > 0 {
		actions = map[string]string{}
		for c, cc := range cf.Categories {
			actions[c] = cc.Action
			if cc.Action == "" {
				actions[c] = "warn"
			}
		}
	}
	block := map[string]bool{}
	names := make([]string, 0, len(actions))
	for c := range actions {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		oc, ok := contextForgeCategory[c]
		if !ok {
			continue
		}
		switch actions[c] {
		case "block":
			block[oc] = true
		case "warn":
		default:
			return nil, fmt.Errorf("config.categories.%s.action: %q cannot be honoured by %s (it blocks or warns, it does not rewrite): %w", c, actions[c], KindName, framework.ErrNotServed)
		}
	}
	auth := outbound.Auth{Type: outbound.AuthBearer}
	auth.SetToken(cf.OpenAI.APIKey)
	return build(pc.Name, cfg, auth, block)
}
