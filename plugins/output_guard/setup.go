package outputguard

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/kindconfig"
)

// KindName is the kind's name in plugins[].kind.
const KindName = "output_guard"

// Strategies for a result longer than max_chars.
const (
	// StrategyTruncate cuts the text to max_chars, ending it with the ellipsis.
	StrategyTruncate = "truncate"
	// StrategyBlock refuses the result.
	StrategyBlock = "block"
)

// Config is the kind's settings (plugins[].config).
type Config struct {
	// MaxChars bounds the characters of a result's text; 0 means no limit.
	MaxChars int `yaml:"max_chars"`
	// MinChars is the fewest characters a result's text may have; 0 means
	// no minimum. A shorter result is always refused.
	MinChars int `yaml:"min_chars"`
	// Strategy is StrategyTruncate (default) or StrategyBlock.
	Strategy string `yaml:"strategy"`
	// Ellipsis ends truncated text and counts towards max_chars; "" for none.
	Ellipsis string `yaml:"ellipsis"`
	// WordBoundary moves a cut back to the last space or punctuation mark
	// within the final fifth of what is kept, so words are not split.
	WordBoundary bool `yaml:"word_boundary"`
}

// DefaultConfig returns the settings a plugin gets when its config says nothing.
func DefaultConfig() Config {
	return Config{Strategy: StrategyTruncate, Ellipsis: "…"}
}

func init() {
	framework.Register(framework.Kind{
		Name: KindName,
		Aliases: []string{
			"OutputLengthGuard",
			"plugins.output_length_guard.output_length_guard.OutputLengthGuardPlugin",
			"OutputLengthGuardPlugin",
			"cpex_output_length_guard.OutputLengthGuardPlugin",
			"cpex_output_length_guard.output_length_guard.OutputLengthGuardPlugin",
		},
		Description: "truncate or refuse tool results longer than max_chars, refuse those shorter than min_chars",
		Hooks:       []framework.HookType{framework.ToolPostInvoke},
		Defaults:    DefaultConfig(),
		New:         kindconfig.Factory(DefaultConfig, New),
		Inline:      true,
	})
}

// New checks cfg and builds a plugin from it. Errors name the offending key.
func New(cfg Config) (*Plugin, error) {
	strategy := strings.ToLower(strings.TrimSpace(cfg.Strategy))
	switch {
	case cfg.MaxChars < 0:
		return nil, fmt.Errorf("config.max_chars: must not be negative (0 means no limit), got %d", cfg.MaxChars)
	case cfg.MinChars < 0:
		return nil, fmt.Errorf("config.min_chars: must not be negative (0 means no minimum), got %d", cfg.MinChars)
	case cfg.MaxChars == 0 && cfg.MinChars == 0:
		return nil, errors.New("config: set max_chars, min_chars or both; with neither the plugin checks nothing")
	case cfg.MaxChars > 0 && cfg.MinChars > cfg.MaxChars:
		return nil, fmt.Errorf("config.min_chars: %d is greater than max_chars %d", cfg.MinChars, cfg.MaxChars)
	case strategy != StrategyTruncate && strategy != StrategyBlock:
		return nil, kindconfig.BadChoice("config.strategy", string(cfg.Strategy), "truncate", "block")
	}
	return &Plugin{
		max:          cfg.MaxChars,
		min:          cfg.MinChars,
		block:        strategy == StrategyBlock,
		ellipsis:     cfg.Ellipsis,
		wordBoundary: cfg.WordBoundary,
	}, nil
}
