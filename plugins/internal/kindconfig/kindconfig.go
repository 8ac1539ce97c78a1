// Package kindconfig builds the factory of a built-in plugin kind whose
// settings are a config struct with defaults and whose constructor checks
// them: the plugin's setup.go registers
//
//	New: kindconfig.Factory(DefaultConfig, New),
//
// It does not check settings or name the kind: that stays in each plugin.
package kindconfig

import (
	"fmt"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// Factory returns the framework.Factory of a kind: it decodes
// plugins[].config strictly over defaults() and builds the plugin with
// build, whose errors name the offending key ("config.words: …").
func Factory[C, P any](defaults func() C, build func(C) (P, error)) framework.Factory {
	return func(pc *framework.PluginConfig) (framework.Plugin, error) {
		cfg := defaults()
		if err := pc.DecodeConfig(&cfg); err != nil {
			return nil, err
		}
		return build(cfg)
	}
}

// NamedFactory is Factory for a kind whose constructor also takes the
// plugin's name (for its log records) and returns errors that name the key
// without the "config." prefix, which NamedFactory adds.
func NamedFactory[C, P any](defaults func() C, build func(name string, cfg C) (P, error)) framework.Factory {
	return func(pc *framework.PluginConfig) (framework.Plugin, error) {
		cfg := defaults()
		if err := pc.DecodeConfig(&cfg); err != nil {
			return nil, err
		}
		pl, err := build(pc.Name, cfg)
		if err != nil {
			return nil, fmt.Errorf("config.%w", err)
		}
		return pl, nil
	}
}
