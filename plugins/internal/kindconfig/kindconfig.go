// Package kindconfig builds the factory of a built-in plugin kind whose
// settings are a config struct with defaults and whose constructor checks
// them: the plugin's setup.go registers
//
//	New: kindconfig.Factory(DefaultConfig, New),
//
// It does not check settings or name the kind: that stays in each plugin,
// with OneOf for the enum settings.
package kindconfig

import (
	"fmt"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// Factory returns the framework.Factory of a kind: it decodes
// plugins[].config strictly over defaults() and builds the plugin with
// build, whose errors name the offending key ("config.words: …").
func Factory[C, P any](defaults func() C, build func(C) (P, error)) framework.Factory {
	return NamedFactory(defaults, func(_ string, c C) (P, error) { return build(c) })
}

// NamedFactory is Factory for a kind whose plugin needs its name
// (plugins[].name), e.g. to keep its state apart from another plugin's of
// the same kind.
func NamedFactory[C, P any](defaults func() C, build func(name string, c C) (P, error)) framework.Factory {
	return func(pc *framework.PluginConfig) (framework.Plugin, error) {
		cfg := defaults()
		if err := pc.DecodeConfig(&cfg); err != nil {
			return nil, err
		}
		return build(pc.Name, cfg)
	}
}

// PositionedFactory is Factory for a kind whose checks go beyond decoding
// (compiling rules, reading the files its settings name): build gets the
// plugin's entry too, to report mistakes at their line
// (framework.PluginConfig.ConfigError) and find files (ResolvePath).
func PositionedFactory[C, P any](defaults func() C, build func(C, *framework.PluginConfig) (P, error)) framework.Factory {
	return func(pc *framework.PluginConfig) (framework.Plugin, error) {
		cfg := defaults()
		if err := pc.DecodeConfig(&cfg); err != nil {
			return nil, err
		}
		return build(cfg, pc)
	}
}

// BadChoice is the error every kind gives for an enum setting whose value
// got is none of choices: `KEY: "got" is not one of a, b`, with a "did you
// mean" when one choice is a likely misspelling of got. key is the
// setting's path as kinds write it (config.strategy). It always returns an
// error: the caller has found got invalid.
func BadChoice(key, got string, choices ...string) error {
	return fmt.Errorf("%s: %q is not one of %s%s", key, got, strings.Join(choices, ", "), framework.Suggest(got, choices))
}
