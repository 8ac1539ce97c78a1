package piifilter

import (
	"fmt"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// KindName is the kind's name in plugins[].kind.
const KindName = "pii_filter"

// hooks are the hooks the kind implements.
var hooks = []framework.HookType{
	framework.PromptPreFetch, framework.PromptPostFetch,
	framework.ToolPreInvoke, framework.ToolPostInvoke,
	framework.ResourcePostFetch,
}

func init() {
	framework.Register(framework.Kind{
		Name: KindName,
		Aliases: []string{
			"plugins.pii_filter.pii_filter.PIIFilterPlugin",
			"cpex_pii_filter.PIIFilterPlugin",
			"cpex_pii_filter.pii_filter.PIIFilterPlugin",
			"PIIFilterPlugin",
		},
		Description: "find PII (SSN, cards, e-mail, phone, IP, keys, custom patterns) in arguments, results and contents; mask it or block",
		Hooks:       hooks,
		Defaults:    DefaultConfig(),
		New:         newFromConfig,
		Inline:      true,
	})
}

// newFromConfig is the kind's factory: it decodes plugins[].config strictly
// over the defaults and builds the plugin.
func newFromConfig(pc *framework.PluginConfig) (framework.Plugin, error) {
	cfg := DefaultConfig()
	if err := pc.DecodeConfig(&cfg); err != nil {
		return nil, err
	}
	pl, err := New(pc.Name, cfg)
	if err != nil {
		return nil, fmt.Errorf("config.%w", err)
	}
	return pl, nil
}
