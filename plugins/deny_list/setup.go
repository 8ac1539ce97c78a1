package denylist

import (
	"errors"
	"fmt"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/kindconfig"
)

// KindName is the kind's name in plugins[].kind.
const KindName = "deny_list"

// Match modes.
const (
	// MatchSubstring finds a word anywhere, inside longer words too.
	MatchSubstring = "substring"
	// MatchWord finds a word only where it is not part of a longer word:
	// the characters around it are not letters, digits, marks or '_'.
	MatchWord = "word"
)

// Config is the kind's settings (plugins[].config).
type Config struct {
	// Words are the denied words or phrases; at least one.
	Words []string `yaml:"words"`
	// Match is MatchSubstring (default) or MatchWord.
	Match string `yaml:"match"`
	// CaseSensitive compares exactly; by default case is ignored.
	CaseSensitive bool `yaml:"case_sensitive"`
}

// DefaultConfig returns the settings a plugin gets when its config says nothing.
func DefaultConfig() Config {
	return Config{Words: []string{}, Match: MatchSubstring}
}

func init() {
	framework.Register(framework.Kind{
		Name:        KindName,
		Aliases:     []string{"plugins.deny_filter.deny.DenyListPlugin", "plugins.deny_filter.DenyListPlugin", "DenyListPlugin"},
		Description: "refuse tool calls and prompts whose arguments contain a denied word",
		Hooks:       []framework.HookType{framework.PromptPreFetch, framework.ToolPreInvoke},
		Defaults:    DefaultConfig(),
		New:         kindconfig.Factory(DefaultConfig, New),
		Inline:      true,
	})
}

// New checks cfg and builds a plugin from it. Errors name the offending key.
func New(cfg Config) (*Plugin, error) {
	if len(cfg.Words) == 0 {
		return nil, errors.New("config.words: must list at least one word")
	}
	if cfg.Match != MatchSubstring && cfg.Match != MatchWord {
		return nil, kindconfig.BadChoice("config.match", string(cfg.Match), "substring", "word")
	}
	p := &Plugin{fold: !cfg.CaseSensitive, wholeWord: cfg.Match == MatchWord}
	for i, w := range cfg.Words {
		if w == "" {
			return nil, fmt.Errorf("config.words[%d]: must not be empty", i)
		}
		p.words = append(p.words, newWord(w, p.fold))
	}
	return p, nil
}
