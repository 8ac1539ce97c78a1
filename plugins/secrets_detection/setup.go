package secretsdetection

import (
	"fmt"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// KindName is the kind's name in plugins[].kind.
const KindName = "secrets_detection"

func init() {
	framework.Register(framework.Kind{
		Name: KindName,
		Aliases: []string{
			"plugins.secrets_detection.secrets_detection.SecretsDetectionPlugin",
			"SecretsDetection",
			"cpex_secrets_detection.SecretsDetectionPlugin",
			"cpex_secrets_detection.secrets_detection.SecretsDetectionPlugin",
		},
		Description: "find credentials (cloud, VCS, chat, payment and AI API keys, private keys, JWTs, custom patterns) in every hook's payload; block, redact or log",
		Hooks:       framework.ImplementedHooks((*Plugin)(nil)),
		Defaults:    DefaultConfig(),
		New:         newFromConfig,
		Inline:      true,
	})
}

// newFromConfig is the kind's factory: it decodes plugins[].config strictly
// over the defaults and builds the plugin.
func newFromConfig(pc *framework.PluginConfig) (framework.Plugin, error) {
	cfg := DefaultConfig()
	// Left empty so that New can tell an explicit action from ContextForge's
	// block_on_detection/redact (DefaultConfig's "block" is what an empty
	// one resolves to).
	cfg.Action = ""
	if err := pc.DecodeConfig(&cfg); err != nil {
		return nil, err
	}
	pl, err := New(pc.Name, cfg)
	if err != nil {
		return nil, fmt.Errorf("config.%w", err)
	}
	return pl, nil
}
