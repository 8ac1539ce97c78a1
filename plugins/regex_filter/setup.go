package regexfilter

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/kindconfig"
)

// KindName is the kind's name in plugins[].kind.
const KindName = "regex_filter"

// Config is the kind's settings (plugins[].config).
type Config struct {
	// Words are the rules, applied in order: each sees the output of the
	// one before it.
	Words []Rule `yaml:"words"`
}

// Rule replaces every match of Search with Replace.
type Rule struct {
	// Search is a Go (RE2) regular expression.
	Search string `yaml:"search"`
	// Replace is the replacement template: $1 or ${name} insert a group,
	// $$ a dollar sign. Empty deletes the match.
	Replace string `yaml:"replace"`
}

// DefaultConfig returns the settings a plugin gets when its config says nothing.
func DefaultConfig() Config { return Config{Words: []Rule{}} }

func init() {
	framework.Register(framework.Kind{
		Name: KindName,
		Aliases: []string{
			"search_replace",
			"plugins.regex_filter.search_replace.SearchReplacePlugin",
			"SearchReplacePlugin",
			"plugins.search_replace.SearchReplacePlugin",
		},
		Description: "rewrite every string of arguments and results with ordered regex search-and-replace rules",
		Hooks:       []framework.HookType{framework.PromptPreFetch, framework.PromptPostFetch, framework.ToolPreInvoke, framework.ToolPostInvoke},
		Defaults:    DefaultConfig(),
		New:         kindconfig.Factory(DefaultConfig, New),
		Inline:      true,
	})
}

// New checks cfg and builds a plugin from it. Errors name the offending key.
func New(cfg Config) (*Plugin, error) {
	if len(cfg.Words) == 0 {
		return nil, errors.New("config.words: must list at least one {search, replace} rule")
	}
	p := &Plugin{}
	for i, w := range cfg.Words {
		if w.Search == "" {
			return nil, fmt.Errorf("config.words[%d].search: must not be empty", i)
		}
		re, err := regexp.Compile(w.Search)
		if err != nil {
			return nil, fmt.Errorf("config.words[%d].search: %w", i, err)
		}
		p.rules = append(p.rules, rule{re: re, replace: w.Replace})
	}
	return p, nil
}
