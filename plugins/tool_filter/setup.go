package toolfilter

import (
	"errors"
	"fmt"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/kindconfig"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/listitems"
)

// KindName is the kind's name in plugins[].kind.
const KindName = "tool_filter"

// Config is the kind's settings (plugins[].config). Patterns are globs: '*'
// matches any run of characters, '?' exactly one; everything else matches
// itself, case-sensitively.
type Config struct {
	// Allow lists the tools that may be called; empty allows every tool
	// that Deny does not refuse.
	Allow []string `yaml:"allow"`
	// Deny lists tools that may not be called, whatever Allow says.
	Deny []string `yaml:"deny"`
	// HideDenied removes the tools a call would be refused for from
	// tools/list results.
	HideDenied bool `yaml:"hide_denied"`
}

// DefaultConfig returns the settings a plugin gets when its config says nothing.
func DefaultConfig() Config { return Config{Allow: []string{}, Deny: []string{}, HideDenied: true} }

func init() {
	framework.Register(framework.Kind{
		Name:        KindName,
		Description: "allow or refuse tools/call by tool name, with allow and deny glob lists; hides refused tools from tools/list",
		Hooks:       []framework.HookType{framework.ToolPreInvoke, framework.ToolsPostList},
		Defaults:    DefaultConfig(),
		New:         kindconfig.Factory(DefaultConfig, New),
		Inline:      true,
	})
}

// New checks cfg and builds a plugin from it. Errors name the offending key.
func New(cfg Config) (*Plugin, error) {
	if len(cfg.Allow) == 0 && len(cfg.Deny) == 0 {
		return nil, errors.New("config: set allow, deny or both; with neither the plugin would let every tool through")
	}
	for _, l := range []struct {
		key  string
		pats []string
	}{{"allow", cfg.Allow}, {"deny", cfg.Deny}} {
		for i, p := range l.pats {
			if p == "" {
				return nil, fmt.Errorf("config.%s[%d]: must not be empty", l.key, i)
			}
		}
	}
	return &Plugin{allow: cfg.Allow, deny: cfg.Deny, hideDenied: cfg.HideDenied, lists: listitems.NewListMemo[listOutcome](8 << 20)}, nil
}
